"""Schema-driven fuzzing of the whole API (schemathesis), in-process against the WSGI application.

Every operation of /api/openapi.json gets generated requests, valid and invalid (schemathesis' examples,
coverage and fuzzing phases), sent as the roles of a small world: the developer that files two projects, the
general contractor building one of them, the district regulator, an environment bureau officer whose sharing
rules grant the basic information and the monitoring, an anonymous client, and a gate (the device routes).
Each answer must be no server error, have a status its operation documents, match the documented schema, and
an invalid request must be refused. Ids in paths and bodies are the generated ones or, as often, those of the
world's objects, so that requests reach the services behind the 404s.

Deterministic (a fixed seed, derandomized Hypothesis, no example database): CI runs a short pass (10 examples
per operation and phase); `JIANGUAN_FUZZ_EXAMPLES=200 ./run test -m fuzz` runs a longer one by hand
(docs/api-fuzzing.md).
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections, transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from jianguan.accounts import services as account_services
from jianguan.accounts.models import DataSharingRule, Department, User
from jianguan.core.schemas import MAX_ID
from jianguan.ledger import services as ledger
from jianguan.projects import lifecycle
from jianguan.projects import services as project_services
from jianguan.projects.models import KeyPerson, PreReview, ProgressReport, State
from jianguan.registry.models import Enterprise
from jianguan.sites.devices import services as device_services
from jianguan.sites.models import Alarm, Device, LimitRule, Reading
from jianguan.sites.workforce import gates, roster
from jianguan.testing import factories as f
from jianguan.testing.files import PDF

EXAMPLES = int(os.environ.get("JIANGUAN_FUZZ_EXAMPLES", "10"))
SEED = int(os.environ.get("JIANGUAN_FUZZ_SEED", "371300"))
# A survey instead of a test: every answer's status, and whether its operation documents it, appended to this
# file (one line per request: method, path, role, status, "documented" or "undocumented").
SURVEY = os.environ.get("JIANGUAN_FUZZ_SURVEY", "")


def not_a_server_error_but_a_declared_503(ctx, response, case):
    """not_a_server_error, except a 503 the operation declares: a health check answers it on purpose while a
    service it depends on is down. Any other 5xx, declared or not, is a bug."""
    if response.status_code == 503 and "503" in case.operation.definition.raw.get("responses", {}):
        return None
    return not_a_server_error(ctx, response, case)


CHECKS = [
    not_a_server_error_but_a_declared_503,
    status_code_conformance,
    response_schema_conformance,
    negative_data_rejection,
    unsupported_method,  # a method the path does not have: 405 with Allow
]
TEXT_PART_CHECKS = [check for check in CHECKS if check is not negative_data_rejection]  # see _text_stays_text
SIGNED_IN = ["developer", "contractor", "regulator", "officer"]
USER_ROLES = [*SIGNED_IN, "anonymous"]

pytestmark = pytest.mark.fuzz


@dataclass
class World:
    """What a fuzzed request may name: ids of real objects by the parameter name that takes them, other values
    of the world by parameter name and operation, and each role's credentials."""

    ids: dict[str, list[int]] = field(default_factory=dict)
    values: dict[tuple[str, str], list] = field(default_factory=dict)  # (operation path, field) → values
    logins: list[dict[str, str]] = field(default_factory=list)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)


CURRENT: dict[str, World] = {}


def build_world() -> World:
    lanshan = f.division("371302", "兰山区")
    luozhuang = f.division("371311", "罗庄区")
    developer = f.EnterpriseFactory(kind=Enterprise.Kind.DEVELOPER)
    owner = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=developer)
    regulator = f.UserFactory(
        role=User.Role.DISTRICT_REGULATOR,
        department=f.DepartmentFactory(name="兰山区住建局", jurisdiction=lanshan),
    )
    officer = f.UserFactory(
        role=User.Role.DEPT_OFFICER,
        department=Department.objects.create(name="兰山区生态环境局", kind="environment", jurisdiction=lanshan),
    )
    for part in (DataSharingRule.Resource.PROJECT_BASIC, DataSharingRule.Resource.SITE_MONITORING):
        DataSharingRule.objects.get_or_create(
            department_kind="environment", resource=part, defaults={"purpose": "扬尘监管", "legal_basis": "测试"}
        )

    built = f.staffed_project(state=State.UNDER_CONSTRUCTION, jurisdiction=lanshan, applicant=developer)
    draft = f.staffed_project(state=State.DRAFT, jurisdiction=lanshan, applicant=developer)
    other = f.staffed_project(state=State.PERMITTED, jurisdiction=luozhuang)
    gc = built.participants.get(role="general_contractor").enterprise
    contractor = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=gc)

    version = project_services.upload_document(owner, draft, kind="planning_permit", file_name="合同.pdf", content=PDF)
    ProgressReport.objects.create(
        project=built, enterprise=gc, report_date=timezone.localdate(), percent_complete=40, summary="主体施工"
    )
    PreReview.objects.create(project=built, findings=[], clean=True)

    dust = Device.objects.create(project=built, name="东门监测", kind="dust_noise", protocol="hj212", mn="FZ01")
    crane = Device.objects.create(project=built, name="1号塔吊", kind="crane", protocol="mqtt", mqtt_client_id="fz-c1")
    sprinkler = Device.objects.create(
        project=built, name="1号雾炮", kind="actuator", protocol="mqtt", mqtt_client_id="fz-a1"
    )
    gate = Device.objects.create(project=built, name="东门闸机", kind="gate", protocol="http")
    gate_token = device_services.issue_http_token(gate)
    far = Device.objects.create(project=other, name="南门监测", kind="dust_noise", protocol="hj212", mn="FZ02")
    now = timezone.now()
    Reading.objects.create(device=dust, parameter="a34004", series=0, ts=now - dt.timedelta(minutes=5), value=80.0)
    rule = LimitRule.objects.filter(parameter="a34004", jurisdiction=None).first()
    alarm = Alarm.objects.create(
        project=built, device=dust, rule=rule, parameter="a34004", severity="warning", raised_at=now,
        first_value=120.0, last_value=120.0, peak_value=120.0,
    )  # fmt: skip

    worker_person = f.make_person(gc, "周工人")
    roster.register_worker(regulator, built, person_id=worker_person.pk, employer_id=gc.pk)
    gates.record_entry(gate, worker_person.reveal_id_number(), "in", now - dt.timedelta(hours=1))
    ledger.sign_checkpoint()

    tokens = {
        name: account_services.issue_token(user, "fuzz")
        for name, user in zip(SIGNED_IN, (owner, contractor, regulator, officer), strict=True)
    }
    world = World()
    world.ids = {
        "project_id": [built.pk, draft.pk, other.pk],
        "participant_id": list(draft.participants.values_list("pk", flat=True)[:2]),
        "document_id": [version.document_id],
        "number": [version.number],
        "device_id": [dust.pk, crane.pk, sprinkler.pk, gate.pk, far.pk],
        "alarm_id": [alarm.pk],
        "token_id": [token.pk for token, _ in tokens.values()],
        "enterprise_id": [developer.pk, gc.pk],
        "employer_id": [gc.pk],
        "person_id": [
            worker_person.pk,
            *KeyPerson.objects.filter(project__in=(built, draft)).values_list("person_id", flat=True),
        ],
        "index": [0, max(ledger.tree_size() - 1, 0)],
    }
    world.values = {
        ("/api/projects/{project_id}/transitions", "name"): list(lifecycle.RULES),
        ("/api/projects", "jurisdiction_code"): ["371302", "371311"],
        ("/api/projects/{project_id}", "jurisdiction_code"): ["371302", "371311"],
    }
    world.logins = [{"username": owner.username, "password": "pw-123456"}]  # the factories' password
    world.headers = {name: {"Authorization": f"Bearer {key}"} for name, (_, key) in tokens.items()}
    world.headers["anonymous"] = {}
    world.headers["gate"] = {"X-Device-Token": gate_token}
    return world


def _is_id(value: object) -> bool:
    return type(value) is int and 1 <= value <= MAX_ID


def _is_short_text(value: object) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 12


def _known(operation_path: str, values: dict | None) -> st.SearchStrategy:
    """The generated values, or the same with some replaced by the world's: ids by ids of real objects, a few
    other fields (a transition's name, a district code) by values that mean something, credentials by a
    user's. Only a value the schema accepts is replaced, by another it accepts: an invalid request stays
    invalid and a valid one valid."""
    world = CURRENT.get("world")
    if not isinstance(values, dict) or world is None:
        return st.just(values)
    choices = {}
    for key, value in values.items():
        known = world.values.get((operation_path, key))
        if key in world.ids and _is_id(value):
            choices[key] = st.sampled_from([value, *world.ids[key]])
        elif known and _is_short_text(value):
            choices[key] = st.sampled_from([value, *known])
        else:
            choices[key] = st.just(value)
    strategy = st.fixed_dictionaries(choices)
    if operation_path == "/api/auth/token" and _valid_login(values):
        strategy = strategy.flatmap(lambda body: st.sampled_from([body, *({**body, **o} for o in world.logins)]))
    return strategy


def _valid_login(values: dict) -> bool:
    from jianguan.accounts.api import TokenIn

    try:
        TokenIn.model_validate({"username": values.get("username"), "password": values.get("password")})
    except ValidationError:
        return False
    return True


def _text_stays_text(case) -> bool:
    """A multipart/form-data text part is text whatever value it was generated from: a text field mutated to
    another JSON type (an object, a number) arrives as a string ("{}", "5"), which the field rightly accepts.
    Schemathesis counts such a case invalid; the request on the wire is not. Only these cases skip
    negative_data_rejection (every other check still runs)."""
    if case.media_type != "multipart/form-data" or case.meta is None:
        return False
    mutations = case.meta.phase.data.mutations
    return bool(mutations) and all(
        m.parameter_location == ParameterLocation.BODY and m.keywords == ("type",) and m.original_value == "string"
        for m in mutations
    )


def _load_schema():
    """/api/openapi.json as the WSGI application serves it (loaded at collection: one test per operation)."""
    from jianguan.wsgi import application

    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "max-examples": EXAMPLES,
                "deterministic": True,
                "database": "none",
                "mode": "all",
                "with-security-parameters": False,
            },
        }
    )
    with _in_process():
        loaded = schemathesis.openapi.from_wsgi("/api/openapi.json", application, config=config)

    @loaded.hook
    def flatmap_path_parameters(context, path_parameters):
        return _known(context.operation.path, path_parameters)

    @loaded.hook
    def flatmap_body(context, body):
        return _known(context.operation.path, body)

    return loaded


@contextmanager
def _in_process():
    """As Django's test client does: the request signals must not close the connection (it holds the test's
    transaction)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def _fuzz_media(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz-media")


@pytest.fixture(autouse=True)
def _media_root(settings, _fuzz_media):
    """One media folder for the module: the world's files are written once, before the tests."""
    settings.MEDIA_ROOT = _fuzz_media


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, _fuzz_media):
    """Built once for the module in a transaction rolled back at its end; every request runs in a savepoint
    rolled back after it, so each starts from the same world."""
    from django.test import override_settings

    from jianguan.sites.alarms.rules import invalidate_rules
    from jianguan.sites.devices import identity
    from jianguan.sites.ingest import store

    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=_fuzz_media), _in_process():
        with transaction.atomic():
            invalidate_rules()
            identity.invalidate_cache()
            store.forget_last_seen()
            CURRENT["world"] = built = build_world()
            try:
                yield built
            finally:
                CURRENT.clear()
                transaction.set_rollback(True)
        invalidate_rules()
        identity.invalidate_cache()
        store.forget_last_seen()


def _survey(case, role: str, response) -> None:
    documented = case.operation.definition.raw.get("responses", {})
    status = str(response.status_code)
    verdict = "documented" if status in documented or "default" in documented else "undocumented"
    phase, mode = (case.meta.phase.name.value, case.meta.generation.mode.value) if case.meta else ("-", "-")
    with open(SURVEY, "a", encoding="utf-8") as out:
        out.write(f"{case.method.upper()} {case.path} {role} {status} {verdict} {phase} {mode}\n")


_turns: defaultdict[str, itertools.count] = defaultdict(itertools.count)


def _roles_for(case) -> list[str]:
    """A valid request goes out as every role: what it may do depends on who asks. An invalid one is refused by
    the schema before any service sees it, whoever asks: it goes out as anonymous and as one signed-in role,
    in turn per operation (so the same roles whatever the order of the tests), which keeps the pass short.
    The device routes are for the gate (and anonymous)."""
    if case.path.startswith("/api/ingest/"):
        return ["gate", "anonymous"]
    if case.meta is not None and case.meta.generation.mode.is_negative:
        return ["anonymous", SIGNED_IN[next(_turns[case.operation.label]) % len(SIGNED_IN)]]
    return USER_ROLES


schema = _load_schema()


# No health check: `db` is function-scoped on purpose (each request has its savepoint), and a check that
# measures time (too_slow) would make a deterministic test fail on a busy machine.
@schema.parametrize()
@settings(suppress_health_check=list(HealthCheck))
def test_no_route_errs_accepts_invalid_input_or_answers_an_undocumented_status(case, world, db):
    for role in _roles_for(case):
        with transaction.atomic():
            try:
                if SURVEY:
                    _survey(case, role, case.call(headers=world.headers[role], buffered=True))
                else:
                    # buffered: the WSGI response is read whole and closed, as a server does (closing the
                    # request's uploaded files)
                    checks = CHECKS if not _text_stays_text(case) else TEXT_PART_CHECKS
                    case.call_and_validate(headers=world.headers[role], checks=checks, buffered=True)
            except BaseException as exc:
                exc.add_note(f"(sent as: {role})")
                raise
            transaction.set_rollback(True)


def test_the_checks_fail_on_a_server_error_and_on_an_undocumented_status(world, db, monkeypatch):
    """The test above can fail: a route that errs, or answers a status its operation does not document."""
    from django.core.exceptions import PermissionDenied
    from schemathesis.core.failures import FailureGroup

    from jianguan.accounts.models import User as UserModel

    case = schema["/api/me"]["GET"].Case()
    with _in_process():
        case.call_and_validate(headers=world.headers["developer"], checks=CHECKS, buffered=True)
        monkeypatch.setattr(UserModel, "get_role_display", lambda self: 1 / 0)
        with pytest.raises(FailureGroup, match="Server error"):
            case.call_and_validate(headers=world.headers["developer"], checks=CHECKS, buffered=True)
        monkeypatch.undo()

        class Refusing:
            def select_related(self, *args):
                raise PermissionDenied  # answered 403, which GET /api/jurisdictions does not document

        listing = schema["/api/jurisdictions"]["GET"].Case()
        listing.call_and_validate(checks=CHECKS, buffered=True)
        monkeypatch.setattr("jianguan.core.api.Jurisdiction.objects", Refusing())
        with pytest.raises(FailureGroup, match="Undocumented status code"):
            listing.call_and_validate(checks=CHECKS, buffered=True)
