"""The annual report's charts measured by Chromium at 390 px: real font metrics, not an
estimate. Each chart is placed as the report page places it (an image at most 100% wide
in a card, in the page's margins), inline so its text can be measured: every label inside
the chart, no two overlapping, and no text under 11 px as shown (each text's size is in its
``style``, which ``getComputedStyle`` reads like any other)."""

from __future__ import annotations

import pytest

from tests.reports.test_report_charts import CHARTS

pytestmark = pytest.mark.browser

#: The report page's frame at 390 px: page margin, card padding and border, image border.
PAGE = """<!doctype html><html><head><style>
body {{ margin: 0; padding: 0 16px; font-family: system-ui, sans-serif; }}
.card {{ padding: 20px; border: 1px solid #ccc; }}
.card svg {{ max-width: 100%; height: auto; border: 1px solid #ccc; display: block; }}
</style></head><body><div class="card">{svg}</div></body></html>"""

MEASURE = """() => {
  const svg = document.querySelector('svg');
  const frame = svg.getBoundingClientRect();
  const scale = frame.width / svg.viewBox.baseVal.width;
  const texts = [...svg.querySelectorAll('text')].map(t => {
    const r = t.getBoundingClientRect();
    return {text: t.textContent, left: r.left, right: r.right, top: r.top, bottom: r.bottom,
            px: parseFloat(getComputedStyle(t).fontSize) * scale};
  });
  return {frame: {left: frame.left, right: frame.right, top: frame.top,
                  bottom: frame.bottom, width: frame.width},
          page: document.documentElement.scrollWidth, texts};
}"""


@pytest.mark.parametrize("name", CHARTS)
def test_each_chart_reads_at_390px_in_chromium(browser, name):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    data = CHARTS[name]().decode()
    svg = data[data.index("<svg") :]  # inline, so without the XML prolog and doctype
    page.set_content(PAGE.format(svg=svg))
    found = page.evaluate(MEASURE)
    page.close()
    frame, texts = found["frame"], found["texts"]
    assert found["page"] <= 390, f"{name}: the page is {found['page']} px wide"
    assert frame["width"] < 360, f"{name}: not shrunk to the card ({frame['width']} px)"
    assert texts
    for t in texts:
        assert t["px"] >= 11, f"{name}: {t['text']!r} is {t['px']:.1f} px"
        inside = (
            t["left"] >= frame["left"] - 0.5
            and t["right"] <= frame["right"] + 0.5
            and t["top"] >= frame["top"] - 0.5
            and t["bottom"] <= frame["bottom"] + 0.5
        )
        assert inside, f"{name}: {t['text']!r} runs out of the chart"
    for i, a in enumerate(texts):
        for b in texts[i + 1 :]:
            apart = (
                a["right"] <= b["left"] + 0.5
                or b["right"] <= a["left"] + 0.5
                or a["bottom"] <= b["top"] + 0.5
                or b["bottom"] <= a["top"] + 0.5
            )
            assert apart, f"{name}: {a['text']!r} overlaps {b['text']!r}"
