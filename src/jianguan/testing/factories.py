"""factory-boy factories for tests. Codes carry valid check characters."""

from __future__ import annotations

import datetime as dt
import itertools

import factory
from django.utils import timezone

from jianguan.accounts.models import Department, User
from jianguan.core import codes
from jianguan.core.models import Jurisdiction
from jianguan.projects.models import KeyPerson, Participant, Project
from jianguan.registry.models import Certificate, Enterprise, Person, Qualification

_uscc_seq = itertools.count(1)
_id_seq = itertools.count(1)


def next_uscc(division: str = "371302") -> str:
    n = next(_uscc_seq)
    return codes.make_uscc(f"91{division}{n:09d}")


def next_id_number() -> str:
    n = next(_id_seq)
    birth = dt.date(1970, 1, 1) + dt.timedelta(days=n * 37 % 9000)
    return codes.make_id_number("371302", birth, n % 999 + 1)


def city() -> Jurisdiction:
    obj, _ = Jurisdiction.objects.get_or_create(
        code="371300", defaults={"name": "临沂市", "kind": "city", "center_lat": 35.05, "center_lon": 118.35}
    )
    return obj


def division(code: str = "371302", name: str = "兰山区") -> Jurisdiction:
    obj, _ = Jurisdiction.objects.get_or_create(
        code=code,
        defaults={
            "name": name,
            "kind": "district",
            "parent": city(),
            "center_lat": 35.05,
            "center_lon": 118.35,
        },
    )
    return obj


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    name = factory.Sequence(lambda n: f"部门{n}")
    kind = Department.Kind.HOUSING
    jurisdiction = factory.LazyFunction(division)


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enterprise
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"测试企业{n}有限公司")
    uscc = factory.LazyFunction(next_uscc)
    kind = Enterprise.Kind.CONSTRUCTION
    jurisdiction = factory.LazyFunction(division)

    @factory.post_generation
    def qualified(obj, create, extracted, **kwargs):
        # Every non-developer gets a valid qualification of its kind unless qualified=False.
        if extracted is False or obj.kind == Enterprise.Kind.DEVELOPER:
            return
        today = timezone.localdate()
        Qualification.objects.create(
            enterprise=obj,
            kind=obj.kind,
            category="测试资质",
            grade="一级",
            number=f"Q{obj.pk}",
            valid_from=today - dt.timedelta(days=365),
            valid_until=today + dt.timedelta(days=365),
        )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    role = User.Role.INSPECTOR  # enterprise users need an enterprise: pass role= and enterprise=
    password = factory.PostGenerationMethodCall("set_password", "pw-123456")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def make_person(employer: Enterprise, name: str = "张三", certs: tuple[str, ...] = (), expired: bool = False) -> Person:
    person = Person(name=name, employer=employer, phone="13812345678")
    person.set_id_number(next_id_number())
    person.save()
    today = timezone.localdate()
    for kind in certs:
        until = today - dt.timedelta(days=10) if expired else today + dt.timedelta(days=365)
        Certificate.objects.create(
            person=person,
            kind=kind,
            number=f"C{person.pk}{kind}",
            valid_from=until - dt.timedelta(days=1000),
            valid_until=until,
        )
    return person


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"测试项目{n}")
    code = factory.Sequence(lambda n: f"371302-2026-{n:04d}")
    project_type = "housing"
    jurisdiction = factory.LazyFunction(division)
    address = "临沂市兰山区测试路1号"
    lat = 35.06
    lon = 118.34
    applicant = factory.SubFactory(EnterpriseFactory, kind=Enterprise.Kind.DEVELOPER)
    parameters = factory.LazyFunction(dict)


def staffed_project(**kwargs) -> Project:
    """A project with all required participants and key people holding valid certificates."""
    project = ProjectFactory(**kwargs)
    gc = EnterpriseFactory(kind=Enterprise.Kind.CONSTRUCTION)
    sup = EnterpriseFactory(kind=Enterprise.Kind.SUPERVISION)
    Participant.objects.bulk_create(
        [
            Participant(project=project, enterprise=project.applicant, role="owner"),
            Participant(project=project, enterprise=gc, role="general_contractor"),
            Participant(project=project, enterprise=sup, role="supervisor"),
            Participant(project=project, enterprise=EnterpriseFactory(kind=Enterprise.Kind.DESIGN), role="designer"),
            Participant(project=project, enterprise=EnterpriseFactory(kind=Enterprise.Kind.SURVEY), role="surveyor"),
        ]
    )
    KeyPerson.objects.create(
        project=project, person=make_person(gc, "李经理", ("constructor", "safety_b")), role="project_manager"
    )
    KeyPerson.objects.create(project=project, person=make_person(gc, "王安全", ("safety_c",)), role="safety_officer")
    KeyPerson.objects.create(
        project=project, person=make_person(sup, "赵总监", ("supervisor",)), role="chief_supervisor"
    )
    return project


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    """A group robot; pass url= (e.g. a local test server) and kind="dingtalk"/"wecom"."""

    class Meta:
        model = "notify.WebhookEndpoint"

    name = factory.Sequence(lambda n: f"群机器人{n}")
    kind = "dingtalk"
    url = "http://127.0.0.1:9/robot/send?access_token=test"
    jurisdiction = factory.LazyFunction(division)


def make_crane_operator(
    employer: Enterprise,
    name: str = "王司机",
    valid_from: dt.date = dt.date(2025, 1, 1),
    valid_until: dt.date = dt.date(2028, 1, 1),
) -> Person:
    """A person holding a 塔式起重机司机 special-operation certificate (valid over the given dates)."""
    person = make_person(employer, name)
    Certificate.objects.create(
        person=person,
        kind=Certificate.Kind.SPECIAL_OPERATION,
        operation_type="塔式起重机司机",
        number=f"T{person.pk}",
        valid_from=valid_from,
        valid_until=valid_until,
    )
    return person
