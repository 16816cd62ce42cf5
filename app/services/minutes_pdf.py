"""The minutes of a panel session as a PDF (ReportLab), built by a job and kept per tenant."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from app.services.panel.minutes import Minutes


def render(minutes: Minutes, district: str) -> bytes:
    """The same content as the minutes page: attendance, recusals, decisions and tallies."""
    styles = getSampleStyleSheet()
    session = minutes.session
    story = [
        Paragraph(
            escape(f"{district}: panel session of {session.meets_on.isoformat()}"), styles["Title"]
        ),
        Paragraph(
            escape(
                "Present: " + (", ".join(m.listed_as for m in minutes.present) or "nobody recorded")
            ),
            styles["Normal"],
        ),
        Paragraph(
            escape("Absent: " + (", ".join(m.listed_as for m in minutes.absent) or "nobody")),
            styles["Normal"],
        ),
        Spacer(1, 0.2 * inch),
    ]
    for entry in minutes.items:
        story.append(
            Paragraph(
                escape(f"Case {entry.case_id}: {entry.teacher} ({entry.track})"), styles["Heading2"]
            )
        )
        if entry.recused:
            story.append(
                Paragraph(
                    escape(
                        "Recused: "
                        + ", ".join(f"{name} ({words})" for name, words in entry.recused)
                    ),
                    styles["Normal"],
                )
            )
        item = entry.item
        if item.status == "closed":
            tally = ", ".join(f"{label} {count}" for label, count in entry.tally)
            story.append(
                Paragraph(
                    escape(
                        f"{entry.decision}. "
                        f"Tally: {tally}; {item.votes_needed} needed. {item.rule_text}"
                    ),
                    styles["Normal"],
                )
            )
            if entry.public_ballots:
                story.append(
                    Paragraph(
                        escape(
                            "Ballots: "
                            + "; ".join(f"{m.listed_as}: {o}" for m, o in entry.public_ballots)
                        ),
                        styles["Normal"],
                    )
                )
        else:
            story.append(Paragraph("The vote is open.", styles["Normal"]))
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=letter, title="Panel minutes").build(story)
    return buffer.getvalue()
