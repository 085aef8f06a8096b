"""The route table: every API route and every page, and what each role of the demo cast gets from it for an
object inside and one outside its scope. `test_route_table.py` runs it; docs/architecture.md explains the rule.

Outcomes (a cell of PROFILES: `here/there`, or one outcome for both sides)
  ok      allowed: the route's success status (`ok=`, 200 by default); a write must have changed what its
          `effect` reads (so a 422 from a bad payload never passes for allowed)
  + / -   a list or a public record: 200, and the side's `marker` is in the answer (+) or not (-)
  403     readable but not allowed, and nothing changed;   404: not readable, and nothing changed
  anon    anonymous: the API answers 401 `unauthenticated`; a page redirects to /login/
  login   sent to a login page (the Django admin, for anyone but staff)
  ask     allowed as a request the district bureau decides (a monitor under change control): the API answers
          202, a page 200 or 302; a new pending device change exists and nothing else changed

A profile is one kind of access (READ_BASIC, MANAGE_DEVICE, ...): an outcome per role, roles in the order of
ROLES. `here` is a 兰山区 project in which the cast's developer, contractor and supervisor take part; `there` a
罗庄区 project of other enterprises (the other district's regulator's own). The departments are 兰山区's: 公安
(basic part only), 人社 (basic, participants, workforce), 生态环境 (basic, monitoring).

Adding a route is one line in ROUTES (DEVICE_ROUTES for device-token routes), naming its profile:

    api("GET", "/api/projects/{project_id}/things", "READ_BASIC", project_id="site"),
    page("POST", "/things/<int:pk>/close/", "REGULATE", pk="thing", ok=302, body={...}, effect=value(Thing, ...)),

The path is spelled exactly as Ninja or the URL resolver spells it; each path parameter names the attribute of
the side (world.py) it takes (`fixed(...)` for a literal). A write gives a valid `body` (a dict, or a function
of the side when it needs ids) and an `effect`: a function of the side reading what the write changes. A new
kind of access is a new line in PROFILES."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from jianguan.accounts.models import ApiToken
from jianguan.ledger.models import LedgerCheckpoint
from jianguan.projects.models import (
    Document,
    DocumentVersion,
    KeyPerson,
    Participant,
    ProgressReport,
    Project,
    ProjectChangeRequest,
)
from jianguan.review.models import (
    ChecklistMark,
    CommentReply,
    DocumentVerdict,
    ReviewCase,
    ReviewComment,
    SignOff,
    StartReport,
)
from jianguan.sites.models import (
    ActuatorCommand,
    Alarm,
    Device,
    DeviceChangeRequest,
    GateEvent,
    LimitRule,
    Reading,
    SiteWorker,
)

from .world import pdf

ROLES = (
    "city",  # 市住建局管理员
    "reg",  # 兰山区监管员 (the project's district)
    "reg_other",  # 罗庄区监管员 (another district)
    "inspector",  # 兰山区检查员
    "dept_basic",  # 公安: project_basic
    "dept_hr",  # 人社: project_basic, project_participants, site_workforce
    "dept_env",  # 生态环境: project_basic, site_monitoring
    "developer",  # 建设单位 (the applicant)
    "contractor",  # 施工总承包
    "supervisor",  # 监理单位
    "stranger",  # an enterprise taking part in neither project
    "anon",
)
OK, SEEN, HIDDEN, FORBIDDEN, MISSING, ANON, LOGIN, ASK = "ok", "+", "-", "403", "404", "anon", "login", "ask"
OUTCOMES = {OK, SEEN, HIDDEN, FORBIDDEN, MISSING, ANON, LOGIN, ASK}


def profiles(text: str) -> dict[str, dict[str, tuple[str, str]]]:
    """Each line: a name and one cell per role, in the order of ROLES; a cell is `here/there`, or one outcome
    for both."""
    found = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, *cells = line.split()
        assert len(cells) == len(ROLES), f"{name}: {len(cells)} cells for {len(ROLES)} roles"
        pairs = [tuple(cell.split("/")) if "/" in cell else (cell, cell) for cell in cells]
        assert all(len(p) == 2 and set(p) <= OUTCOMES for p in pairs), f"{name}: {cells}"
        found[name] = dict(zip(ROLES, pairs, strict=True))
    return found


PROFILES = profiles("""
#                city    reg     other   inspect police  hr      env     develop contract superv  stranger anon
EVERYONE         ok      ok      ok      ok      ok      ok      ok      ok      ok      ok      ok      ok
SIGNED_IN        ok      ok      ok      ok      ok      ok      ok      ok      ok      ok      ok      anon
OWN_TOKEN        404     404     404     404     404     404     404     ok/404  404     404     404     anon
ADMIN_SITE       ok      login   login   login   login   login   login   login   login   login   login   login
# Reading a project, and its parts on their own routes (a part the role's rules withhold: 403).
READ_BASIC       ok      ok/404  404/ok  ok/404  ok/404  ok/404  ok/404  ok/404  ok/404  ok/404  404     anon
READ_PEOPLE      ok      ok/404  404/ok  ok/404  403/404 ok/404  403/404 ok/404  ok/404  ok/404  404     anon
READ_DOCUMENTS   ok      ok/404  404/ok  ok/404  403/404 403/404 403/404 ok/404  ok/404  ok/404  404     anon
READ_RECORDS     ok      ok/404  404/ok  ok/404  403/404 403/404 403/404 ok/404  ok/404  ok/404  404     anon
READ_PROGRESS    ok      ok/404  404/ok  ok/404  403/404 403/404 403/404 ok/404  ok/404  ok/404  404     anon
READ_MONITORING  ok      ok/404  404/ok  ok/404  403/404 403/404 ok/404  ok/404  ok/404  ok/404  404     anon
READ_WORKFORCE   ok      ok/404  404/ok  ok/404  403/404 ok/404  403/404 ok/404  ok/404  ok/404  404     anon
# Reading an object of a part by its own id (a device, an alarm, a document): not readable without the part.
MONITOR          ok      ok/404  404/ok  ok/404  404     404     ok/404  ok/404  ok/404  ok/404  404     anon
DOCUMENT         ok      ok/404  404/ok  ok/404  404     404     404     ok/404  ok/404  ok/404  404     anon
# Lists: whether the side's subject is in it (+) or not (-).
LIST_PROJECTS    +       +/-     -/+     +/-     +/-     +/-     +/-     +/-     +/-     +/-     -       anon
LIST_MONITORING  +       +/-     -/+     +/-     -       -       +/-     +/-     +/-     +/-     -       anon
# The evidence log: hashes are public; an entry's data (+) goes to those who may read the record (a document).
LEDGER_DATA      +       +/-     -/+     +/-     -       -       -       +/-     +/-     +/-     -       -
LEDGER_BUNDLE    ok      ok/403  403/ok  ok/403  403     403     403     ok/403  ok/403  ok/403  403     anon
# The public portal: `here` is published, the other subject (`unpublished`) is a filing under way.
PUBLIC_LIST      +/-     +/-     +/-     +/-     +/-     +/-     +/-     +/-     +/-     +/-     +/-     +/-
PUBLIC_RECORD    ok/404  ok/404  ok/404  ok/404  ok/404  ok/404  ok/404  ok/404  ok/404  ok/404  ok/404  ok/404
# Acting on a project: filing one (enterprises), changing a returned filing (its applicant), regulating.
FILE_PROJECT     403     403     403     403     403     403     403     ok      ok      ok      ok      anon
REVIEW_QUEUE     ok      ok      ok      403     403     403     403     403     403     403     403     anon
EDIT_FILING      403     403/404 404/403 403/404 403/404 403/404 403/404 ok/404  403/404 403/404 404     anon
REGULATE         ok      ok/404  404/ok  403/404 403/404 403/404 403/404 403/404 403/404 403/404 404     anon
# Documents and reports of the works: the contract is kept by the applicant and the general contractor.
KEEP_CONTRACT    403     403/404 404/403 403/404 403/404 403/404 403/404 ok/404  ok/404  403/404 404     anon
REPLACE_CONTRACT 403     403/404 404/403 403/404 404     404     404     ok/404  ok/404  403/404 404     anon
# A filed document addressed by its own id, corrected (a new version, withdrawn) by the applicant alone.
CORRECT_DOCUMENT 403     403/404 404/403 403/404 404     404     404     ok/404  403/404 403/404 404     anon
REPORT_PROGRESS  403     403/404 404/403 403/404 403/404 403/404 403/404 ok/404  ok/404  ok/404  404     anon
# The site: devices and the register (the district bureau and the general contractor), commands (regulators),
# alarms (acknowledged by the site too, resolved by regulators).
MANAGE_SITE      ok      ok/404  404/ok  403/404 403/404 403/404 403/404 403/404 ok/404  403/404 404     anon
MANAGE_DEVICE    ok      ok/404  404/ok  403/404 404     404     403/404 403/404 ok/404  403/404 404     anon
# A monitor of a permitted project: its contractor's retire, restore and re-key are requests to the district.
CONTROL_DEVICE   ok      ok/404  404/ok  403/404 404     404     403/404 403/404 ask/404 403/404 404     anon
# Device change requests: read by the project's regulators and participants (not other departments); decided
# by its regulators.
LIST_CHANGES     +       +/-     -/+     +/-     -       -       -       +/-     +/-     +/-     -       anon
READ_CHANGE      ok      ok/404  404/ok  ok/404  404     404     404     ok/404  ok/404  ok/404  404     anon
DECIDE_CHANGE    ok      ok/404  404/ok  403/404 404     404     404     403/404 403/404 403/404 404     anon
COMMAND          ok      ok/404  404/ok  403/404 404     404     403/404 403/404 403/404 403/404 404     anon
ACKNOWLEDGE      ok      ok/404  404/ok  403/404 404     404     403/404 ok/404  ok/404  ok/404  404     anon
RESOLVE          ok      ok/404  404/ok  403/404 404     404     403/404 403/404 403/404 403/404 404     anon
# The review room: the workspace and its actions are the project's regulators' (a department without the documents
# part: 403 on the project's route, 404 on an object of that part by its own id); the enterprise side replies to
# comments; the applicant and the general contractor report the start of works.
REVIEW           ok      ok/404  404/ok  403/404 403/404 403/404 403/404 403/404 403/404 403/404 404     anon
REVIEW_BY_ID     ok      ok/404  404/ok  403/404 404     404     404     403/404 403/404 403/404 404     anon
REPLY            ok      ok/404  404/ok  403/404 404     404     404     ok/404  ok/404  ok/404  404     anon
REPORT_START     403     403/404 404/403 403/404 403/404 403/404 403/404 ok/404  ok/404  403/404 404     anon
# The bureau's own: signing a checkpoint; limit rules (city-wide: the bureau; a district's: its regulator).
BUREAU           ok      403     403     403     403     403     403     403     403     403     403     anon
LIMITS           ok      ok      ok      403     403     403     403     403     403     403     403     anon
EDIT_LIMIT       403     ok/404  404/ok  404     404     404     404     404     404     404     404     anon
""")


@dataclass(frozen=True)
class fixed:
    """A literal path or query value (a plain string names an attribute of the side)."""

    value: Any


Side = Any  # a world.py side (SimpleNamespace)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    profile: str  # a name in PROFILES
    args: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    body: dict | Callable[[Side], dict] | None = None
    effect: Callable[[Side], Any] | None = None
    ok: int = 200
    marker: str = "site_name"
    sides: tuple[str, str] = ("here", "there")
    multipart: bool = False

    @property
    def expect(self) -> dict[str, tuple[str, str]]:
        return PROFILES[self.profile]

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/") and self.path not in API_PAGES

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    def __str__(self) -> str:
        extra = ",".join(str(v.value) for v in self.args.values() if isinstance(v, fixed))
        extra += "?" + "&".join(self.query) if self.query else ""
        return f"{self.method} {self.path}" + (f" [{extra}]" if extra else "")

    def _value(self, side: Side, value: Any) -> str:
        return str(value.value if isinstance(value, fixed) else getattr(side, value))

    def url(self, side: Side) -> str:
        url = PARAMETER.sub(lambda m: self._value(side, self.args[m.group(1) or m.group(2)]), self.path)
        if self.query:
            url += "?" + "&".join(f"{k}={self._value(side, v)}" for k, v in self.query.items())
        return url

    def payload(self, side: Side) -> dict | None:
        return self.body(side) if callable(self.body) else self.body


PARAMETER = re.compile(r"\{(\w+)\}|<(?:\w+:)?(\w+)>")  # Ninja's {name}, Django's <converter:name>
API_PAGES = {"/api/openapi.json", "/api/docs"}  # served under /api/ but not routes of the API's routers


def api(method: str, path: str, profile: str, **kw) -> Route:
    return _route(method, path, profile, kw)


def page(method: str, path: str, profile: str, **kw) -> Route:
    return _route(method, path, profile, kw)


ROUTE_FIELDS = {"query", "body", "effect", "ok", "marker", "sides", "multipart"}


def _route(method: str, path: str, profile: str, kw: dict) -> Route:
    assert profile in PROFILES, f"{path}: no profile {profile}"
    args = {k: v for k, v in kw.items() if k not in ROUTE_FIELDS}
    names = {a or b for a, b in PARAMETER.findall(path)}
    assert names == set(args), f"{path}: give each path parameter: {args}"
    return Route(method, path, profile, args, **{k: v for k, v in kw.items() if k in ROUTE_FIELDS})


# --- what writes change ------------------------------------------------------------------------------------


def count(model, **where: str) -> Callable[[Side], int]:
    """How many rows of `model` belong to the side's objects (where: field → side attribute)."""
    return lambda s: model.objects.filter(**{k: getattr(s, v) for k, v in where.items()}).count()


def value(model, attr: str, *fields: str) -> Callable[[Side], tuple]:
    """Fields of the side's object `attr`."""
    return lambda s: model.objects.filter(pk=getattr(s, attr)).values_list(*fields).first()


def everywhere(model) -> Callable[[Side], int]:
    return lambda s: model.objects.count()


def upload(name: str = "contract.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf("v2"), content_type="application/pdf")


def today() -> str:
    return timezone.localdate().isoformat()


NEW_PROJECT = {
    "name": "新申报的住宅项目",
    "project_type": "housing",
    "jurisdiction_code": "371302",
    "address": "兰山区沂蒙路100号",
    "lat": 35.06,
    "lon": 118.34,
}
NEW_PROJECT_FORM = {k: v for k, v in NEW_PROJECT.items() if k != "jurisdiction_code"}


def project_form(s: Side) -> dict:
    return {**NEW_PROJECT_FORM, "jurisdiction": s.world.lanshan}


def filing_form(s: Side) -> dict:
    project = Project.objects.get(pk=s.filing)
    return {**project_form(s), "name": "改过名的申报项目", "jurisdiction": project.jurisdiction_id}


def limit_form(rule: LimitRule | None = None, **changes) -> dict:
    data = {
        "name": "PM1.0（试行）",
        "parameter": "a34005",
        "unit": "µg/m³",
        "device_kind": "",
        "period": "all",
        "warning": 50,
        "critical": "",
        "sustain": 3,
        "clear_ratio": 0.9,
        "clear_count": 3,
        "source": "试行文件",
        "active": "on",
    }
    if rule is not None:
        data.update({k: getattr(rule, k) for k in data if k != "active"}, critical=rule.critical or "")
    data.update(changes)
    return data


def override_form(s: Side) -> dict:
    return limit_form(LimitRule.objects.get(pk=s.override), warning=65)


DEVICE = {"name": "南门扬尘", "kind": "dust_noise", "protocol": "http"}
DEVICE_FORM = {**DEVICE, "protocol": "hj212", "mn": "ROUTENEW1", "password": "pw-new", "dialect": "standard",
               "rtd_interval_s": 60}  # fmt: skip
DEVICE_EDIT_FORM = {"name": "东门扬尘（改）", "dialect": "standard", "rtd_interval_s": 60}


# --- the table ---------------------------------------------------------------------------------------------

# fmt: off
ROUTES: list[Route] = [
    # accounts
    api("POST", "/api/auth/token", "EVERYONE", ok=201, effect=everywhere(ApiToken),
        body=lambda s: {"username": s.world.users["developer"].username, "password": "pw-123456"}),
    api("GET", "/api/me", "SIGNED_IN"),
    api("GET", "/api/auth/tokens", "SIGNED_IN"),
    api("DELETE", "/api/auth/tokens/{token_id}", "OWN_TOKEN", token_id="token",
        effect=value(ApiToken, "token", "revoked")),
    page("GET", "/account/", "SIGNED_IN"),
    page("POST", "/account/tokens/<int:pk>/revoke/", "OWN_TOKEN", pk="token", ok=302,
         effect=value(ApiToken, "token", "revoked")),
    page("GET", "/login/", "EVERYONE"),
    page("POST", "/logout/", "EVERYONE", ok=302),
    page("GET", "/notifications/", "SIGNED_IN"),
    # core and registry
    page("GET", "/", "EVERYONE", ok=302),
    page("GET", "/healthz", "EVERYONE"),
    page("GET", "/admin/", "ADMIN_SITE"),
    page("GET", "/api/openapi.json", "EVERYONE"),
    page("GET", "/api/docs", "EVERYONE"),
    api("GET", "/api/jurisdictions", "EVERYONE"),
    api("GET", "/api/enterprises", "SIGNED_IN"),
    api("GET", "/api/enterprises/{enterprise_id}", "SIGNED_IN", enterprise_id="applicant"),
    # projects: the API
    api("GET", "/api/projects", "LIST_PROJECTS"),
    api("POST", "/api/projects", "FILE_PROJECT", ok=201, body=NEW_PROJECT, effect=everywhere(Project)),
    api("GET", "/api/projects/{project_id}", "READ_BASIC", project_id="site"),
    api("PATCH", "/api/projects/{project_id}", "EDIT_FILING", project_id="filing", body={"name": "改过名的申报项目"},
        effect=value(Project, "filing", "name")),
    api("GET", "/api/projects/{project_id}/participants", "READ_PEOPLE", project_id="site"),
    api("POST", "/api/projects/{project_id}/participants", "EDIT_FILING", project_id="filing", ok=201,
        body=lambda s: {"enterprise_id": s.extra_enterprise, "role": "designer"},
        effect=count(Participant, project="filing")),
    api("DELETE", "/api/projects/{project_id}/participants/{participant_id}", "EDIT_FILING", project_id="filing",
        participant_id="removable", ok=204, body={"reason": "勘察单位登记有误"},
        effect=count(Participant, project="filing")),
    api("POST", "/api/projects/{project_id}/participants/{participant_id}/replace", "EDIT_FILING",
        project_id="filing", participant_id="removable", body=lambda s: {"enterprise_id": s.other_surveyor,
        "reason": "勘察单位登记有误"}, effect=value(Participant, "removable", "enterprise")),
    api("DELETE", "/api/projects/{project_id}/key-people/{post_id}", "EDIT_FILING", project_id="filing",
        post_id="post", ok=204, body={"reason": "项目经理登记有误"}, effect=count(KeyPerson, project="filing")),
    api("POST", "/api/projects/{project_id}/key-people/{post_id}/replace", "EDIT_FILING", project_id="filing",
        post_id="post", body=lambda s: {"person_id": s.candidate, "reason": "项目经理更换"},
        effect=value(KeyPerson, "post", "person")),
    api("GET", "/api/projects/{project_id}/corrections", "READ_RECORDS", project_id="site"),
    api("POST", "/api/documents/{document_id}/withdraw", "CORRECT_DOCUMENT", document_id="filed_document",
        body={"reason": "文件类型选错"}, effect=value(Document, "filed_document", "withdrawn_at")),
    api("POST", "/api/projects/{project_id}/changes", "EDIT_FILING", project_id="site", ok=201,
        body=lambda s: {"action": "withdraw_document", "target_id": s.contract, "reason": "合同文本有误"},
        effect=count(ProjectChangeRequest, project="site")),
    api("GET", "/api/project-changes", "LIST_CHANGES", marker="change_summary"),
    api("GET", "/api/project-changes/{change_id}", "READ_CHANGE", change_id="project_change"),
    api("POST", "/api/project-changes/{change_id}/approve", "DECIDE_CHANGE", change_id="project_change",
        body={"comment": "同意"}, effect=value(ProjectChangeRequest, "project_change", "state")),
    api("POST", "/api/project-changes/{change_id}/reject", "DECIDE_CHANGE", change_id="project_change",
        body={"comment": "理由不足"}, effect=value(ProjectChangeRequest, "project_change", "state")),
    api("POST", "/api/geo/to-wgs84", "EVERYONE", body={"text": "118.356,35.104", "system": "gcj02"}),
    api("GET", "/api/projects/{project_id}/key-people", "READ_PEOPLE", project_id="site"),
    api("POST", "/api/projects/{project_id}/key-people", "EDIT_FILING", project_id="filing", ok=201,
        body=lambda s: {"person_id": s.candidate, "role": "project_manager"},
        effect=count(KeyPerson, project="filing")),
    api("POST", "/api/requirements/match", "EVERYONE", body={"parameters": {"excavation_depth_m": 6}}),
    api("GET", "/api/projects/{project_id}/requirements", "READ_DOCUMENTS", project_id="site"),
    api("GET", "/api/projects/{project_id}/prereview", "READ_RECORDS", project_id="site"),
    api("GET", "/api/projects/{project_id}/transitions", "READ_RECORDS", project_id="site"),
    api("POST", "/api/projects/{project_id}/transitions", "REGULATE", project_id="site",
        body={"name": "suspend", "reason": "扬尘治理不到位"}, effect=value(Project, "site", "state")),
    api("GET", "/api/projects/{project_id}/documents", "READ_DOCUMENTS", project_id="site"),
    api("POST", "/api/projects/{project_id}/documents", "KEEP_CONTRACT", project_id="site", ok=201, multipart=True,
        body=lambda s: {"kind": "contract", "title": "补充协议", "file": upload()},
        effect=count(Document, project="site")),
    api("POST", "/api/documents/{document_id}/versions", "REPLACE_CONTRACT", document_id="contract", ok=201,
        multipart=True, body=lambda s: {"note": "补充签章页", "file": upload()},
        effect=count(DocumentVersion, document="contract")),
    api("GET", "/api/documents/{document_id}/versions/{number}/download", "DOCUMENT", document_id="contract",
        number=fixed(1)),
    api("GET", "/api/projects/{project_id}/progress-reports", "READ_PROGRESS", project_id="site"),
    api("POST", "/api/projects/{project_id}/progress-reports", "REPORT_PROGRESS", project_id="site", ok=201,
        multipart=True, body=lambda s: {"report_date": today(), "percent_complete": 55, "summary": "二次结构施工"},
        effect=count(ProgressReport, project="site")),
    api("GET", "/api/projects/{project_id}/audit", "READ_RECORDS", project_id="site"),
    api("GET", "/api/public/projects", "PUBLIC_LIST", sides=("here", "unpublished")),
    api("GET", "/api/public/projects/{project_id}", "PUBLIC_RECORD", project_id="site", sides=("here", "unpublished")),
    # projects: the pages
    page("GET", "/projects/", "LIST_PROJECTS"),
    page("GET", "/projects/new/", "FILE_PROJECT"),
    page("POST", "/projects/new/", "FILE_PROJECT", ok=302, body=project_form, effect=everywhere(Project)),
    page("GET", "/projects/review/", "REVIEW_QUEUE"),
    page("GET", "/projects/<int:pk>/", "READ_BASIC", pk="site"),
    page("GET", "/projects/<int:pk>/edit/", "EDIT_FILING", pk="filing"),
    page("POST", "/projects/<int:pk>/edit/", "EDIT_FILING", pk="filing", ok=302, body=filing_form,
         effect=value(Project, "filing", "name")),
    page("POST", "/projects/<int:pk>/participants/", "EDIT_FILING", pk="filing", ok=302,
         body=lambda s: {"enterprise": s.extra_enterprise, "role": "designer"},
         effect=count(Participant, project="filing")),
    page("POST", "/projects/<int:pk>/key-people/", "EDIT_FILING", pk="filing", ok=302,
         body=lambda s: {"person": s.candidate, "role": "project_manager"}, effect=count(KeyPerson, project="filing")),
    page("GET", "/projects/todo/", "FILE_PROJECT"),
    page("GET", "/projects/<int:pk>/pick/participant/", "EDIT_FILING", pk="filing", query={"role": fixed("designer")}),
    page("GET", "/projects/<int:pk>/pick/key-person/", "EDIT_FILING", pk="filing"),
    page("POST", "/projects/<int:pk>/participants/<int:participant_id>/remove/", "EDIT_FILING", pk="filing",
         participant_id="removable", ok=302, body={"reason": "勘察单位登记有误"},
         effect=count(Participant, project="filing")),
    page("POST", "/projects/<int:pk>/participants/<int:participant_id>/replace/", "EDIT_FILING", pk="filing",
         participant_id="removable", ok=302, body=lambda s: {"choice": s.other_surveyor, "reason": "登记有误"},
         effect=value(Participant, "removable", "enterprise")),
    page("POST", "/projects/<int:pk>/key-people/<int:post_id>/remove/", "EDIT_FILING", pk="filing", post_id="post",
         ok=302, body={"reason": "项目经理登记有误"}, effect=count(KeyPerson, project="filing")),
    page("POST", "/projects/<int:pk>/key-people/<int:post_id>/replace/", "EDIT_FILING", pk="filing", post_id="post",
         ok=302, body=lambda s: {"choice": s.candidate, "reason": "项目经理更换"},
         effect=value(KeyPerson, "post", "person")),
    page("POST", "/projects/documents/<int:doc>/withdraw/", "CORRECT_DOCUMENT", doc="filed_document", ok=302,
         body={"reason": "文件类型选错"}, effect=value(Document, "filed_document", "withdrawn_at")),
    page("POST", "/projects/documents/<int:doc>/versions/", "CORRECT_DOCUMENT", doc="filed_document", ok=302,
         body=lambda s: {"note": "补充签章页", "file": upload()},
         effect=count(DocumentVersion, document="filed_document")),
    page("POST", "/projects/<int:pk>/changes/", "EDIT_FILING", pk="site", ok=302,
         body=lambda s: {"action": "withdraw_document", "target_id": s.contract, "reason": "合同文本有误"},
         effect=count(ProjectChangeRequest, project="site")),
    page("GET", "/projects/changes/", "LIST_CHANGES", marker="change_summary"),
    page("POST", "/projects/changes/<int:pk>/<str:action>/", "DECIDE_CHANGE", pk="project_change",
         action=fixed("approve"), ok=302, body={"comment": "同意"},
         effect=value(ProjectChangeRequest, "project_change", "state")),
    page("POST", "/projects/<int:pk>/documents/", "KEEP_CONTRACT", pk="site", ok=302,
         body=lambda s: {"kind": "contract", "title": "补充协议", "file": upload()},
         effect=count(Document, project="site")),
    page("POST", "/projects/<int:pk>/transition/", "REGULATE", pk="site", ok=302,
         body={"name": "suspend", "reason": "扬尘治理不到位"}, effect=value(Project, "site", "state")),
    page("POST", "/projects/<int:pk>/progress/", "REPORT_PROGRESS", pk="site", ok=302,
         body=lambda s: {"report_date": today(), "percent_complete": 55, "summary": "二次结构施工"},
         effect=count(ProgressReport, project="site")),
    page("GET", "/projects/documents/<int:doc>/v<int:number>/", "DOCUMENT", doc="contract", number=fixed(1)),
    page("GET", "/public/", "PUBLIC_LIST", sides=("here", "unpublished")),
    page("GET", "/public/<int:pk>/", "PUBLIC_RECORD", pk="site", sides=("here", "unpublished")),
    # the review room: the queue, the workspace, permits, the start of works (jianguan.review)
    api("GET", "/api/review/queue", "REVIEW_QUEUE"),
    api("GET", "/api/projects/{project_id}/review", "REVIEW", project_id="review"),
    api("POST", "/api/documents/{document_id}/verdict", "REVIEW_BY_ID", document_id="review_doc", ok=201,
        body={"verdict": "ok"}, effect=count(DocumentVerdict, document="review_doc")),
    api("GET", "/api/projects/{project_id}/review-comments", "READ_DOCUMENTS", project_id="review"),
    api("POST", "/api/projects/{project_id}/review-comments", "REVIEW", project_id="review", ok=201,
        body={"body": "请补充资金证明"}, effect=count(ReviewComment, project="review")),
    api("POST", "/api/review-comments/{comment_id}/replies", "REPLY", comment_id="review_comment", ok=201,
        body={"body": "已补充签章页"}, effect=count(CommentReply, comment="review_comment")),
    api("POST", "/api/review-comments/{comment_id}/close", "REVIEW_BY_ID", comment_id="review_comment",
        body={"note": "已补正"}, effect=value(ReviewComment, "review_comment", "status")),
    api("PUT", "/api/projects/{project_id}/review/checklist/{point}", "REVIEW", project_id="review",
        point=fixed("land_use"), body={"result": "ok"}, effect=count(ChecklistMark, project="review")),
    api("PUT", "/api/projects/{project_id}/review/opinion", "REVIEW", project_id="review",
        body={"opinion": "材料齐全"}, effect=value(ReviewCase, "review", "opinion")),
    api("PUT", "/api/projects/{project_id}/review/assignee", "REVIEW", project_id="review",
        body=lambda s: {"assignee_id": s.assignee}, effect=value(ReviewCase, "review", "assignee_id")),
    api("POST", "/api/projects/{project_id}/signoffs", "REVIEW", project_id="ready", ok=201,
        body={"stage": "review", "opinion": "符合施工许可条件"}, effect=count(SignOff, project="ready")),
    api("GET", "/api/projects/{project_id}/signoffs", "READ_RECORDS", project_id="site"),
    api("GET", "/api/projects/{project_id}/permit", "READ_BASIC", project_id="site"),
    api("GET", "/api/projects/{project_id}/permit/certificate", "READ_BASIC", project_id="site"),
    api("GET", "/api/public/permits/{code}", "EVERYONE", code="permit_code"),
    api("GET", "/api/projects/{project_id}/start-reports", "READ_BASIC", project_id="site"),
    api("POST", "/api/projects/{project_id}/start-reports", "REPORT_START", project_id="permitted", ok=201,
        body=lambda s: {"started_on": today()}, effect=count(StartReport, project="permitted")),
    api("POST", "/api/start-reports/{report_id}/confirm", "REGULATE", report_id="start_report", body={},
        effect=value(StartReport, "start_report", "decision")),
    api("POST", "/api/start-reports/{report_id}/decline", "REGULATE", report_id="start_report",
        body={"note": "现场尚未开工"}, effect=value(StartReport, "start_report", "decision")),
    page("GET", "/projects/<int:pk>/review/", "REVIEW", pk="review"),
    page("POST", "/projects/review/documents/<int:doc>/verdict/", "REVIEW_BY_ID", doc="review_doc", ok=302,
         body={"verdict": "ok"}, effect=count(DocumentVerdict, document="review_doc")),
    page("GET", "/projects/review/documents/<int:doc>/v<int:number>/preview", "DOCUMENT", doc="review_doc",
         number=fixed(1)),
    page("POST", "/projects/<int:pk>/review/comments/", "REVIEW", pk="review", ok=302,
         body={"body": "请补充资金证明"}, effect=count(ReviewComment, project="review")),
    page("POST", "/projects/review/comments/<int:comment>/close/", "REVIEW_BY_ID", comment="review_comment", ok=302,
         body={"note": "已补正"}, effect=value(ReviewComment, "review_comment", "status")),
    page("POST", "/projects/review/comments/<int:comment>/reply/", "REPLY", comment="review_comment", ok=302,
         body={"body": "已补充签章页"}, effect=count(CommentReply, comment="review_comment")),
    page("POST", "/projects/<int:pk>/review/checklist/", "REVIEW", pk="review", ok=302,
         body={"point": "land_use", "result": "ok"}, effect=count(ChecklistMark, project="review")),
    page("POST", "/projects/<int:pk>/review/opinion/", "REVIEW", pk="review", ok=302, body={"opinion": "材料齐全"},
         effect=value(ReviewCase, "review", "opinion")),
    page("POST", "/projects/<int:pk>/review/assignee/", "REVIEW", pk="review", ok=302,
         body=lambda s: {"assignee": s.assignee}, effect=value(ReviewCase, "review", "assignee_id")),
    page("POST", "/projects/<int:pk>/review/sign/", "REVIEW", pk="ready", ok=302,
         body={"stage": "review", "opinion": "符合施工许可条件"}, effect=count(SignOff, project="ready")),
    page("GET", "/projects/<int:pk>/permit.pdf", "READ_BASIC", pk="site"),
    page("POST", "/projects/<int:pk>/start/", "REPORT_START", pk="permitted", ok=302,
         body=lambda s: {"started_on": today()}, effect=count(StartReport, project="permitted")),
    page("POST", "/projects/review/starts/<int:report>/<str:action>/", "REGULATE", report="start_report",
         action=fixed("confirm"), ok=302, effect=value(StartReport, "start_report", "decision")),
    page("GET", "/permits/verify/<str:code>/", "EVERYONE", code="permit_code"),
    page("GET", "/permits/verify/<str:code>/evidence.json", "EVERYONE", code="permit_code"),
    # the evidence log
    api("GET", "/api/ledger/checkpoint", "EVERYONE"),
    api("GET", "/api/ledger/checkpoint.txt", "EVERYONE"),
    api("POST", "/api/ledger/checkpoints", "BUREAU", ok=201,
        effect=lambda s: LedgerCheckpoint.objects.values_list("tree_size", flat=True).first()),
    api("GET", "/api/ledger/entries/{index}", "LEDGER_DATA", index="entry", marker="site_code"),
    api("GET", "/api/ledger/proof/inclusion", "EVERYONE", query={"index": fixed(0), "tree_size": fixed(1)}),
    api("GET", "/api/ledger/proof/consistency", "EVERYONE", query={"first": fixed(1), "second": fixed(1)}),
    api("GET", "/api/ledger/entries/{index}/bundle", "LEDGER_BUNDLE", index="entry"),
    page("GET", "/.well-known/jianguan-ledger-key", "EVERYONE"),
    # sites: devices
    api("GET", "/api/projects/{project_id}/devices", "READ_MONITORING", project_id="site"),
    api("POST", "/api/projects/{project_id}/devices", "MANAGE_SITE", project_id="site", ok=201, body=DEVICE,
        effect=count(Device, project="site")),
    api("PATCH", "/api/devices/{device_id}", "MANAGE_DEVICE", device_id="dust", body={"name": "东门扬尘（改）"},
        effect=value(Device, "dust", "name")),
    api("POST", "/api/devices/{device_id}/retire", "CONTROL_DEVICE", device_id="dust", body={"reason": "设备拆除"},
        effect=value(Device, "dust", "retired_at")),
    api("POST", "/api/devices/{device_id}/restore", "CONTROL_DEVICE", device_id="retired", body={"reason": "修复"},
        effect=value(Device, "retired", "retired_at")),
    api("POST", "/api/devices/{device_id}/token", "CONTROL_DEVICE", device_id="spare", ok=201, body={"reason": "泄露"},
        effect=value(Device, "spare", "token_hash")),
    page("GET", "/sites/projects/<int:project_id>/devices/new/", "MANAGE_SITE", project_id="site"),
    page("POST", "/sites/projects/<int:project_id>/devices/new/", "MANAGE_SITE", project_id="site", ok=302,
         body=DEVICE_FORM, effect=count(Device, project="site")),
    page("GET", "/sites/devices/<int:device_id>/edit/", "MANAGE_DEVICE", device_id="dust"),
    page("POST", "/sites/devices/<int:device_id>/edit/", "MANAGE_DEVICE", device_id="dust", ok=302,
         body=DEVICE_EDIT_FORM, effect=value(Device, "dust", "name")),
    page("POST", "/sites/devices/<int:device_id>/<str:action>/", "CONTROL_DEVICE", device_id="dust",
         action=fixed("retire"), ok=302, body={"reason": "设备拆除"}, effect=value(Device, "dust", "retired_at")),
    page("POST", "/sites/devices/<int:device_id>/<str:action>/", "CONTROL_DEVICE", device_id="retired",
         action=fixed("restore"), ok=302, body={"reason": "修复"}, effect=value(Device, "retired", "retired_at")),
    page("POST", "/sites/devices/<int:device_id>/<str:action>/", "CONTROL_DEVICE", device_id="spare",
         action=fixed("token"), body={"reason": "泄露"}, effect=value(Device, "spare", "token_hash")),
    # sites: device change requests (a pending one on each side: `change`)
    api("GET", "/api/device-changes", "LIST_CHANGES", marker="crane_name"),
    api("GET", "/api/device-changes/{change_id}", "READ_CHANGE", change_id="change"),
    api("POST", "/api/device-changes/{change_id}/approve", "DECIDE_CHANGE", change_id="change",
        body={"comment": "同意"}, effect=value(DeviceChangeRequest, "change", "state")),
    api("POST", "/api/device-changes/{change_id}/reject", "DECIDE_CHANGE", change_id="change",
        body={"comment": "理由不足"}, effect=value(DeviceChangeRequest, "change", "state")),
    page("GET", "/sites/device-changes/", "LIST_CHANGES", marker="crane_name"),
    page("POST", "/sites/device-changes/<int:pk>/<str:action>/", "DECIDE_CHANGE", pk="change",
         action=fixed("approve"), ok=302, body={"comment": "同意"},
         effect=value(DeviceChangeRequest, "change", "state")),
    # sites: readings, trends, aggregates, exports, the overview
    api("GET", "/api/devices/{device_id}/readings", "MONITOR", device_id="dust"),
    api("GET", "/api/devices/{device_id}/aggregates", "MONITOR", device_id="dust"),
    api("GET", "/api/devices/{device_id}/trend", "MONITOR", device_id="dust"),
    page("GET", "/sites/devices/<int:device_id>/readings.csv", "MONITOR", device_id="dust"),
    page("GET", "/sites/monitors/", "LIST_MONITORING", marker="dust_name"),
    # sites: alarms and commands
    api("GET", "/api/alarms", "LIST_MONITORING"),
    api("POST", "/api/alarms/{alarm_id}/acknowledge", "ACKNOWLEDGE", alarm_id="alarm",
        body={"comment": "已安排雾炮降尘"}, effect=value(Alarm, "alarm", "state")),
    api("POST", "/api/alarms/{alarm_id}/resolve", "RESOLVE", alarm_id="alarm", body={"comment": "复测达标"},
        effect=value(Alarm, "alarm", "state")),
    api("GET", "/api/alarms/{alarm_id}/commands", "MONITOR", alarm_id="alarm"),
    api("POST", "/api/devices/{device_id}/commands", "COMMAND", device_id="cannon", ok=201, body={"action": "on"},
        effect=count(ActuatorCommand, device="cannon")),
    page("GET", "/sites/alarms/", "LIST_MONITORING"),
    page("GET", "/sites/alarms/export.csv", "LIST_MONITORING"),
    page("GET", "/sites/alarms/stream/", "SIGNED_IN"),
    page("GET", "/sites/alarms/stream/", "READ_MONITORING", query={"project": "site"}),
    page("POST", "/sites/alarms/<int:pk>/<str:action>/", "ACKNOWLEDGE", pk="alarm", action=fixed("acknowledge"),
         ok=302, body={"comment": "已安排雾炮降尘"}, effect=value(Alarm, "alarm", "state")),
    page("POST", "/sites/alarms/<int:pk>/<str:action>/", "RESOLVE", pk="alarm", action=fixed("resolve"), ok=302,
         body={"comment": "复测达标"}, effect=value(Alarm, "alarm", "state")),
    page("POST", "/sites/devices/<int:device_id>/command/", "COMMAND", device_id="cannon", ok=302,
         body={"action": "on"}, effect=count(ActuatorCommand, device="cannon")),
    # sites: the real-name register, gates, cranes
    api("POST", "/api/projects/{project_id}/workers", "MANAGE_SITE", project_id="site", ok=201,
        body=lambda s: {"person_id": s.worker_candidate, "employer_id": s.gc, "trade": "钢筋工"},
        effect=count(SiteWorker, project="site")),
    api("GET", "/api/projects/{project_id}/gate-summary", "READ_WORKFORCE", project_id="site"),
    api("GET", "/api/projects/{project_id}/crane-operators", "READ_WORKFORCE", project_id="site"),
    # sites: limits
    page("GET", "/sites/limits/", "LIMITS"),
    page("GET", "/sites/limits/new/", "LIMITS"),
    page("POST", "/sites/limits/new/", "LIMITS", ok=302, body=limit_form(), effect=everywhere(LimitRule)),
    page("GET", "/sites/limits/<int:pk>/edit/", "EDIT_LIMIT", pk="override"),
    page("POST", "/sites/limits/<int:pk>/edit/", "EDIT_LIMIT", pk="override", ok=302, body=override_form,
         effect=value(LimitRule, "override", "warning")),
    page("POST", "/sites/limits/<int:pk>/<str:action>/", "EDIT_LIMIT", pk="override", action=fixed("deactivate"),
         ok=302, effect=value(LimitRule, "override", "active")),
]
# fmt: on

# --- device-authenticated routes ---------------------------------------------------------------------------
# HTTP devices present `X-Device-Token`; the columns are the token of an active device, of a retired device, a
# wrong token and none. (HJ 212 devices speak TCP to the gateway: sites/tests/test_gateway.py.)
TOKENS = ("active", "retired", "wrong", "none")


@dataclass(frozen=True)
class DeviceRoute:
    path: str
    device: str  # the side's attribute holding the active device's token
    expect: tuple[str, ...]  # per TOKENS: "ok" or "anon" (401 `unauthenticated`)
    body: dict
    effect: Callable[[Side], Any]
    ok: int
    method: str = "POST"

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    def payload(self) -> str:
        return json.dumps(self.body)


DEVICE_ROUTES = [
    DeviceRoute("/api/ingest/telemetry", "spare_token", (OK, ANON, ANON, ANON), {"values": {"a34004": 42.0}},
                count(Reading, device="spare"), ok=202),
    DeviceRoute("/api/ingest/gate", "gate_token", (OK, ANON, ANON, ANON),
                {"id_number": "110101199003077777", "direction": "in"}, count(GateEvent, device="gate"), ok=201),
]  # fmt: skip
