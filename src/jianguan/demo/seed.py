"""Linyi demo data: divisions, departments, sharing rules, users of every role, ~150 enterprises,
~600 people with certificates and ~200 projects in every lifecycle state. All synthetic, marked is_demo;
codes carry valid check characters. Deterministic (seeded) so screenshots and tests are repeatable."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Callable

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from jianguan.accounts.models import DataSharingRule, Department, User
from jianguan.core import codes
from jianguan.core.models import AuditEvent, Jurisdiction
from jianguan.ledger import services as ledger
from jianguan.projects.models import (
    Document,
    DocumentVersion,
    KeyPerson,
    Participant,
    PreReview,
    Project,
    ProjectType,
    State,
    Transition,
)
from jianguan.projects.requirements import filing_requirements
from jianguan.registry.models import Certificate, Enterprise, Person, Qualification
from jianguan.review import demo as review_demo
from jianguan.sites.devices import identity
from jianguan.sites.models import Device, SiteWorker
from jianguan.sites.workforce import gates

from .divisions import CITY, DIVISIONS, ZONES, approximate_boundary

DEMO_PASSWORD = "jianguan-demo"
DEMO_DEVICE_PASSWORD = "123456"
USCC_ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
    "余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建国志文斌鹏辉海波宁浩峰亮成龙凯健俊帅鑫宇晨"
PLACE_WORDS = [
    "沂蒙",
    "琅琊",
    "临沂",
    "兰山",
    "沂河",
    "祊河",
    "蒙山",
    "银雀山",
    "书圣",
    "罗庄",
    "河东",
    "沂州",
    "鲁南",
    "华东",
    "齐鲁",
    "金雀山",
    "凤凰岭",
    "北城",
]
KIND_SUFFIX = {
    Enterprise.Kind.DEVELOPER: [
        "置业有限公司",
        "房地产开发有限公司",
        "城市建设投资集团有限公司",
        "产业园开发有限公司",
    ],
    Enterprise.Kind.CONSTRUCTION: [
        "建设集团有限公司",
        "建筑工程有限公司",
        "建工集团有限公司",
        "市政工程有限公司",
        "路桥工程有限公司",
    ],
    Enterprise.Kind.SUPERVISION: ["工程监理有限公司", "建设监理咨询有限公司", "工程项目管理有限公司"],
    Enterprise.Kind.DESIGN: ["建筑设计研究院有限公司", "市政设计院有限公司", "规划建筑设计有限公司"],
    Enterprise.Kind.SURVEY: ["勘察测绘有限公司", "岩土工程勘察有限公司", "地质勘察院有限公司"],
}
QUALIFICATIONS = {
    Enterprise.Kind.CONSTRUCTION: [
        ("建筑工程施工总承包", ["特级", "一级", "二级"]),
        ("市政公用工程施工总承包", ["一级", "二级"]),
    ],
    Enterprise.Kind.SUPERVISION: [
        ("房屋建筑工程监理", ["甲级", "乙级"]),
        ("市政公用工程监理", ["甲级", "乙级"]),
    ],
    Enterprise.Kind.DESIGN: [("建筑行业（建筑工程）设计", ["甲级", "乙级"])],
    Enterprise.Kind.SURVEY: [("工程勘察专业类（岩土工程）", ["甲级", "乙级"])],
}
ENTERPRISE_COUNTS = {
    Enterprise.Kind.DEVELOPER: 35,
    Enterprise.Kind.CONSTRUCTION: 55,
    Enterprise.Kind.SUPERVISION: 25,
    Enterprise.Kind.DESIGN: 15,
    Enterprise.Kind.SURVEY: 20,
}
STATE_COUNTS = [
    (State.DRAFT, 14),
    (State.PREREVIEW_FAILED, 10),
    (State.UNDER_REVIEW, 20),
    (State.RETURNED, 5),
    (State.REJECTED, 3),
    (State.PERMITTED, 18),
    (State.UNDER_CONSTRUCTION, 95),
    (State.SUSPENDED, 8),
    (State.ACCEPTANCE, 14),
    (State.ARCHIVED, 13),
]
# The happy path through the lifecycle, to make each demo project's history plausible.
PATH = [
    ("submit", State.DRAFT, State.SUBMITTED),
    ("pass_prereview", State.SUBMITTED, State.UNDER_REVIEW),
    ("approve", State.UNDER_REVIEW, State.PERMITTED),
    ("start_construction", State.PERMITTED, State.UNDER_CONSTRUCTION),
    ("apply_acceptance", State.UNDER_CONSTRUCTION, State.ACCEPTANCE),
    ("archive", State.ACCEPTANCE, State.ARCHIVED),
]
STREETS = [
    "北京路",
    "上海路",
    "沂蒙路",
    "解放路",
    "金雀山路",
    "通达路",
    "蒙山大道",
    "滨河大道",
    "工业大道",
    "临西八路",
    "南京路",
    "平安路",
]

TINY_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def _person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))


def _uscc(rng: random.Random, division: str) -> str:
    org = "".join(rng.choice(USCC_ORG_ALPHABET) for _ in range(9))
    return codes.make_uscc("91" + division + org)


def seed_divisions() -> dict[str, Jurisdiction]:
    code, name, kind, lat, lon = CITY
    city, _ = Jurisdiction.objects.update_or_create(
        code=code,
        defaults=dict(
            name=name,
            kind=kind,
            center_lat=lat,
            center_lon=lon,
            boundary=approximate_boundary(lat, lon, kind),
        ),
    )
    result = {code: city}
    for rows, confirmed in ((DIVISIONS, True), (ZONES, False)):
        for code, name, kind, lat, lon in rows:
            result[code], _ = Jurisdiction.objects.update_or_create(
                code=code,
                defaults=dict(
                    name=name,
                    kind=kind,
                    parent=city,
                    center_lat=lat,
                    center_lon=lon,
                    boundary=approximate_boundary(lat, lon, kind),
                    code_confirmed=confirmed,
                ),
            )
    return result


def seed_departments(jur: dict[str, Jurisdiction]) -> dict[str, Department]:
    city = jur["371300"]
    depts = {}
    city_names = {
        Department.Kind.HOUSING: "临沂市住房和城乡建设局",
        Department.Kind.HR: "临沂市人力资源和社会保障局",
        Department.Kind.ENVIRONMENT: "临沂市生态环境局",
        Department.Kind.POLICE: "临沂市公安局",
        Department.Kind.URBAN: "临沂市城市管理局",
        Department.Kind.EMERGENCY: "临沂市应急管理局",
    }
    for kind, name in city_names.items():
        depts[f"city:{kind}"], _ = Department.objects.get_or_create(
            name=name, defaults={"kind": kind, "jurisdiction": city}
        )
    for code, j in jur.items():
        if code == "371300":
            continue
        name = f"{j.name}住房和城乡建设局" if j.kind != "zone" else f"{j.name}建设管理部门"
        depts[code], _ = Department.objects.get_or_create(
            name=name, defaults={"kind": Department.Kind.HOUSING, "jurisdiction": j}
        )
    rules = [
        (
            Department.Kind.HR,
            DataSharingRule.Resource.PROJECT_BASIC,
            "农民工工资支付监管",
            "《保障农民工工资支付条例》",
        ),
        (
            Department.Kind.HR,
            DataSharingRule.Resource.PROJECT_PARTICIPANTS,
            "欠薪处置核对总包与分包单位",
            "《保障农民工工资支付条例》",
        ),
        (
            Department.Kind.HR,
            DataSharingRule.Resource.SITE_WORKFORCE,
            "核对实名制用工与考勤，查处拖欠农民工工资",
            "《保障农民工工资支付条例》",
        ),
        (
            Department.Kind.ENVIRONMENT,
            DataSharingRule.Resource.PROJECT_BASIC,
            "施工扬尘与噪声联合监管",
            "《大气污染防治法》《噪声污染防治法》",
        ),
        (
            Department.Kind.ENVIRONMENT,
            DataSharingRule.Resource.SITE_MONITORING,
            "施工扬尘与噪声在线监测数据共享",
            "《大气污染防治法》《噪声污染防治法》",
        ),
        (
            Department.Kind.URBAN,
            DataSharingRule.Resource.PROJECT_BASIC,
            "渣土运输与占道施工管理",
            "城市管理联合执法机制",
        ),
        (
            Department.Kind.EMERGENCY,
            DataSharingRule.Resource.PROJECT_BASIC,
            "安全生产事故应急处置",
            "《安全生产法》",
        ),
        (
            Department.Kind.EMERGENCY,
            DataSharingRule.Resource.PROJECT_PARTICIPANTS,
            "事故调查核对责任主体",
            "《安全生产法》",
        ),
        (
            Department.Kind.EMERGENCY,
            DataSharingRule.Resource.SITE_MONITORING,
            "塔吊等起重机械与现场安全告警的应急联动",
            "《安全生产法》",
        ),
        (
            Department.Kind.POLICE,
            DataSharingRule.Resource.PROJECT_BASIC,
            "涉工地治安与欠薪群体性事件处置",
            "联合执法协作机制",
        ),
    ]
    for kind, resource, purpose, basis in rules:
        DataSharingRule.objects.get_or_create(
            department_kind=kind, resource=resource, defaults={"purpose": purpose, "legal_basis": basis}
        )
    return depts


def seed_enterprises(rng: random.Random, jur: dict[str, Jurisdiction], today: dt.date) -> dict[str, list[Enterprise]]:
    codes_list = [c for c, *_ in DIVISIONS]
    by_kind: dict[str, list[Enterprise]] = {}
    used_names: set[str] = set()
    quals = []
    for kind, count in ENTERPRISE_COUNTS.items():
        for _ in range(count):
            name = ""
            while not name or name in used_names:
                name = (
                    rng.choice(PLACE_WORDS)
                    + rng.choice(["", "恒", "鸿", "泰", "盛", "远", "诚", "信"])
                    + rng.choice(KIND_SUFFIX[kind])
                )
            used_names.add(name)
            division = rng.choice(codes_list)
            ent = Enterprise.objects.create(
                name=name,
                uscc=_uscc(rng, division),
                kind=kind,
                jurisdiction=jur[division],
                legal_representative=_person_name(rng),
                address=f"临沂市{jur[division].name}{rng.choice(STREETS)}{rng.randint(1, 999)}号",
                is_demo=True,
            )
            by_kind.setdefault(kind, []).append(ent)
            for category, grades in QUALIFICATIONS.get(kind, [])[: rng.choice([1, 2])]:
                expired = rng.random() < 0.05
                until = (
                    today - dt.timedelta(days=rng.randint(10, 200))
                    if expired
                    else today + dt.timedelta(days=rng.randint(200, 1500))
                )
                quals.append(
                    Qualification(
                        enterprise=ent,
                        kind=kind,
                        category=category,
                        grade=rng.choice(grades),
                        number=f"D{rng.randint(100000000, 999999999)}",
                        valid_from=until - dt.timedelta(days=5 * 365),
                        valid_until=until,
                    )
                )
    Qualification.objects.bulk_create(quals)
    return by_kind


def _make_person(rng: random.Random, employer: Enterprise, used: set[str]) -> Person:
    while True:
        birth = dt.date(rng.randint(1965, 2000), rng.randint(1, 12), rng.randint(1, 28))
        number = codes.make_id_number(
            rng.choice(["371302", "371311", "371312", "371321", "371325"]), birth, rng.randint(1, 999)
        )
        if number not in used:
            used.add(number)
            break
    person = Person(
        name=_person_name(rng),
        employer=employer,
        phone=f"1{rng.choice('3589')}{rng.randint(100000000, 999999999)}",
        is_demo=True,
    )
    person.set_id_number(number)
    person.save()
    return person


def _cert(rng, person, kind, today, operation_type="", expired=False) -> Certificate:
    until = (
        today - dt.timedelta(days=rng.randint(5, 300)) if expired else today + dt.timedelta(days=rng.randint(180, 1100))
    )
    return Certificate(
        person=person,
        kind=kind,
        operation_type=operation_type,
        number=f"鲁{kind[:2].upper()}{rng.randint(10000000, 99999999)}",
        issuer="山东省住房和城乡建设厅",
        valid_from=until - dt.timedelta(days=3 * 365),
        valid_until=until,
    )


def seed_people(
    rng: random.Random, by_kind: dict[str, list[Enterprise]], today: dt.date
) -> dict[int, dict[str, list[Person]]]:
    """Per enterprise: people by post (pm, safety, operator, chief)."""
    staff: dict[int, dict[str, list[Person]]] = {}
    certs: list[Certificate] = []
    used: set[str] = set()
    ops = ["塔式起重机司机", "建筑起重信号司索工", "建筑电工", "建筑架子工", "施工升降机司机"]
    for ent in by_kind[Enterprise.Kind.CONSTRUCTION]:
        posts = staff.setdefault(ent.pk, {"pm": [], "safety": [], "operator": []})
        for _ in range(3):
            p = _make_person(rng, ent, used)
            certs += [
                _cert(rng, p, Certificate.Kind.CONSTRUCTOR, today, "建筑工程"),
                _cert(rng, p, Certificate.Kind.SAFETY_B, today, expired=rng.random() < 0.04),
            ]
            posts["pm"].append(p)
        for _ in range(3):
            p = _make_person(rng, ent, used)
            certs.append(_cert(rng, p, Certificate.Kind.SAFETY_C, today, expired=rng.random() < 0.04))
            posts["safety"].append(p)
        for _ in range(4):
            p = _make_person(rng, ent, used)
            certs.append(
                _cert(
                    rng,
                    p,
                    Certificate.Kind.SPECIAL_OPERATION,
                    today,
                    rng.choice(ops),
                    expired=rng.random() < 0.05,
                )
            )
            posts["operator"].append(p)
    for ent in by_kind[Enterprise.Kind.SUPERVISION]:
        posts = staff.setdefault(ent.pk, {"chief": []})
        for _ in range(4):
            p = _make_person(rng, ent, used)
            certs.append(_cert(rng, p, Certificate.Kind.SUPERVISOR, today, "房屋建筑工程"))
            posts["chief"].append(p)
    Certificate.objects.bulk_create(certs)
    return staff


def _parameters(rng: random.Random, project_type: str, floors_below: int, height: float) -> dict:
    params: dict = {}
    if floors_below:
        params["excavation_depth_m"] = round(floors_below * rng.uniform(3.6, 5.2), 1)
    elif project_type in {ProjectType.WATER, ProjectType.MUNICIPAL_ROAD} and rng.random() < 0.5:
        params["excavation_depth_m"] = round(rng.uniform(1.5, 6.0), 1)
    if height >= 24:
        params["floor_scaffold_height_m"] = round(min(height, rng.uniform(20, 60)), 1)
    if rng.random() < 0.35:
        params["formwork_height_m"] = round(rng.uniform(3.5, 9.5), 1)
        params["formwork_span_m"] = round(rng.uniform(6, 20), 1)
    if height >= 30 or rng.random() < 0.3:
        params["installs_lifting_machinery"] = True
        params["crane_capacity_kn"] = rng.choice([80, 100, 160, 250, 315, 400])
    if rng.random() < 0.2:
        params["curtain_wall"] = True
        params["curtain_wall_height_m"] = round(rng.uniform(10, min(max(height, 12), 80)), 1)
    if rng.random() < 0.1:
        params["suspended_platform"] = True
    return params


def _pick(rng, seq):
    return seq[rng.randrange(len(seq))]


def seed_projects(
    rng: random.Random,
    jur: dict[str, Jurisdiction],
    by_kind: dict[str, list[Enterprise]],
    staff: dict[int, dict[str, list[Person]]],
    today: dt.date,
    progress: Callable[[str], None],
    scale: int = 1,
) -> list[Project]:
    states = [s for s, n in STATE_COUNTS for _ in range(n * scale)]
    rng.shuffle(states)
    # Weighted towards the three urban districts, as building activity is.
    divisions = [c for c, *_ in DIVISIONS] + [c for c, *_ in ZONES]
    weights = [6, 4, 4] + [1.5] * 9 + [1.5, 1.5, 1]
    type_weights = [
        (ProjectType.HOUSING, 10),
        (ProjectType.PUBLIC_BUILDING, 3),
        (ProjectType.MUNICIPAL_ROAD, 3),
        (ProjectType.INDUSTRIAL_PARK, 2),
        (ProjectType.WATER, 1),
        (ProjectType.TRANSPORT, 1),
        (ProjectType.LANDSCAPE, 1),
    ]
    type_names = {
        ProjectType.HOUSING: ["{p}花园{n}期住宅项目", "{p}府{n}号地块住宅楼", "{p}新城安置区{n}期"],
        ProjectType.PUBLIC_BUILDING: [
            "{p}中学教学楼",
            "{p}人民医院门诊综合楼",
            "{p}文化中心",
            "{p}社区服务中心",
        ],
        ProjectType.MUNICIPAL_ROAD: ["{p}路改造工程", "{p}大道东延工程", "{p}路雨污分流工程"],
        ProjectType.INDUSTRIAL_PARK: ["{p}智能制造产业园{n}号厂房", "{p}物流园仓储中心"],
        ProjectType.WATER: ["{p}河综合治理工程", "{p}水厂扩建工程"],
        ProjectType.TRANSPORT: ["{p}互通立交工程", "{p}公交枢纽站"],
        ProjectType.LANDSCAPE: ["{p}公园提升工程", "{p}滨河绿道工程"],
    }
    documents_to_write: list[tuple[Document, str]] = []
    projects = []
    regulator_cache: dict[str, User | None] = {}
    for i, state in enumerate(states):
        code = rng.choices(divisions, weights)[0]
        j = jur[code]
        ptype = rng.choices([t for t, _ in type_weights], [w for _, w in type_weights])[0]
        owner = _pick(rng, by_kind[Enterprise.Kind.DEVELOPER])
        gc = _pick(rng, by_kind[Enterprise.Kind.CONSTRUCTION])
        sup = _pick(rng, by_kind[Enterprise.Kind.SUPERVISION])
        building = ptype in {ProjectType.HOUSING, ProjectType.PUBLIC_BUILDING, ProjectType.INDUSTRIAL_PARK}
        floors = rng.choice([3, 6, 11, 18, 26, 33]) if building else None
        floors_below = rng.choice([0, 1, 1, 2]) if building else 0
        height = round(floors * rng.uniform(2.9, 3.3), 1) if floors else 0.0
        start = today - dt.timedelta(days=rng.randint(-60, 700))
        name = _pick(rng, type_names[ptype]).format(p=rng.choice(PLACE_WORDS), n=rng.randint(1, 5))
        project = Project.objects.create(
            name=name,
            code=f"{code}-{start.year}-{i + 1:04d}",
            project_type=ptype,
            jurisdiction=j,
            address=f"临沂市{j.name}{rng.choice(STREETS)}与{rng.choice(STREETS)}交汇处",
            lat=round(j.center_lat + rng.uniform(-0.04, 0.04), 6),
            lon=round(j.center_lon + rng.uniform(-0.05, 0.05), 6),
            floor_area_m2=round(rng.uniform(5000, 180000), 0) if building else None,
            investment_wan=round(rng.uniform(800, 60000), 0),
            floors_above=floors,
            floors_below=floors_below if building else None,
            height_m=height or None,
            parameters=_parameters(rng, ptype, floors_below, height),
            planned_start=start,
            planned_end=start + dt.timedelta(days=rng.randint(300, 1100)),
            state=state,
            applicant=owner,
            is_demo=True,
        )
        Participant.objects.bulk_create(
            [
                Participant(project=project, enterprise=owner, role="owner"),
                Participant(project=project, enterprise=gc, role="general_contractor"),
                Participant(project=project, enterprise=sup, role="supervisor"),
                Participant(project=project, enterprise=_pick(rng, by_kind[Enterprise.Kind.DESIGN]), role="designer"),
                Participant(project=project, enterprise=_pick(rng, by_kind[Enterprise.Kind.SURVEY]), role="surveyor"),
            ]
        )
        KeyPerson.objects.bulk_create(
            [
                KeyPerson(project=project, person=_pick(rng, staff[gc.pk]["pm"]), role="project_manager"),
                KeyPerson(project=project, person=_pick(rng, staff[gc.pk]["safety"]), role="safety_officer"),
                KeyPerson(project=project, person=_pick(rng, staff[sup.pk]["chief"]), role="chief_supervisor"),
            ]
        )
        # Documents: a filed project holds its required documents (a few gaps for prereview_failed ones).
        if state != State.DRAFT:
            reqs = filing_requirements(ptype, project.parameters)
            if state == State.PREREVIEW_FAILED:
                reqs = reqs[:-1] if len(reqs) > 1 else reqs
            for req in reqs:
                doc = Document.objects.create(project=project, kind=req.kind, category=req.category, title=req.label)
                documents_to_write.append((doc, req.label))
        _history(project, state, start, regulator_cache, rng)
        projects.append(project)
        if (i + 1) % (50 * scale) == 0:
            progress(f"  项目 {i + 1}/{len(states)}")
    progress(f"  写入演示文件 {len(documents_to_write)} 个")
    for doc, label in documents_to_write:
        content = TINY_PDF.replace(b"%%EOF", f"% {label} demo\n%%EOF".encode())
        version = DocumentVersion(
            document=doc,
            number=1,
            original_name=f"{doc.kind}.pdf",
            extension=".pdf",
            content_type="application/pdf",
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
        )
        version.file.save(f"{doc.kind}.pdf", ContentFile(content), save=False)
        version.save()
    return projects


def _history(project: Project, state: str, start: dt.date, regulators: dict, rng: random.Random) -> None:
    """Backfills transitions (and the pre-review) that a project in `state` went through."""
    if state == State.DRAFT:
        return
    code = project.jurisdiction.code
    if code not in regulators:
        regulators[code] = User.objects.filter(
            role=User.Role.DISTRICT_REGULATOR, department__jurisdiction__code=code
        ).first()
    reg = regulators[code]
    steps: list[tuple[str, str, str, str]] = []
    if state == State.PREREVIEW_FAILED:
        steps = [
            ("submit", State.DRAFT, State.SUBMITTED, ""),
            ("fail_prereview", State.SUBMITTED, State.PREREVIEW_FAILED, ""),
        ]
    elif state in {State.RETURNED, State.REJECTED}:
        steps = [(n, a, b, "") for n, a, b in PATH[:2]]
        reason = "施工图审查合格书与图纸版本不一致" if state == State.RETURNED else "项目用地手续不全"
        steps.append(("return" if state == State.RETURNED else "reject", State.UNDER_REVIEW, state, reason))
    else:
        order = [
            State.UNDER_REVIEW,
            State.PERMITTED,
            State.UNDER_CONSTRUCTION,
            State.ACCEPTANCE,
            State.ARCHIVED,
        ]
        target = State.UNDER_CONSTRUCTION if state == State.SUSPENDED else state
        upto = order.index(target) + 2
        steps = [(n, a, b, "") for n, a, b in PATH[:upto]]
        if state == State.SUSPENDED:
            steps.append(("suspend", State.UNDER_CONSTRUCTION, State.SUSPENDED, "深基坑支护变形超预警值，责令停工整改"))
    when = timezone.make_aware(dt.datetime.combine(start - dt.timedelta(days=40), dt.time(9, 30)))
    for name, a, b, reason in steps:
        actor = reg if name in {"approve", "return", "reject", "suspend", "archive"} else None
        t = Transition.objects.create(project=project, name=name, from_state=a, to_state=b, actor=actor, reason=reason)
        Transition.objects.filter(pk=t.pk).update(at=when)
        if name in {"pass_prereview", "fail_prereview"}:
            findings = (
                []
                if name == "pass_prereview"
                else [
                    {
                        "code": "document_missing",
                        "severity": "error",
                        "message": "缺少申报材料（演示数据）",
                        "subject": "",
                    }
                ]
            )
            pr = PreReview.objects.create(project=project, findings=findings, clean=name == "pass_prereview")
            PreReview.objects.filter(pk=pr.pk).update(at=when)
        if name == "approve":
            project.permit_number = f"{project.jurisdiction.code}{when:%Y%m%d}{project.pk:04d}01"
            project.permitted_at = when
            project.save(update_fields=["permit_number", "permitted_at"])
        when += dt.timedelta(days=rng.randint(2, 60))


def seed_users(depts: dict[str, Department], by_kind: dict[str, list[Enterprise]]) -> list[tuple[str, str, str]]:
    """Creates the demo logins; returns (username, role label, what they see) for printing."""
    logins = []

    def make(username, display, role, *, department=None, enterprise=None, staff=False, note=""):
        user = User.objects.create_user(
            username=username,
            password=DEMO_PASSWORD,
            display_name=display,
            role=role,
            department=department,
            enterprise=enterprise,
            is_staff=staff,
            is_superuser=staff,
        )
        logins.append((username, user.get_role_display(), note))
        return user

    make(
        "admin",
        "市局管理员",
        User.Role.BUREAU_ADMIN,
        department=depts["city:housing"],
        staff=True,
        note="全市所有项目，含后台管理",
    )
    district_users = [
        ("lanshan", "371302", "兰山区"),
        ("luozhuang", "371311", "罗庄区"),
        ("hedong", "371312", "河东区"),
    ]
    for slug, code, name in district_users:
        make(
            f"{slug}_reg",
            f"{name}监管员",
            User.Role.DISTRICT_REGULATOR,
            department=depts[code],
            note=f"{name}的项目审查、许可、停工",
        )
    for code, *_ in DIVISIONS[3:]:
        make(
            f"reg_{code}",
            f"{depts[code].jurisdiction.name}监管员",
            User.Role.DISTRICT_REGULATOR,
            department=depts[code],
        )
    for code, *_ in ZONES:
        make(
            f"reg_{code}",
            f"{depts[code].jurisdiction.name}监管员",
            User.Role.DISTRICT_REGULATOR,
            department=depts[code],
        )
    make(
        "lanshan_insp",
        "兰山区检查员",
        User.Role.INSPECTOR,
        department=depts["371302"],
        note="兰山区项目（只读，检查任务在后续版本）",
    )
    make(
        "hr_officer",
        "人社局工作人员",
        User.Role.DEPT_OFFICER,
        department=depts["city:hr"],
        note="按数据共享规则查阅，查阅留痕",
    )
    make(
        "env_officer",
        "生态环境局工作人员",
        User.Role.DEPT_OFFICER,
        department=depts["city:environment"],
        note="项目基本信息，查阅留痕",
    )
    make(
        "dev_user",
        "开发企业填报员",
        User.Role.ENTERPRISE_USER,
        enterprise=by_kind[Enterprise.Kind.DEVELOPER][0],
        note=f"{by_kind[Enterprise.Kind.DEVELOPER][0].name}：申报项目",
    )
    make(
        "builder_user",
        "施工企业项目部",
        User.Role.ENTERPRISE_USER,
        enterprise=by_kind[Enterprise.Kind.CONSTRUCTION][0],
        note=f"{by_kind[Enterprise.Kind.CONSTRUCTION][0].name}：上传进度与材料",
    )
    make(
        "supervisor_user",
        "监理企业项目部",
        User.Role.ENTERPRISE_USER,
        enterprise=by_kind[Enterprise.Kind.SUPERVISION][0],
        note=f"{by_kind[Enterprise.Kind.SUPERVISION][0].name}",
    )
    return logins


def _ensure_demo_user_projects(projects: list[Project], by_kind, staff) -> None:
    """Make sure the demo enterprise logins take part in some projects in every state."""
    dev = by_kind[Enterprise.Kind.DEVELOPER][0]
    builder = by_kind[Enterprise.Kind.CONSTRUCTION][0]
    sup = by_kind[Enterprise.Kind.SUPERVISION][0]
    for project in projects[:24]:
        Project.objects.filter(pk=project.pk).update(applicant=dev)
        Participant.objects.filter(project=project, role="owner").update(enterprise=dev)
        Participant.objects.filter(project=project, role="general_contractor").update(enterprise=builder)
        Participant.objects.filter(project=project, role="supervisor").update(enterprise=sup)
        KeyPerson.objects.filter(project=project, role="project_manager").update(person=staff[builder.pk]["pm"][0])
        KeyPerson.objects.filter(project=project, role="safety_officer").update(person=staff[builder.pk]["safety"][0])
        KeyPerson.objects.filter(project=project, role="chief_supervisor").update(person=staff[sup.pk]["chief"][0])
    # builder_user is the account of that project manager: site alarms of those projects reach it by name.
    User.objects.filter(username="builder_user").update(person=staff[builder.pk]["pm"][0])


def seed_devices(projects: list[Project]) -> int:
    """A dust/noise monitor (HJ 212) for every demo project under construction."""
    key_hash = identity.password_hash(DEMO_DEVICE_PASSWORD)
    devices = [
        Device(
            project=p,
            name="扬尘噪声监测仪（大门）",
            kind=Device.Kind.DUST_NOISE,
            protocol=Device.Protocol.HJ212,
            mn=f"LY{p.jurisdiction.code}{p.pk:06d}D1",
            password_hash=key_hash,
            lat=p.lat,
            lon=p.lon,
            installed_on=p.planned_start,
        )
        for p in projects
        if p.state == State.UNDER_CONSTRUCTION
    ]
    Device.objects.bulk_create(devices)
    return len(devices)


HISTORY_PARAMETERS = ("a34004", "a34002", "a34001", "LA")  # what the project page charts


def seed_reading_history(now: dt.datetime, hours: int = 24, step: dt.timedelta = dt.timedelta(minutes=10)) -> int:
    """The monitors' last day, as the simulator would have sent it (without dust episodes: these readings
    pass no alarm rules), so the project pages' charts show a day's pattern from the start."""
    from jianguan.sites.ingest.simulator import SimulatedMonitor
    from jianguan.sites.models import Reading

    local = timezone.get_default_timezone()
    rows = []
    monitors = Device.objects.filter(project__is_demo=True, kind=Device.Kind.DUST_NOISE).order_by("pk")
    for device in monitors:
        monitor = SimulatedMonitor(device.mn, "", random.Random(device.pk), episode_chance=0.0)
        ts = (now - dt.timedelta(hours=hours)).replace(second=0, microsecond=0)
        while ts < now:
            values = monitor.values(ts.astimezone(local).replace(tzinfo=None))
            rows += [
                Reading(
                    device=device,
                    parameter=code,
                    series=Reading.Series.REALTIME,
                    ts=ts,
                    value=round(values[code], 1),
                    flag="N",
                )
                for code in HISTORY_PARAMETERS
            ]
            ts += step
    Reading.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def seed_offline_episode(now: dt.datetime) -> Device | None:
    """One monitor's outage in the history: six hours ago it stopped reporting for 45 minutes, so the alarm list,
    the project page, the notifications and the evidence log show a 设备离线 alarm raised and cleared, by the
    same watch that runs every minute (sites/alarms/offline.py). Its readings of those minutes are removed."""
    from django.core.cache import cache

    from jianguan.sites.alarms import offline
    from jianguan.sites.models import Reading

    monitors = offline.watched().filter(project__is_demo=True).order_by("pk")
    chosen = monitors.first()
    if chosen is None or monitors.count() < 2:
        return None
    others = monitors.exclude(pk=chosen.pk)
    stopped = now - dt.timedelta(hours=6)
    noticed, back = stopped + dt.timedelta(minutes=20), stopped + dt.timedelta(minutes=45)
    cache.set(offline.RECEIVING_KEY, (stopped - dt.timedelta(days=1)).isoformat(), None)
    Device.objects.filter(pk=chosen.pk).update(last_seen_at=stopped)
    others.update(last_seen_at=noticed - dt.timedelta(minutes=1))
    offline.check(noticed)
    monitors.update(last_seen_at=back)
    offline.check(back + dt.timedelta(minutes=1))
    Reading.objects.filter(device=chosen, ts__gt=stopped, ts__lt=back).delete()
    monitors.update(last_seen_at=None)  # as before: the simulator's first packets set it
    cache.delete(offline.RECEIVING_KEY)  # the running demo counts silence from its first packets
    return chosen


def seed_site_roster(
    projects: list[Project], staff: dict[int, dict[str, list[Person]]], today: dt.date, gate_sites: int | None = None
) -> int:
    """Every project under construction gets a real-name gate (HTTP) and a roster: its general contractor's
    special-operation staff, each for the trade of their certificate. This morning they came through the
    gate; on every seventh site a worker of a firm that takes no part in the project came too (the 挂靠/转包
    signal the project page shows). Only the first `gate_sites` sites (all by default) had this morning's entries.
    Returns the number of gate entries."""

    active = [p for p in projects if p.state == State.UNDER_CONSTRUCTION]
    Device.objects.bulk_create(
        [
            Device(
                project=p,
                name="实名制闸机（大门）",
                kind=Device.Kind.GATE,
                protocol=Device.Protocol.HTTP,
                lat=p.lat,
                lon=p.lon,
                installed_on=p.planned_start,
            )
            for p in active
        ]
    )
    gate_of = {d.project_id: d for d in Device.objects.filter(project__in=active, kind=Device.Kind.GATE)}
    contractor_of = dict(
        Participant.objects.filter(project__in=active, role="general_contractor").values_list(
            "project_id", "enterprise_id"
        )
    )
    trades = dict(
        Certificate.objects.filter(kind=Certificate.Kind.SPECIAL_OPERATION).values_list("person_id", "operation_type")
    )
    roster = {p.pk: [person for person in staff.get(contractor_of.get(p.pk), {}).get("operator", [])] for p in active}
    SiteWorker.objects.bulk_create(
        [
            SiteWorker(
                project_id=pk,
                person=person,
                employer_id=contractor_of[pk],
                trade=trades.get(person.pk, ""),
                required_operation=trades.get(person.pk, ""),
            )
            for pk, people in roster.items()
            for person in people
        ]
    )
    morning = timezone.make_aware(dt.datetime.combine(today, dt.time(7, 30)))
    firms = [pk for pk, posts in staff.items() if posts.get("operator")]
    entries = 0
    for i, p in enumerate(active[:gate_sites]):
        people = list(roster[p.pk])
        if i % 7 == 0:
            others = [pk for pk in firms if pk != contractor_of.get(p.pk)]
            if others:
                people.append(staff[others[i % len(others)]]["operator"][0])
        for k, person in enumerate(people):
            gates.record_entry(gate_of[p.pk], person.reveal_id_number(), "in", morning + dt.timedelta(minutes=k))
            entries += 1
    return entries


def seed_evidence() -> None:
    """Puts the demo's document versions and transitions into the evidence log, as live use would have."""
    items = []
    versions = DocumentVersion.objects.select_related("document__project").order_by("uploaded_at", "pk")
    for v in versions:
        doc = v.document
        items.append(
            ledger.Item(
                "document_version",
                "projects.documentversion",
                str(v.pk),
                {"project": doc.project.code, "document": doc.pk, "kind": doc.kind, "category": doc.category,
                 "version": v.number, "name": v.original_name, "size": v.size, "sha256": v.sha256},
                scope=f"project:{doc.project_id}",
            )
        )  # fmt: skip
    for t in Transition.objects.select_related("project").order_by("at", "pk"):
        items.append(
            ledger.Item(
                "transition",
                "projects.transition",
                str(t.pk),
                {"project": t.project.code, "transition": t.name, "from": t.from_state, "to": t.to_state,
                 "reason": t.reason},
                scope=f"project:{t.project_id}",
            )
        )  # fmt: skip
    for start in range(0, len(items), 2000):
        ledger.append_many(items[start : start + 2000], want_entries=False)
    ledger.sign_checkpoint()


@transaction.atomic
def seed(
    progress: Callable[[str], None] = print, seed_value: int = 371300, scale: int = 1
) -> list[tuple[str, str, str]]:
    """The demo data; `scale` multiplies the projects (200 per unit: `scale=50` gives the 10,000 projects of the
    web benchmark) with their devices. At scale > 1 the monitors' reading history is 3 hours rather than 24 and
    only the first 200 sites' gates recorded entries this morning, so that seeding stays a matter of minutes."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    if Project.objects.filter(is_demo=True).exists():
        raise RuntimeError("演示数据已存在")
    rng = random.Random(seed_value)
    today = timezone.localdate()
    progress("区划与部门…")
    jur = seed_divisions()
    depts = seed_departments(jur)
    progress("企业与资质…")
    by_kind = seed_enterprises(rng, jur, today)
    progress("人员与证书…")
    staff = seed_people(rng, by_kind, today)
    progress("用户…")
    logins = seed_users(depts, by_kind)
    progress("项目、参建单位、文件与状态记录…")
    projects = seed_projects(rng, jur, by_kind, staff, today, progress, scale)
    _ensure_demo_user_projects(projects, by_kind, staff)
    AuditEvent.objects.filter(project__in=projects).delete()
    progress(f"现场设备：{seed_devices(projects)} 台扬尘噪声监测仪")
    hours = 24 if scale == 1 else 3
    progress(f"监测数据：过去 {hours} 小时 {seed_reading_history(timezone.now(), hours=hours)} 条读数")
    gate_sites = None if scale == 1 else 200
    offline_monitor = seed_offline_episode(timezone.now())
    if offline_monitor is not None:
        progress(f"设备离线：{offline_monitor.project.name} {offline_monitor.name} 6 小时前离线 45 分钟（告警已恢复）")
    progress(f"实名制闸机与花名册：今日 {seed_site_roster(projects, staff, today, gate_sites)} 人次进场")
    progress("存证日志：演示文件与状态记录上链并签发检查点…")
    seed_evidence()
    progress("审查与许可：第二签署人、施工许可证与存证、审查意见、待审批与待确认开工…")
    logins += review_demo.seed_review(progress, DEMO_PASSWORD, seed_value)  # jianguan/review/demo.py
    progress(
        f"完成：{Enterprise.objects.count()} 家企业，{Person.objects.count()} 名人员，"
        f"{Project.objects.count()} 个项目。"
    )
    return logins
