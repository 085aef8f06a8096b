"""Pickers that know the rules: who may be registered as a participant in a role, or hold a key post, with
what they hold (qualifications, certificates and their validity) and, for whoever may not, why not.

The same rules refuse a choice in the services (add/replace a participant or key person): an enterprise of
the wrong kind or without a valid qualification for the role, a person who is not an employee of the
participant answering for the post or lacks a valid certificate the post requires (prereview.KEY_POSTS:
项目经理 注册建造师 + 安全生产考核B证; 专职安全员 C证; 总监理工程师 注册监理工程师). The automatic pre-review
checks them again at submission, since certificates expire in between.

People are listed only as employees of the project's own participants: the registry of people is not searchable
through a project (issue 8, finding 2)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Case, Exists, OuterRef, Prefetch, Q, Value, When
from django.utils import timezone

from jianguan.registry.models import Certificate, Enterprise, Person, Qualification

from .models import KeyPerson, KeyPostRole, ParticipantRole, Project
from .prereview import ENTERPRISE_KIND_FOR_ROLE, KEY_POSTS

LIMIT = 20  # candidates shown at once; a search narrows them


@dataclass(frozen=True)
class Credential:
    """A qualification or certificate as the picker shows it."""

    label: str
    number: str
    valid_until: dt.date
    valid: bool
    relevant: bool  # one the role or post asks for


@dataclass
class Candidate:
    obj: Enterprise | Person
    credentials: list[Credential]
    problems: list[str]  # why it may not be chosen; empty: it may

    @property
    def eligible(self) -> bool:
        return not self.problems

    @property
    def pk(self) -> int:
        return self.obj.pk


@dataclass
class Picker:
    kind: str  # "participant" | "key_person"
    role: str
    role_label: str
    requirement: str  # what the role or post asks for, in words
    query: str
    candidates: list[Candidate] = field(default_factory=list)
    more: bool = False  # more matches than shown
    empty_reason: str = ""  # when nobody is eligible: why, and what to do

    @property
    def eligible(self) -> list[Candidate]:
        return [c for c in self.candidates if c.eligible]

    @property
    def ineligible(self) -> list[Candidate]:
        return [c for c in self.candidates if not c.eligible]


def _today(today: dt.date | None) -> dt.date:
    return today or timezone.localdate()


# --- participants -------------------------------------------------------------------------------------------


def participant_requirement(role: str) -> str:
    kind = ENTERPRISE_KIND_FOR_ROLE[role]
    if role == ParticipantRole.OWNER:
        return f"须为{Enterprise.Kind(kind).label}"
    return f"须为{Enterprise.Kind(kind).label}，且持有有效的{Enterprise.Kind(kind).label}资质"


def participant_problems(enterprise: Enterprise, role: str, today: dt.date | None = None) -> list[str]:
    """Why `enterprise` may not take part in `role` (empty: it may). Reads enterprise.qualifications.all()
    (prefetch it for many)."""
    today = _today(today)
    expected = ENTERPRISE_KIND_FOR_ROLE.get(role)
    if expected is None:
        return [f"未知参建角色：{role}"]
    role_label = ParticipantRole(role).label
    if enterprise.kind != expected:
        return [
            f"{enterprise.name}为{enterprise.get_kind_display()}，不能担任{role_label}"
            f"（须为{Enterprise.Kind(expected).label}）"
        ]
    if role == ParticipantRole.OWNER:
        return []
    quals = [q for q in enterprise.qualifications.all() if q.kind == expected]
    if not quals:
        return [f"{enterprise.name}无{Enterprise.Kind(expected).label}资质，不能担任{role_label}"]
    if not any(q.is_valid_on(today) for q in quals):
        latest = max(q.valid_until for q in quals)
        return [f"{enterprise.name}的资质已于{latest:%Y-%m-%d}过期，不能担任{role_label}"]
    return []


def _qualifications(enterprise: Enterprise, role: str, today: dt.date) -> list[Credential]:
    expected = ENTERPRISE_KIND_FOR_ROLE.get(role)
    return [
        Credential(f"{q.category}{q.grade}", q.number, q.valid_until, q.is_valid_on(today), q.kind == expected)
        for q in enterprise.qualifications.all()
    ]


def participant_candidates(
    project: Project, role: str, query: str = "", *, today: dt.date | None = None, limit: int = LIMIT
) -> Picker:
    """Enterprises matching `query` (name or USCC) for `role`: those of the role's kind first, each with its
    qualifications; those already registered in the role are left out."""
    today = _today(today)
    query = (query or "").strip()[:100]
    expected = ENTERPRISE_KIND_FOR_ROLE[role]
    picker = Picker("participant", role, ParticipantRole(role).label, participant_requirement(role), query)
    taken = project.participants.filter(role=role).values("enterprise_id")
    qs = Enterprise.objects.exclude(pk__in=taken).prefetch_related(
        Prefetch("qualifications", queryset=Qualification.objects.order_by("-valid_until"))
    )
    # Without a search: the role's kind only.
    matching = Q(name__icontains=query) | Q(uscc__icontains=query.upper()) if query else Q(kind=expected)
    qs = qs.filter(matching)
    # The role's kind first, those with a valid qualification for it first among them (the owner needs none),
    # then by name; one more than shown tells whether there are more.
    first = Case(When(kind=expected, then=Value(0)), default=Value(1))
    valid = Qualification.objects.filter(
        enterprise=OuterRef("pk"), kind=expected, valid_from__lte=today, valid_until__gte=today
    )
    qualified = (
        Value(0) if role == ParticipantRole.OWNER else Case(When(Exists(valid), then=Value(0)), default=Value(1))
    )
    rows = list(qs.order_by(first, qualified, "name", "pk")[: limit + 1])
    picker.more = len(rows) > limit
    for enterprise in rows[:limit]:
        problems = participant_problems(enterprise, role, today)
        picker.candidates.append(Candidate(enterprise, _qualifications(enterprise, role, today), problems))
    if not picker.eligible:
        picker.empty_reason = _no_participant(picker, expected)
    return picker


def _no_participant(picker: Picker, expected: str) -> str:
    kind = Enterprise.Kind(expected).label
    if picker.query and not picker.candidates:
        return f"没有名称或统一社会信用代码含“{picker.query}”的企业。请核对后重新搜索；企业须先在主体库登记。"
    if picker.query:
        return f"搜索到的企业都不能担任{picker.role_label}（原因见下）。{picker.role_label}{picker.requirement}。"
    return f"主体库中没有可担任{picker.role_label}的{kind}（{picker.requirement}）。请按名称或统一社会信用代码搜索。"


# --- key people ---------------------------------------------------------------------------------------------


def post_requirement(role: str) -> str:
    kinds, employer_role = KEY_POSTS[role]
    certs = "、".join(_short(kind) for kind in kinds)
    return f"须为本项目{ParticipantRole(employer_role).label}的在册人员，持有有效的{certs}"


def _short(kind: str) -> str:
    return {
        Certificate.Kind.CONSTRUCTOR: "注册建造师证书",
        Certificate.Kind.SAFETY_B: "安全生产考核合格证书（B类）",
        Certificate.Kind.SAFETY_C: "安全生产考核合格证书（C类）",
        Certificate.Kind.SUPERVISOR: "注册监理工程师证书",
    }.get(kind, Certificate.Kind(kind).label)


def key_person_problems(person: Person, role: str, today: dt.date | None = None) -> list[str]:
    """Why `person` (an employee of the right participant) may not hold the post: the certificates it needs,
    missing or expired. Reads person.certificates.all() (prefetch it for many)."""
    today = _today(today)
    kinds, _employer = KEY_POSTS[role]
    problems = []
    for kind in kinds:
        certs = [c for c in person.certificates.all() if c.kind == kind]
        if not certs:
            problems.append(f"无{_short(kind)}")
        elif not any(c.is_valid_on(today) for c in certs):
            latest = max(c.valid_until for c in certs)
            problems.append(f"{_short(kind)}已于{latest:%Y-%m-%d}过期")
    return problems


def key_person_candidates(
    project: Project, role: str, query: str = "", *, today: dt.date | None = None, limit: int = LIMIT
) -> Picker:
    """The employees of the participant answering for the post (KeyPerson.POST_EMPLOYERS), matching `query`
    (name), each with certificates and validity; those lacking a required certificate explained."""
    today = _today(today)
    query = (query or "").strip()[:50]
    kinds, employer_role = KEY_POSTS[role]
    picker = Picker("key_person", role, KeyPostRole(role).label, post_requirement(role), query)
    employers = list(project.participants.filter(role__in=KeyPerson.POST_EMPLOYERS[role]).select_related("enterprise"))
    if not employers:
        picker.empty_reason = (
            f"本项目尚未登记{ParticipantRole(employer_role).label}。{picker.role_label}"
            f"须为其在册人员：请先在“参建单位”中登记{ParticipantRole(employer_role).label}。"
        )
        return picker
    holding = project.key_people.filter(role=role).values("person_id")
    qs = (
        KeyPerson.eligible_people(project, role)
        .exclude(pk__in=holding)
        .prefetch_related(Prefetch("certificates", queryset=Certificate.objects.order_by("kind", "-valid_until")))
    )
    if query:
        qs = qs.filter(name__icontains=query)
    # Those holding every certificate the post needs, valid today, first (the filter is the database's).
    holds = [
        Exists(Certificate.objects.filter(person=OuterRef("pk"), kind=k, valid_from__lte=today, valid_until__gte=today))
        for k in kinds
    ]
    qualified = Case(When(Q(*holds), then=Value(0)), default=Value(1))
    rows = list(qs.order_by(qualified, "name", "pk")[: limit + 1])
    scored = [(person, key_person_problems(person, role, today)) for person in rows]
    picker.more = len(scored) > limit
    for person, problems in scored[:limit]:
        creds = [
            Credential(_certificate_label(c), c.number, c.valid_until, c.is_valid_on(today), c.kind in kinds)
            for c in person.certificates.all()
        ]
        picker.candidates.append(Candidate(person, creds, problems))
    if not picker.eligible:
        names = "、".join(p.enterprise.name for p in employers)
        if query and not picker.candidates:
            picker.empty_reason = f"{names}的在册人员中没有姓名含“{query}”的人员。"
        elif not picker.candidates:
            picker.empty_reason = f"{names}在人员库中没有在册人员（或均已登记为本项目{picker.role_label}）。"
        else:
            picker.empty_reason = (
                f"{names}的在册人员都不能担任{picker.role_label}（{picker.requirement}），原因见下。"
                "请由该单位在人员库中补登证书，或更换人员。"
            )
    return picker


def _certificate_label(cert: Certificate) -> str:
    suffix = f"（{cert.operation_type}）" if cert.operation_type else ""
    return f"{_short(cert.kind)}{suffix}"
