"""The HTML forms people can see, found by walking the pages, and what a post leaves behind.

``forms_in`` reads a page's ``<form method=post>`` elements the way a browser would submit
them; ``FormWalk`` signs a person in, walks every HTML page of the district under the URL
map (with each of the district's own ids) and keeps the forms that post to one endpoint
(or, for a POST route no page offers a form for, reads the fields from the ``FlaskForm``
its handler builds); ``trace`` is the fingerprint of every row of every table (as the
owner, so row-level security hides nothing) and of every file under the upload folder,
for the check that a refused post left no trace; ``Template`` keeps a seeded database to
put back before each test. ``encode`` builds a raw request body, so a value may be bytes
that are not UTF-8.

Reading every table as the owner assumes the owner bypasses row-level security, as the
suite's PostgreSQL superuser does (``conftest`` truncates as the same owner).
"""

from __future__ import annotations

import inspect
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote_from_bytes, urlsplit

from flask import Flask, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select, text
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

from app.extensions import db
from app.tenants.context import tenant_scope
from app.tenants.resolution import SLUG_ARG
from tests.routes import NATURAL_KEYS, calls, id_models, object_args, sign_in

#: Pages that are files, images or a hop to another site: no form there.
_NOT_PAGES = (".csv", ".svg", ".pdf", "/file", "/download", "theme.css", "/sso/")
#: Path segments of ``/t/<tenant_slug>`` (the empty one before the first slash included).
_TENANT_DEPTH = 3
#: Rows walked per id argument (every user's page carries the same forms).
_IDS_PER_ARG = 12


@dataclass(frozen=True)
class Field:
    """One control: ``value`` is what a browser sends for it untouched."""

    name: str
    kind: str  # the input's type, "select", "textarea" or "button"
    value: str = ""
    options: tuple[str, ...] = ()
    multiple: bool = False
    checked: bool = False


@dataclass(frozen=True)
class Form:
    page: str
    action: str
    multipart: bool
    fields: tuple[Field, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.name for f in self.fields))

    def controls(self, name: str) -> list[Field]:
        return [f for f in self.fields if f.name == name]

    def untouched(self) -> list[tuple[str, str]]:
        """What a browser sends when the form is submitted as shown (first button)."""
        sent: list[tuple[str, str]] = []
        button = next((f for f in self.fields if f.kind in ("button", "submit")), None)
        for f in self.fields:
            if f.kind in ("checkbox", "radio") and not f.checked:
                continue
            if f.kind in ("button", "submit", "image", "reset") and f is not button:
                continue
            if f.kind == "file":
                continue
            sent.append((f.name, f.value))
        return sent


class _FormParser(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self._form: dict | None = None
        self._select: dict | None = None
        self._option: dict | None = None
        self._textarea: dict | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                action = a.get("action") or self.page
                multipart = a.get("enctype", "").lower() == "multipart/form-data"
                self._form = {"action": action, "multipart": multipart, "fields": []}
            return
        if self._form is None:
            return
        if tag == "option":
            if self._select is not None:
                self._option = {"value": a.get("value"), "text": "", "selected": "selected" in a}
            return
        if not a.get("name"):
            return
        fields = self._form["fields"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            value = a.get("value", "on" if kind in ("checkbox", "radio") else "")
            fields.append(Field(a["name"], kind, value, checked="checked" in a))
        elif tag == "button":
            if a.get("type", "submit").lower() == "submit":
                fields.append(Field(a["name"], "button", a.get("value", "")))
        elif tag == "select":
            self._select = {"name": a["name"], "multiple": "multiple" in a, "options": []}
        elif tag == "textarea":
            self._textarea = {"name": a["name"], "text": ""}

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option["text"] += data
        elif self._textarea is not None:
            self._textarea["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "option" and self._option is not None and self._select is not None:
            option = self._option
            value = option["value"] if option["value"] is not None else option["text"].strip()
            self._select["options"].append((value, option["selected"]))
            self._option = None
        elif tag == "select" and self._select is not None:
            self._end_select()
        elif tag == "textarea" and self._textarea is not None:
            text_ = self._textarea["text"].removeprefix("\n")
            self._form["fields"].append(Field(self._textarea["name"], "textarea", text_))
            self._textarea = None
        elif tag == "form" and self._form is not None:
            f = self._form
            self.forms.append(Form(self.page, f["action"], f["multipart"], tuple(f["fields"])))
            self._form = None

    def _end_select(self) -> None:
        s = self._select
        self._select = None
        if self._form is None:
            return
        options = tuple(v for v, _ in s["options"])
        chosen = [v for v, selected in s["options"] if selected]
        if not chosen and options and not s["multiple"]:
            chosen = [options[0]]
        fields = self._form["fields"]
        if not chosen:  # a multiple select with nothing chosen sends nothing
            fields.append(Field(s["name"], "select", "", options, s["multiple"], checked=False))
        for value in chosen:
            fields.append(Field(s["name"], "select", value, options, s["multiple"], checked=True))


def forms_in(html: str, page: str) -> list[Form]:
    """The POST forms of a page, with their actions as paths."""
    parser = _FormParser(page)
    parser.feed(html)
    parser.close()
    return [
        Form(f.page, urlsplit(f.action).path or urlsplit(page).path, f.multipart, f.fields)
        for f in parser.forms
    ]


def endpoint_of(app: Flask, path: str) -> tuple[str, dict] | None:
    """The endpoint a POST to ``path`` reaches, and its URL arguments."""
    try:
        return app.url_map.bind("localhost").match(path, method="POST")
    except HTTPException:
        return None


def form_endpoints(app: Flask) -> list[str]:
    """Every endpoint an HTML form of a district may post to: no API, webhook or platform."""
    found = {
        c.endpoint
        for c in calls(app)
        if c.method == "POST" and c.rule.rule.startswith(f"/t/<{SLUG_ARG}>/")
    }
    return sorted(found)


def _html_rules(app: Flask) -> list[Rule]:
    return [
        c.rule
        for c in calls(app)
        if c.method == "GET"
        and c.rule.rule.startswith(f"/t/<{SLUG_ARG}>/")
        and not any(part in c.rule.rule for part in _NOT_PAGES)
    ]


def _common_prefix(a: str, b: str) -> int:
    """How many leading path segments two rules share."""
    shared = 0
    for x, y in zip(a.split("/"), b.split("/"), strict=False):
        if x != y:
            break
        shared += 1
    return shared


def id_choices(rule: Rule, natural: dict) -> list[dict]:
    """Values for a rule's arguments from the district's own rows (call inside its scope).

    When one argument's row names all the others (a goal names its ``case_id``), its rows
    give every value, so a child always sits under its own parent; otherwise each id
    argument takes each of the first rows of its model.
    """
    models = id_models()
    args = object_args(rule)
    ids = [a for a in args if a not in NATURAL_KEYS]
    fixed = {a: natural[a] for a in args if a in NATURAL_KEYS}
    for child in ids:
        parents = [a for a in ids if a != child]
        model = models[child]
        if parents and all(hasattr(model, p) for p in parents):
            rows = db.session.execute(select(model).order_by(model.id).limit(_IDS_PER_ARG))
            return [
                {**fixed, child: r.id, **{p: getattr(r, p) for p in parents}}
                for r in rows.scalars()
            ]
    choices = [fixed]
    for arg in ids:
        model = models[arg]
        values = list(
            db.session.execute(select(model.id).order_by(model.id).limit(_IDS_PER_ARG)).scalars()
        )
        choices = [{**c, arg: v} for c in choices for v in values]
    return choices


def pages(app: Flask, slug: str, tenant_id: int, natural: dict, near: str = "") -> list[str]:
    """Every HTML page of the district, one per id of its own rows; pages whose rule shares
    most of its path with ``near`` (a POST rule) come first, as forms sit near their action."""
    rules = sorted(_html_rules(app), key=lambda r: -_common_prefix(r.rule, near))
    urls: list[str] = []
    with app.app_context(), tenant_scope(tenant_id):
        for rule in rules:
            choices = id_choices(rule, natural)
            with app.test_request_context():
                urls += [url_for(rule.endpoint, tenant_slug=slug, **c) for c in choices]
    return urls


def _handler_fields(app: Flask, endpoint: str) -> list[Field]:
    """The fields of the ``FlaskForm`` classes a handler builds, as a page would show them."""
    view = inspect.unwrap(app.view_functions[endpoint])
    classes = [view.__globals__.get(name) for name in view.__code__.co_names]
    fields: list[Field] = []
    with app.test_request_context():
        for cls in classes:
            if not (isinstance(cls, type) and issubclass(cls, FlaskForm)):
                continue
            for f in cls(meta={"csrf": False}):
                widget = f.widget
                kind = getattr(widget, "input_type", None) or (
                    "select" if hasattr(f, "choices") else "textarea"
                )
                options = tuple(str(c[0]) for c in (getattr(f, "choices", None) or ()))
                value = "y" if kind == "checkbox" else (options[0] if options else "")
                fields.append(Field(f.name, kind, value, options, checked=kind == "checkbox"))
    return fields


@dataclass
class FormWalk:
    """Finds, as one person after another, the forms that post to one endpoint."""

    app: Flask
    slug: str
    tenant_id: int
    natural: dict
    #: Who may walk, first to last; ``None`` is a visitor who is not signed in.
    people: list = field(default_factory=list)
    #: The forms each person saw on each page, ``(person id, url) -> forms``: a caller that
    #: puts the same database back before every walk passes one dict to every walk, so each
    #: page is read once per person rather than once per endpoint looked for.
    seen: dict = field(default_factory=dict)

    def client_for(self, person):
        client = self.app.test_client()
        if person is not None:
            sign_in(client, self.fresh(person))
        return client

    def fresh(self, person):
        """The person as the database has them now (their session version may have moved)."""
        from app.models.user import User

        with self.app.app_context(), tenant_scope(self.tenant_id):
            row = db.session.get(User, person.id)
            db.session.expunge(row)
            return row

    def find(
        self, endpoint: str, rule: str, people: list, keep: Callable[[object, Form], bool]
    ) -> tuple:
        """``(person, forms)``: the first person who sees a form for ``endpoint``, and every
        such form on the pages of the first rule that shows one.

        The first person walks every page; the others (who differ by their relation to a
        case or a seat, not by role) only the pages in the same part of the site as ``rule``.
        """
        urls = pages(self.app, self.slug, self.tenant_id, self.natural, near=rule)
        bind = self.app.url_map.bind("localhost")
        rules = {url: bind.match(url, return_rule=True)[0] for url in urls}
        near = [url for url in urls if _common_prefix(rules[url].rule, rule) > _TENANT_DEPTH]
        for index, person in enumerate(people):
            client = self.client_for(person)
            found: list[Form] = []
            last_rule = None
            for url in urls if index == 0 else near:
                this_rule = rules[url]
                if found and this_rule is not last_rule:
                    break
                for form in self._seen_on(person, client, url):
                    match = endpoint_of(self.app, form.action)
                    if match and match[0] == endpoint and keep(person, form):
                        found.append(form)
                        last_rule = this_rule
            if found:
                return person, found
        return None, []

    def handler_forms(self, endpoint: str) -> list[Form]:
        """For a route no page offers a form for: its handler's form, posted to each of the
        district's own rows the URL can name, from the district's home page."""
        fields = tuple(_handler_fields(self.app, endpoint))
        if not fields:
            return []
        rule = next(r for r in self.app.url_map.iter_rules() if r.endpoint == endpoint)
        with self.app.app_context(), tenant_scope(self.tenant_id):
            choices = id_choices(rule, self.natural)
        home = f"/t/{self.slug}/"
        with self.app.test_request_context():
            actions = [url_for(endpoint, tenant_slug=self.slug, **c) for c in choices]
        multipart = any(f.kind == "file" for f in fields)
        return [Form(home, action, multipart, fields) for action in actions]

    def every_form(self, people: list) -> Iterator[tuple[object, Form]]:
        """Every form these people see, on every page."""
        urls = pages(self.app, self.slug, self.tenant_id, self.natural)
        for person in people:
            client = self.client_for(person)
            for url in urls:
                for form in self._forms_on(client, url):
                    yield person, form

    def _seen_on(self, person, client, url: str) -> list[Form]:
        key = (getattr(person, "id", None), url)
        if key not in self.seen:
            self.seen[key] = self._forms_on(client, url)
        return self.seen[key]

    @staticmethod
    def _forms_on(client, url: str) -> list[Form]:
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            return []
        return forms_in(response.get_data(as_text=True), url)


# What a post leaves behind.


@dataclass(frozen=True)
class Trace:
    """Per table, a digest of each row (a multiset); per file under the uploads, its size."""

    rows: dict[str, Counter]
    files: dict[str, int]

    def changes(self, after: Trace, conn) -> list[str]:
        """What differs, in words: rows added or gone per table (with the new rows' text,
        cut short), files added, gone or resized."""
        changed = []
        for name in sorted(set(self.rows) | set(after.rows)):
            old, new = self.rows.get(name, Counter()), after.rows.get(name, Counter())
            if old == new:
                continue
            added, gone = new - old, old - new
            shown = conn.execute(
                text(f"SELECT left(t::text, 300) FROM {name} t WHERE md5(t::text) = ANY(:h)"),
                {"h": list(added)[:3]},
            ).scalars()
            changed.append(
                f"{name}: +{sum(added.values())} -{sum(gone.values())} rows {list(shown)}"
            )
        for path in sorted(set(self.files) | set(after.files)):
            if self.files.get(path) != after.files.get(path):
                changed.append(f"file {path}: {self.files.get(path)} -> {after.files.get(path)}")
        return changed


def _tables(conn) -> list[str]:
    return list(
        conn.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version' ORDER BY tablename"
            )
        ).scalars()
    )


def trace(conn, upload_root: Path) -> Trace:
    query = " UNION ALL ".join(
        f"SELECT '{name}', md5(t::text) FROM {name} t" for name in _tables(conn)
    )
    rows: dict[str, Counter] = {}
    for name, digest in conn.execute(text(query)):
        rows.setdefault(name, Counter())[digest] += 1
    files = {}
    if upload_root.exists():
        for path in upload_root.rglob("*"):
            if path.is_file():
                files[str(path.relative_to(upload_root))] = path.stat().st_size
    return Trace(rows, files)


#: Every column that names a stored file.
_FILE_KEYS = (
    "SELECT file_key FROM evidence UNION SELECT file_key FROM export_jobs "
    "UNION SELECT minutes_key FROM panel_sessions UNION SELECT file_key FROM import_uploads"
)


def stray_files(conn, before: Trace, after: Trace) -> list[str]:
    """New files no row names: an upload kept on disk after its row was not (or a partial
    file left behind). A file ``<tenant>/<prefix>/<name>`` is named by key ``<tenant>/<name>``."""
    keys = set(conn.execute(text(_FILE_KEYS)).scalars())
    stray = []
    for path in sorted(set(after.files) - set(before.files)):
        parts = path.split("/")
        if len(parts) != 3 or f"{parts[0]}/{parts[2]}" not in keys:
            stray.append(path)
    return stray


# A seeded database, kept and put back.


class Template:
    """Every table copied into a schema of its own, to put back before each test: seeding
    the district through the services takes far longer than copying its rows."""

    SCHEMA = "form_fuzz_template"

    @classmethod
    def take(cls, conn) -> None:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {cls.SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {cls.SCHEMA}"))
        for name in _tables(conn):
            conn.execute(text(f"CREATE TABLE {cls.SCHEMA}.{name} AS TABLE public.{name}"))

    @classmethod
    def put_back(cls, conn) -> None:
        """Rows in an order that satisfies the foreign keys; sequences past the highest id."""
        names = set(_tables(conn))
        ordered = [t for t in db.metadata.sorted_tables if t.name in names]
        conn.execute(
            text(f"TRUNCATE {', '.join(t.name for t in ordered)} RESTART IDENTITY CASCADE")
        )
        for table in ordered:
            name = table.name
            conn.execute(
                text(
                    f"INSERT INTO public.{name} OVERRIDING SYSTEM VALUE "
                    f"SELECT * FROM {cls.SCHEMA}.{name}"
                )
            )
            if "id" not in table.c:
                continue
            sequence = conn.execute(
                text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": f"public.{name}"}
            ).scalar()
            if sequence:
                conn.execute(
                    text(f"SELECT setval(:s, coalesce(max(id), 0) + 1, false) FROM {name}"),
                    {"s": sequence},
                )


# Raw request bodies.


def encode(pairs: list[tuple[bytes, bytes | tuple[bytes, bytes, bytes]]], multipart: bool):
    """``(body, content_type)`` for ``pairs`` of name and value; a tuple value is a file
    part ``(filename, content type, content)`` (only in a multipart body)."""
    if not multipart:
        body = b"&".join(
            quote_from_bytes(name, safe=b"").encode()
            + b"="
            + quote_from_bytes(value if isinstance(value, bytes) else value[2], safe=b"").encode()
            for name, value in pairs
        )
        return body, "application/x-www-form-urlencoded"
    boundary = uuid.uuid4().hex.encode()
    parts = []
    for name, value in pairs:
        head = b'Content-Disposition: form-data; name="' + _quoted(name) + b'"'
        if isinstance(value, tuple):
            filename, content_type, content = value
            head += b'; filename="' + _quoted(filename) + b'"\r\nContent-Type: ' + content_type
            value = content
        parts.append(b"--" + boundary + b"\r\n" + head + b"\r\n\r\n" + value + b"\r\n")
    body = b"".join(parts) + b"--" + boundary + b"--\r\n"
    return body, f"multipart/form-data; boundary={boundary.decode()}"


def _quoted(value: bytes) -> bytes:
    """A header parameter as browsers write it: quotes and line breaks escaped."""
    return value.replace(b'"', b"%22").replace(b"\r", b"%0D").replace(b"\n", b"%0A")
