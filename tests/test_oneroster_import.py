"""The roster from the district's system: a OneRoster 1.2 bundle fills the district's schools,
staff and roles, all or nothing, granting only the roles the program admin mapped."""

from __future__ import annotations

import io
import re
import zipfile
from html import unescape

import pytest
from sqlalchemy import func, select

from app.core import uow
from app.extensions import db
from app.models.audit import AuditEvent
from app.models.oneroster import OneRosterPerson, OneRosterRoleMapping
from app.models.roster import ConsultingTeacher
from app.models.user import User
from app.services import oneroster, oneroster_roles
from app.services.actors import Actor
from app.services.errors import ValidationFailed
from app.tenants.context import tenant_scope
from tests.casework import Browser, errors_beside

PAGE = "/admin/imports"

ORGS_HEADER = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"
USERS_HEADER = (
    "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,"
    "middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,"
    "userMasterIdentifier,resourceSourcedIds,preferredGivenName,preferredMiddleName,"
    "preferredFamilyName,primaryOrgSourcedId,pronouns\n"
)
ROLES_HEADER = (
    "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,"
    "orgSourcedId,userProfileSourcedId\n"
)
ENROLLMENTS_HEADER = (
    "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,"
    "primary,beginDate,endDate\n"
)
MANIFEST = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\n"

ORGS = (
    "dist,active,2026-08-01T00:00:00Z,Springfield Public Schools,district,D1,\n"
    "sch1,active,2026-08-01T00:00:00Z,Lincoln Elementary,school,S1,dist\n"
    "sch2,active,2026-08-01T00:00:00Z,Roosevelt High,school,S2,dist\n"
)


def user_line(
    sourced_id: str,
    given: str,
    family: str,
    email: str,
    *,
    status: str = "active",
    org: str = "",
) -> str:
    return (
        f"{sourced_id},{status},2026-08-01T00:00:00Z,true,{sourced_id},,{given},{family},,,"
        f"{email},,,,,,,,,,,{org},\n"
    )


USERS = (
    user_line("t1", "Ann", "Able", "ann.able@springfield.org", org="sch1")
    + user_line("t2", "Ben", "Baker", "ben.baker@springfield.org")
    + user_line("p1", "Carla", "Cruz", "carla.cruz@springfield.org")
    + user_line("a1", "Dan", "Diaz", "dan.diaz@springfield.org")
    + user_line("s1", "Sam", "Student", "")
)
ROLES = (
    "r1,active,,t1,primary,teacher,,,sch1,\n"
    "r2,active,,t2,primary,teacher,,,sch2,\n"
    "r3,active,,p1,primary,principal,,,sch2,\n"
    "r4,active,,a1,primary,aide,,,sch1,\n"
    "r5,active,,s1,primary,student,,,sch1,\n"
)
ENROLLMENTS = "e1,active,,c1,sch1,t1,teacher,true,,\ne2,active,,c1,sch1,s1,student,false,,\n"

MAPPING = {"teacher": "teacher", "principal": "principal"}


def bundle(**changes: str) -> dict[str, bytes]:
    """The good bundle, with any file replaced (``users="..."`` is users.csv's rows)."""
    files = {
        "manifest.csv": MANIFEST,
        "orgs.csv": ORGS_HEADER + changes.get("orgs", ORGS),
        "users.csv": USERS_HEADER + changes.get("users", USERS),
        "roles.csv": ROLES_HEADER + changes.get("roles", ROLES),
        "enrollments.csv": ENROLLMENTS_HEADER + changes.get("enrollments", ENROLLMENTS),
    }
    return {name: text.encode() for name, text in files.items()}


def zipped(files: dict[str, bytes], folder: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(folder + name, data)
    return buffer.getvalue()


@pytest.fixture
def springfield(district):
    return district("springfield", "boston_esp")


def _admin(d) -> Actor:
    return Actor.of(db.session.get(User, d.people["admin"].id))


def _map(app, d, mapping: dict[str, str]) -> None:
    with app.app_context(), tenant_scope(d.tenant.id):
        oneroster_roles.save_mapping(mapping, _admin(d))
        uow.commit()


def _import(app, d, files: dict[str, bytes]) -> oneroster.RosterResult:
    with app.app_context(), tenant_scope(d.tenant.id):
        result = oneroster.import_bundle(files, _admin(d))
        uow.commit()
        return result


def _refused(app, d, files: dict[str, bytes]) -> dict[str, list[str]]:
    with app.app_context(), tenant_scope(d.tenant.id):
        with pytest.raises(ValidationFailed) as refused:
            oneroster.import_bundle(files, _admin(d))
        uow.rollback()
        return refused.value.errors


def _people(app, d) -> dict[str, tuple[str, str | None, frozenset[str], bool]]:
    """Every account of the district: e-mail -> (name, school, roles, active)."""
    with app.app_context(), tenant_scope(d.tenant.id):
        return {
            u.email: (u.name, u.school, u.roles, u.active)
            for u in db.session.execute(select(User)).scalars()
        }


def _count(app, d, model) -> int:
    with app.app_context(), tenant_scope(d.tenant.id):
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_good_bundle_fills_the_roster(app, springfield):
    _map(app, springfield, MAPPING)
    before = _people(app, springfield)
    result = _import(app, springfield, bundle())
    assert (result.created, result.updated, result.roles_granted) == (3, 0, 3)
    people = _people(app, springfield)
    assert people["ann.able@springfield.org"] == (
        "Ann Able",
        "Lincoln Elementary",
        frozenset({"teacher"}),
        True,
    )
    assert people["ben.baker@springfield.org"][1:3] == ("Roosevelt High", frozenset({"teacher"}))
    assert people["carla.cruz@springfield.org"][1:3] == (
        "Roosevelt High",
        frozenset({"principal"}),
    )
    # The aide's role is not mapped, the student is not staff: neither gets an account.
    assert set(people) - set(before) == {
        "ann.able@springfield.org",
        "ben.baker@springfield.org",
        "carla.cruz@springfield.org",
    }
    assert _count(app, springfield, OneRosterPerson) == 3
    with app.app_context(), tenant_scope(springfield.tenant.id):
        event = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "import.oneroster")
        ).scalar_one()
        assert event.after["created"] == 3 and event.after["mapping"] == MAPPING


def test_a_re_import_updates_names_and_emails_without_adding_anyone(app, springfield):
    _map(app, springfield, MAPPING)
    _import(app, springfield, bundle())
    count = _count(app, springfield, User)
    again = _import(app, springfield, bundle())
    assert (again.created, again.updated, again.roles_granted) == (0, 0, 0)

    moved = USERS.replace(
        "Ann,Able,,,ann.able@springfield.org", "Ann,Ashe,,,ann.ashe@springfield.org"
    )
    result = _import(app, springfield, bundle(users=moved))
    assert (result.created, result.updated) == (0, 1)
    people = _people(app, springfield)
    assert _count(app, springfield, User) == count
    assert "ann.able@springfield.org" not in people
    assert people["ann.ashe@springfield.org"][:3] == (
        "Ann Ashe",
        "Lincoln Elementary",
        frozenset({"teacher"}),
    )


def test_an_account_found_by_email_gains_the_mapped_role_and_keeps_its_own(app, springfield):
    """The district's CT is a teacher in the district's system: she gains the teacher role,
    keeps the consulting-teacher role granted by hand, and is linked by her sourcedId."""
    _map(app, springfield, {"teacher": "teacher"})
    extra = user_line("t9", "Casey", "Teach", "ct@springfield.org")
    _import(
        app,
        springfield,
        bundle(users=USERS + extra, roles=ROLES + "r9,,,t9,primary,teacher,,,sch1,\n"),
    )
    name, school, roles, active = _people(app, springfield)["ct@springfield.org"]
    assert (name, school, roles, active) == (
        "Casey Teach",
        "Lincoln Elementary",
        frozenset({"teacher", "consulting_teacher"}),
        True,
    )
    with app.app_context(), tenant_scope(springfield.tenant.id):
        link = db.session.execute(
            select(OneRosterPerson).where(OneRosterPerson.sourced_id == "t9")
        ).scalar_one()
        assert link.user_id == springfield.people["ct"].id


def test_an_unmapped_role_grants_nothing(app, springfield):
    before = _people(app, springfield)
    result = _import(app, springfield, bundle())
    assert (result.created, result.roles_granted) == (0, 0)
    assert _people(app, springfield) == before
    # Nor to an account that exists: the principal is an aide in the district's system.
    _map(app, springfield, {"teacher": "teacher"})
    aide = user_line("a2", "Pat", "Principal", "principal@springfield.org")
    _import(
        app, springfield, bundle(users=USERS + aide, roles=ROLES + "r9,,,a2,primary,aide,,,sch1,\n")
    )
    assert _people(app, springfield)["principal@springfield.org"][2] == frozenset({"principal"})


def test_mapped_roles_are_granted_and_a_consulting_teacher_joins_the_roster(app, springfield):
    _map(app, springfield, {"teacher": "consulting_teacher", "principal": "principal"})
    _import(app, springfield, bundle())
    people = _people(app, springfield)
    assert people["ann.able@springfield.org"][2] == frozenset({"consulting_teacher"})
    assert people["carla.cruz@springfield.org"][2] == frozenset({"principal"})
    with app.app_context(), tenant_scope(springfield.tenant.id):
        on_roster = {
            ct.user.email for ct in db.session.execute(select(ConsultingTeacher)).scalars()
        }
    assert {"ann.able@springfield.org", "ben.baker@springfield.org"} <= on_roster
    # A mapping changed later adds the new role; the role granted before stays.
    _map(app, springfield, {"teacher": "teacher"})
    _import(app, springfield, bundle())
    assert _people(app, springfield)["ann.able@springfield.org"][2] == frozenset(
        {"consulting_teacher", "teacher"}
    )


def test_no_mapping_grants_the_program_admin_or_final_authority_role(app, springfield):
    with app.app_context(), tenant_scope(springfield.tenant.id):
        for role in ("program_admin", "final_authority"):
            with pytest.raises(ValidationFailed) as refused:
                oneroster_roles.save_mapping({"districtAdministrator": role}, _admin(springfield))
            assert (
                "program administrator or final authority"
                in refused.value.errors["districtAdministrator"][0]
            )
        uow.rollback()
    assert _count(app, springfield, OneRosterRoleMapping) == 0


def test_errors_are_named_by_file_line_and_column_and_nothing_is_written(app, springfield):
    _map(app, springfield, MAPPING)
    before = _people(app, springfield)
    events = _count(app, springfield, AuditEvent)
    users = USERS.replace("ben.baker@springfield.org", "ben.baker@") + user_line(
        "t3", "Cy", "Cole", ""
    )
    roles = ROLES + "r9,,,t3,primary,teacher,,,sch1,\nr10,,,ghost,primary,teacher,,,sch1,\n"
    orgs = ORGS + "sch1,active,,Lincoln Again,school,,dist\n"
    enrollments = ENROLLMENTS + "e3,active,,c1,sch1,t1,janitor,false,,\n"
    errors = _refused(
        app, springfield, bundle(users=users, roles=roles, orgs=orgs, enrollments=enrollments)
    )
    assert "is not a valid e-mail address" in errors["users.csv:rows[3].email"][0]
    assert "is required for staff" in errors["users.csv:rows[7].email"][0]
    assert errors["roles.csv:rows[8].userSourcedId"] == ["'ghost' is not in users.csv"]
    assert errors["orgs.csv:rows[5].sourcedId"] == ["'sch1' is also on line 3"]
    assert "'janitor' is not a OneRoster role" in errors["enrollments.csv:rows[4].role"][0]
    assert _people(app, springfield) == before
    assert _count(app, springfield, AuditEvent) == events
    assert _count(app, springfield, OneRosterPerson) == 0


def test_a_bundle_that_names_an_unknown_org_is_refused(app, springfield):
    _map(app, springfield, MAPPING)
    roles = ROLES.replace(
        "r2,active,,t2,primary,teacher,,,sch2,", "r2,active,,t2,primary,teacher,,,sch9,"
    )
    enrollments = ENROLLMENTS.replace("e1,active,,c1,sch1,", "e1,active,,c1,nowhere,")
    errors = _refused(app, springfield, bundle(roles=roles, enrollments=enrollments))
    assert errors == {
        "roles.csv:rows[3].orgSourcedId": ["'sch9' is not in orgs.csv"],
        "enrollments.csv:rows[2].schoolSourcedId": ["'nowhere' is not in orgs.csv"],
    }
    assert _count(app, springfield, OneRosterPerson) == 0


def test_a_bundle_of_another_version_or_missing_files_is_refused(app, springfield):
    files = bundle()
    files["manifest.csv"] = b"propertyName,value\noneroster.version,1.1\n"
    assert "Parley reads 1.2" in _refused(app, springfield, files)["manifest.csv:rows[2].value"][0]
    files = {
        k: v for k, v in bundle().items() if k not in ("orgs.csv", "enrollments.csv", "roles.csv")
    }
    assert _refused(app, springfield, files)["bundle"] == [
        "The bundle has no orgs.csv, enrollments.csv."
    ]
    files = bundle()
    files["users.csv"] = b"sourcedId,givenName\nx,y\n"
    assert (
        "Missing column: status, familyName, email."
        in _refused(app, springfield, files)["users.csv"][0]
    )


def test_to_be_deleted_disables_a_linked_account_and_adds_nobody(app, springfield):
    _map(app, springfield, MAPPING)
    _import(app, springfield, bundle())
    gone = (
        USERS.replace("t2,active,", "t2,tobedeleted,")
        + user_line("t7", "Gil", "Gone", "gil.gone@springfield.org", status="tobedeleted")
        # The principal account found by e-mail but never linked is not disabled by a delta.
        + user_line("x1", "Pat", "Principal", "principal@springfield.org", status="tobedeleted")
    )
    # A role marked to be deleted grants nothing, even where the mapping names it.
    roles = (
        ROLES
        + "r7,tobedeleted,,t7,primary,teacher,,,sch1,\n"
        + "r8,tobedeleted,,a1,secondary,principal,,,sch1,\n"
    )
    result = _import(app, springfield, bundle(users=gone, roles=roles))
    assert (result.created, result.disabled) == (0, 1)
    people = _people(app, springfield)
    assert people["ben.baker@springfield.org"][2:] == (frozenset({"teacher"}), False)
    assert "gil.gone@springfield.org" not in people and "dan.diaz@springfield.org" not in people
    assert people["principal@springfield.org"][3] is True


def test_a_zip_with_a_folder_reads_like_the_files(app, springfield):
    _map(app, springfield, MAPPING)
    with app.app_context(), tenant_scope(springfield.tenant.id):
        shown = oneroster.plan_upload(zipped(bundle(), folder="export-2026/")).preview()
        assert (shown.total, shown.created, shown.not_imported, shown.ignored) == (4, 3, 1, 1)
        assert shown.schools == ("Lincoln Elementary", "Roosevelt High")
        with pytest.raises(ValidationFailed) as refused:
            oneroster.plan_upload(b"PK\x03\x04 not really a zip")
        assert "not a zip archive" in refused.value.errors["bundle"][0]


def test_one_district_s_mapping_grants_nothing_in_another(app, springfield, district):
    other = district("shelbyville", "boston_esp")
    _map(app, springfield, MAPPING)
    result = _import(app, other, bundle())
    assert result.created == 0
    assert _count(app, other, OneRosterPerson) == 0


# The page: map the roles, upload, preview, import.


def _bundle_rows(page: str) -> list[tuple[str, str, str, str]]:
    start = page.index('id="import-errors-heading"')
    body = page[page.index("<tbody>", start) : page.index("</tbody>", start)]
    rows = re.findall(
        r"<tr>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>", body, re.S
    )
    return [tuple(unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in row) for row in rows]


def _token(page: str) -> str:
    match = re.search(r'name="upload" type="hidden" value="([^"]+)"', page) or re.search(
        r'type="hidden" name="upload" value="([^"]+)"', page
    )
    assert match, "the page offers no import of the preview"
    return match.group(1)


def test_the_page_maps_roles_previews_a_bundle_and_imports_it(app, springfield):
    admin = Browser(app, springfield, springfield.people["admin"])
    page = admin.get(PAGE).text
    assert "Roles from the district's system (OneRoster)" in page
    assert "program administrator or the final authority" in page

    refused = admin.post(PAGE, PAGE, {"mapping_form": "1", "teacher": "program_admin"})
    assert refused.status_code == 400
    assert "Not a valid choice" in errors_beside(refused.text, "teacher")
    assert _count(app, springfield, OneRosterRoleMapping) == 0

    saved = admin.post(
        PAGE, PAGE, {"mapping_form": "1", "teacher": "teacher", "principal": "principal"}
    )
    assert saved.status_code == 302
    assert "role mapping is saved" in admin.client.get(saved.location).text
    with app.app_context(), tenant_scope(springfield.tenant.id):
        assert oneroster_roles.mapping() == MAPPING
        assert db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "oneroster.mapping_saved")
        ).scalar_one().after == {"mapping": MAPPING}

    form = {"kind": "oneroster", "file": (io.BytesIO(zipped(bundle())), "roster.zip")}
    preview = admin.post(PAGE, PAGE, form, content_type="multipart/form-data")
    assert preview.status_code == 200, preview.text
    facts = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", preview.text))
    assert (facts["Staff in the bundle"], facts["New people"], facts["Roles granted"]) == (
        "4",
        "3",
        "3",
    )
    assert "Ann Able" in preview.text and "not added: no mapped role" in preview.text
    assert _count(app, springfield, OneRosterPerson) == 0, "a preview writes nobody"

    done = admin.post(PAGE, f"{PAGE}/apply", {"upload": _token(preview.text)})
    assert done.status_code == 302
    assert (
        "Imported the roster: 3 new and 0 updated people, 3 roles granted."
        in admin.client.get(done.location).text
    )
    assert _count(app, springfield, OneRosterPerson) == 3
    assert _people(app, springfield)["ann.able@springfield.org"][2] == frozenset({"teacher"})


def test_the_page_takes_the_csv_files_chosen_together(app, springfield):
    _map(app, springfield, MAPPING)
    admin = Browser(app, springfield, springfield.people["admin"])
    files = [(io.BytesIO(data), name) for name, data in bundle().items()]
    preview = admin.post(
        PAGE, PAGE, {"kind": "oneroster", "file": files}, content_type="multipart/form-data"
    )
    assert preview.status_code == 200, preview.text
    assert "Preview of oneroster.zip" in preview.text
    done = admin.post(PAGE, f"{PAGE}/apply", {"upload": _token(preview.text)})
    assert done.status_code == 302
    assert _count(app, springfield, OneRosterPerson) == 3


def test_the_page_shows_a_refused_bundle_by_file_line_and_column(app, springfield):
    _map(app, springfield, MAPPING)
    admin = Browser(app, springfield, springfield.people["admin"])
    users = USERS.replace("ben.baker@springfield.org", "not-an-address")
    form = {"kind": "oneroster", "file": (io.BytesIO(zipped(bundle(users=users))), "roster.zip")}
    response = admin.post(PAGE, PAGE, form, content_type="multipart/form-data")
    assert response.status_code == 422, response.text
    rows = _bundle_rows(response.text)
    assert [r[:3] for r in rows] == [("users.csv", "3", "email")]
    assert "nothing was written" in response.text and 'name="upload"' not in response.text
    assert _count(app, springfield, OneRosterPerson) == 0


def test_a_preview_made_under_another_mapping_is_not_imported(app, springfield):
    _map(app, springfield, MAPPING)
    admin = Browser(app, springfield, springfield.people["admin"])
    form = {"kind": "oneroster", "file": (io.BytesIO(zipped(bundle())), "roster.zip")}
    preview = admin.post(PAGE, PAGE, form, content_type="multipart/form-data")
    _map(app, springfield, {"teacher": "principal", "principal": "teacher"})
    response = admin.post(PAGE, f"{PAGE}/apply", {"upload": _token(preview.text)})
    assert response.status_code == 409
    assert "would now write something else" in errors_beside(response.text, "file")
    assert _count(app, springfield, OneRosterPerson) == 0


def test_a_zip_member_compressed_in_an_unknown_way_is_refused_by_name():
    from app.services import oneroster_bundle

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("orgs.csv", "sourcedId,status,name,type\n")
    data = bytearray(buffer.getvalue())
    # The compression method of the local header (offset 8) and of the central directory's
    # entry (offset 10) set to one no zip reader knows.
    local = data.index(b"PK\x03\x04")
    central = data.index(b"PK\x01\x02")
    data[local + 8 : local + 10] = (99).to_bytes(2, "little")
    data[central + 10 : central + 12] = (99).to_bytes(2, "little")
    with pytest.raises(ValidationFailed) as refused:
        oneroster_bundle.files_of_zip(bytes(data))
    assert refused.value.errors == {
        "bundle": ["orgs.csv is compressed in a way Parley cannot read: zip it again."]
    }


# The command line: the same plan and write as the imports page


def _cli(app, *args: str):
    from click.testing import CliRunner

    with app.app_context():
        return CliRunner().invoke(app.cli, ["import", "oneroster", *args])


def test_the_command_line_checks_then_imports_a_bundle(app, springfield, tmp_path):
    _map(app, springfield, MAPPING)
    before = _people(app, springfield)
    archive = tmp_path / "springfield-roster.zip"
    archive.write_bytes(zipped(bundle()))

    dry = _cli(app, "--tenant", "springfield", "--dry-run", str(archive))
    assert dry.exit_code == 0, dry.output
    assert "Would add 3, update 0, disable 0 and grant 3 roles" in dry.output
    assert _people(app, springfield) == before

    done = _cli(app, "--tenant", "springfield", str(archive))
    assert done.exit_code == 0, done.output
    assert "Added 3, updated 0, disabled 0 and granted 3 roles in springfield" in done.output
    assert len(_people(app, springfield)) == len(before) + 3
    with app.app_context(), tenant_scope(springfield.tenant.id):
        event = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "import.oneroster")
        ).scalar_one()
    assert event.after["file"] == "springfield-roster.zip"
    assert event.actor_label.startswith("OneRoster import by ")


def test_the_command_line_names_every_error_and_writes_nothing(app, springfield, tmp_path):
    _map(app, springfield, MAPPING)
    before = _people(app, springfield)
    archive = tmp_path / "bad.zip"
    users = USERS.replace("ben.baker@springfield.org", "ben.baker@")
    archive.write_bytes(zipped(bundle(users=users)))
    refused = _cli(app, "--tenant", "springfield", str(archive))
    assert refused.exit_code == 1
    assert "error: users.csv:rows[3].email:" in refused.output
    assert _people(app, springfield) == before
    assert _count(app, springfield, OneRosterPerson) == 0
