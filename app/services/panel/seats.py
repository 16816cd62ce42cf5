"""The panel's seats: who sits for which constituency, for what term, and the balance."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.models.panel import PanelMember
from app.models.user import User
from app.services import audit
from app.services import workflow_config as configs
from app.services.actors import Actor
from app.services.errors import ValidationFailed
from app.services.people import holders


def members(on: date | None = None) -> list[PanelMember]:
    rows = db.session.execute(
        select(PanelMember).join(PanelMember.user).order_by(PanelMember.constituency, User.name)
    ).scalars()
    return [m for m in rows if on is None or m.serves_on(on)]


def candidates() -> list[User]:
    """Who may be seated: active people holding the panel-member role, by name."""
    return list(db.session.execute(holders("panel_member").order_by(User.name)).scalars())


def member_by_id(member_id: int) -> PanelMember | None:
    """One seat of the district's panel, or None."""
    return db.session.execute(
        select(PanelMember).where(PanelMember.id == member_id)
    ).scalar_one_or_none()


def member_for(user: User) -> PanelMember | None:
    return db.session.execute(
        select(PanelMember).where(PanelMember.user_id == user.id)
    ).scalar_one_or_none()


def save_member(
    user: User,
    constituency: str,
    is_chair: bool,
    term_start: date | None,
    term_end: date | None,
    actor: Actor,
    *,
    alternate: bool = False,
) -> PanelMember:
    """Seat ``user`` (or change their seat). An alternate votes only in place of an absent
    or recused member of their constituency (see ``eligibility.eligible``) and never chairs."""
    panel = configs.current().panel
    errors: dict[str, list[str]] = {}
    if panel is None:
        errors["constituency"] = ["This program has no panel."]
    elif constituency not in panel.constituencies:
        errors["constituency"] = [f"Choose one of: {', '.join(panel.constituencies)}."]
    if "panel_member" not in user.roles:
        errors["user_id"] = [f"{user.name} does not hold the panel-member role."]
    if alternate and is_chair:
        errors["is_chair"] = ["An alternate cannot chair the panel: untick Chair or Alternate."]
    if errors:
        raise ValidationFailed(errors)
    row = member_for(user) or PanelMember(tenant_id=user.tenant_id, user_id=user.id)
    row.constituency, row.is_chair, row.is_alternate = constituency, is_chair, alternate
    row.term_start, row.term_end = term_start, term_end
    db.session.add(row)
    db.session.flush()
    audit.record(
        user.tenant_id,
        "panel.member_saved",
        "panel_member",
        row.id,
        after={
            "user_id": user.id,
            "constituency": constituency,
            "chair": is_chair,
            "alternate": alternate,
        },
        actor=actor,
    )
    return row


def balance(on: date | None = None) -> list[str]:
    """Where the panel differs from its rules: seats per constituency (alternates counted
    apart from the members who fill them), and the chair."""
    panel = configs.current().panel
    if panel is None:
        return []
    seated = members(on or date.today())
    notes = []
    for key, constituency in panel.constituencies.items():
        count = sum(1 for m in seated if m.constituency == key and not m.is_alternate)
        alternates = sum(1 for m in seated if m.constituency == key and m.is_alternate)
        if count != constituency.seats:
            also = f", {alternates} alternate{'' if alternates == 1 else 's'}" if alternates else ""
            notes.append(
                f"{constituency.label}: {count} members for {constituency.seats} seats{also}."
            )
    chairs = [m for m in seated if m.is_chair and not m.is_alternate]
    if not chairs:
        notes.append("No member is marked as chair.")
    elif panel.chair == "co_chairs":
        for key, constituency in panel.constituencies.items():
            if not any(m.constituency == key for m in chairs):
                notes.append(f"{constituency.label}: no co-chair is marked.")
    return notes
