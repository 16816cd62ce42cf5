"""A year's participant survey as the annual report reads it: its questionnaire and its
answers, one by one (:class:`SurveyRecord`) or counted (:class:`SurveyCounts`, as the
database counts them). Pure, like ``app.reports.annual``: inconsistent data is refused
at construction, so the report never silently drops an answer it cannot place."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["SurveyCounts", "SurveyRecord"]


def _check_questionnaire(
    key: str,
    sent: int,
    statements: Sequence[tuple[str, str]],
    scale: Sequence[str],
    agree_keys: frozenset[str],
) -> None:
    if sent < 0:
        raise ValueError(f"survey {key!r}: sent must not be negative, got {sent}")
    statement_keys = [statement for statement, _ in statements]
    if len(set(statement_keys)) != len(statement_keys):
        raise ValueError(f"survey {key!r}: statement keys repeat: {statement_keys}")
    if len(set(scale)) != len(scale):
        raise ValueError(f"survey {key!r}: scale keys repeat: {list(scale)}")
    if not agree_keys <= set(scale):
        unknown = sorted(agree_keys - set(scale))
        raise ValueError(f"survey {key!r}: agree keys not on the scale: {unknown}")


@dataclass(frozen=True)
class SurveyCounts:
    """One year's participant questionnaire and how its responses answered it, counted.

    ``counts`` maps a statement key to how many responses gave each scale key (a scale
    key no one gave may be missing; a statement left unanswered is in no count). The
    database counts a year's answers this way without handing each one over. Like
    :class:`SurveyRecord`, inconsistent counts are refused at construction.
    """

    key: str
    title: str
    sent: int
    statements: tuple[tuple[str, str], ...]
    scale: tuple[str, ...]
    agree_keys: frozenset[str]
    responses: int
    counts: Mapping[str, Mapping[str, int]]
    comments: tuple[str, ...]

    def __post_init__(self) -> None:
        _check_questionnaire(self.key, self.sent, self.statements, self.scale, self.agree_keys)
        if self.responses < 0:
            raise ValueError(f"survey {self.key!r}: responses must not be negative")
        known, scale = {key for key, _ in self.statements}, set(self.scale)
        for statement, given in self.counts.items():
            if statement not in known:
                raise ValueError(
                    f"survey {self.key!r}: a response answers unknown statement {statement!r}"
                )
            for value, count in given.items():
                if value not in scale:
                    raise ValueError(
                        f"survey {self.key!r}: a response answers {statement!r} with "
                        f"{value!r}, not on the scale {list(self.scale)}"
                    )
                if count < 0:
                    raise ValueError(f"survey {self.key!r}: counts must not be negative")
            if sum(given.values()) > self.responses:
                raise ValueError(
                    f"survey {self.key!r}: {statement!r} has more answers than responses"
                )


@dataclass(frozen=True)
class SurveyRecord:
    """One year's participant questionnaire and its responses.

    ``scale`` lists the scale keys strongest agreement first; ``agree_keys``
    says which of them count as agreement. Each answer maps a statement key to
    a scale key; a statement missing from an answer was left unanswered.
    Inconsistent data is refused here, at construction, so the report never
    silently drops an answer it cannot place.
    """

    key: str
    title: str
    sent: int
    statements: tuple[tuple[str, str], ...]
    scale: tuple[str, ...]
    agree_keys: frozenset[str]
    answers: tuple[Mapping[str, str], ...]
    comments: tuple[str, ...]

    def __post_init__(self) -> None:
        _check_questionnaire(self.key, self.sent, self.statements, self.scale, self.agree_keys)
        known, scale = {key for key, _ in self.statements}, set(self.scale)
        for number, answer in enumerate(self.answers, start=1):
            for statement, value in answer.items():
                if statement not in known:
                    raise ValueError(
                        f"survey {self.key!r}: response {number} answers unknown "
                        f"statement {statement!r}"
                    )
                if value not in scale:
                    raise ValueError(
                        f"survey {self.key!r}: response {number} answers {statement!r} "
                        f"with {value!r}, not on the scale {list(self.scale)}"
                    )

    def counted(self) -> SurveyCounts:
        """The same survey with its answers counted, as the report reads it."""
        counts: dict[str, dict[str, int]] = {}
        for answer in self.answers:
            for statement, value in answer.items():
                given = counts.setdefault(statement, {})
                given[value] = given.get(value, 0) + 1
        return SurveyCounts(
            key=self.key,
            title=self.title,
            sent=self.sent,
            statements=self.statements,
            scale=self.scale,
            agree_keys=self.agree_keys,
            responses=len(self.answers),
            counts=counts,
            comments=self.comments,
        )
