"""Case endpoints: the same services as the case pages."""

from __future__ import annotations

from flask_login import current_user

from app.blueprints.api import bp
from app.blueprints.api.helpers import load, load_args, page_body
from app.blueprints.api.schemas.cases import (
    ActionOptionSchema,
    ActionRequestSchema,
    AppealStateSchema,
    CaseDetailSchema,
    CaseFilterSchema,
    CaseOpenSchema,
    CasePageSchema,
)
from app.blueprints.api.spec import documented
from app.blueprints.loading import case_or_404, paginate, user_or_404
from app.services import appeals, case_lists, cases
from app.services.actors import current_actor


def _detail(case) -> dict:
    from app.services import workflow_config as configs
    from app.services.case_permissions import sections

    body = CaseDetailSchema().dump(case)
    body["actions"] = ActionOptionSchema(many=True).dump(cases.options(case, current_user.user))
    appeal = appeals.for_page(case, current_user.user)
    body["appeal"] = AppealStateSchema().dump(appeal) if appeal is not None else None
    track = configs.config_of(case.workflow_version).tracks[case.track_key]
    if not sections(case, current_user.user, track.shared_with_principal).recommendation:
        for field in ("recommended_rating", "panel_rating", "final_rating"):
            body.pop(field, None)
    return body


@bp.get("/t/<tenant_slug>/cases")
@documented(
    "The cases you may see, newest first, a page at a time; filters: track, state, ct_id, "
    "school, year (enrolled), open, under_appeal",
    query=CaseFilterSchema,
    response=CasePageSchema,
)
def cases_list():
    args = load_args(CaseFilterSchema())
    args.pop("page")  # read by the pager
    page = paginate(
        case_lists.filtered(current_user.user, case_lists.CaseFilters(**args), every_deadline=True)
    )
    return CasePageSchema().dump(page_body(page))


@bp.post("/t/<tenant_slug>/cases")
@documented(
    "Open a case for a teacher in a track",
    body=CaseOpenSchema,
    response=CaseDetailSchema,
    status=201,
)
def case_open():
    data = load(CaseOpenSchema())
    teacher = user_or_404(data["teacher_id"])
    principal = user_or_404(data["principal_id"]) if data["principal_id"] else None
    case = cases.open_case(
        teacher=teacher,
        track_key=data["track"],
        school=data["school"],
        latest_rating=data["latest_rating"],
        principal=principal,
        actor=current_actor(),
    )
    return _detail(case), 201


@bp.get("/t/<tenant_slug>/cases/<int:case_id>")
@documented("One case, with the actions you may take on it", response=CaseDetailSchema)
def case_get(case_id: int):
    return _detail(case_or_404(case_id))


@bp.post("/t/<tenant_slug>/cases/<int:case_id>/transitions")
@documented(
    "Take a workflow action; 409 lists every reason it is refused",
    body=ActionRequestSchema,
    response=CaseDetailSchema,
)
def case_act(case_id: int):
    case = case_or_404(case_id)
    data = load(ActionRequestSchema())
    cases.apply(case, data["action"], current_user.user, data["payload"])
    return _detail(case)
