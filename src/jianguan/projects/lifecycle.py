"""The project lifecycle as data: each transition's source states, target, who may take it, whether it
needs a reason, and its precondition. `perform()` is the only way a project's state changes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from django.db import transaction
from django.utils import timezone

from jianguan.core import audit
from jianguan.core.permissions import require
from jianguan.ledger import services as ledger

from . import notices, permissions, prereview
from .models import ParticipantRole, PreReview, Project, State, Transition


class TransitionError(Exception):
    """The transition cannot be taken now (unknown, wrong state, no reason, a precondition); `.message` says why,
    in Chinese, for the user. A user who may never take it gets PermissionDenied (403) instead."""

    def __init__(self, message: str, code: str = "not_allowed"):
        super().__init__(message)
        self.message = message
        self.code = code


# Who may take a transition: "applicant" (the filing enterprise's users), "contractor" (the general
# contractor's users), "regulator" (the project's district bureau or the city bureau), "system".
@dataclass(frozen=True)
class Rule:
    label: str
    sources: frozenset[str]
    target: str
    actors: frozenset[str]
    needs_reason: bool = False
    precondition: Callable[[Project], str | None] | None = None  # returns a blocking message or None
    state_labels: tuple[tuple[str, str], ...] = ()  # (source state, label): how the step reads from there

    def label_in(self, state: str) -> str:
        return dict(self.state_labels).get(state, self.label)


def _review_cleared(project: Project) -> str | None:
    latest = project.prereviews.first()
    if latest is None:
        return "尚未进行自动预审"
    if not latest.clean and not latest.overridden_by_id:
        return "自动预审存在问题且未经例外放行"
    return None


def _acceptance_ready(project: Project) -> str | None:
    findings = prereview.acceptance_findings(project)
    if findings:
        return "；".join(f["message"] for f in findings)
    return None


def _rule(label, sources, target, actors, needs_reason=False, precondition=None) -> Rule:
    return Rule(label, frozenset(sources), target, frozenset(actors), needs_reason, precondition)


RULES: dict[str, Rule] = {
    "submit": replace(
        _rule("提交申报", {State.DRAFT, State.RETURNED, State.PREREVIEW_FAILED}, State.SUBMITTED, {"applicant"}),
        state_labels=((State.PREREVIEW_FAILED, "补正后重新提交"), (State.RETURNED, "修改后重新提交")),
    ),
    "pass_prereview": _rule("自动预审通过", {State.SUBMITTED}, State.UNDER_REVIEW, {"system"}),
    "fail_prereview": _rule("自动预审发现问题", {State.SUBMITTED}, State.PREREVIEW_FAILED, {"system"}),
    "override_prereview": _rule("预审例外放行", {State.PREREVIEW_FAILED}, State.UNDER_REVIEW, {"regulator"}, True),
    "return": _rule("退回修改", {State.UNDER_REVIEW}, State.RETURNED, {"regulator"}, True),
    "reject": _rule("不予许可", {State.UNDER_REVIEW}, State.REJECTED, {"regulator"}, True),
    "approve": _rule("核发施工许可", {State.UNDER_REVIEW}, State.PERMITTED, {"regulator"}, False, _review_cleared),
    "start_construction": _rule(
        "开工", {State.PERMITTED}, State.UNDER_CONSTRUCTION, {"applicant", "contractor", "regulator"}
    ),
    "suspend": _rule("责令停工", {State.UNDER_CONSTRUCTION}, State.SUSPENDED, {"regulator"}, True),
    "resume": _rule("复工", {State.SUSPENDED}, State.UNDER_CONSTRUCTION, {"regulator"}, True),
    "apply_acceptance": _rule(
        "申请竣工验收", {State.UNDER_CONSTRUCTION}, State.ACCEPTANCE, {"applicant"}, False, _acceptance_ready
    ),
    "archive": _rule("归档", {State.ACCEPTANCE}, State.ARCHIVED, {"regulator"}),
}


def actor_kinds(user, project: Project) -> set[str]:
    kinds = set()
    roles = permissions.participant_roles(user, project)
    if "applicant" in roles:
        kinds.add("applicant")
    if ParticipantRole.GENERAL_CONTRACTOR in roles:
        kinds.add("contractor")
    if permissions.is_regulator_of(user, project):
        kinds.add("regulator")
    return kinds


def available(user, project: Project) -> list[tuple[str, Rule]]:
    """The transitions this user may take on this project now (preconditions not yet evaluated)."""
    kinds = actor_kinds(user, project)
    return [
        (name, replace(rule, label=rule.label_in(project.state)))
        for name, rule in RULES.items()
        if project.state in rule.sources and rule.actors & kinds and "system" not in rule.actors
    ]


def _record(project: Project, name: str, user, reason: str) -> Transition:
    rule = RULES[name]
    before = project.state
    project.state = rule.target
    fields = ["state", "updated_at"]
    if rule.target == State.PERMITTED:
        project.permitted_at = timezone.now()
        project.permit_number = (
            project.permit_number or f"{project.jurisdiction.code}{timezone.localdate():%Y%m%d}{project.pk:04d}01"
        )
        fields += ["permitted_at", "permit_number"]
    project.save(update_fields=fields)
    step = Transition.objects.create(
        project=project,
        name=name,
        from_state=before,
        to_state=rule.target,
        actor=user if getattr(user, "is_authenticated", False) else None,
        reason=reason,
    )
    ledger.append(
        "transition",
        "projects.transition",
        step.pk,
        {"project": project.code, "transition": name, "from": before, "to": rule.target, "reason": reason},
        actor=user,
        scope=f"project:{project.pk}",
    )
    audit.record(
        user,
        "transition",
        project,
        project=project,
        changes={"transition": name, "label": rule.label_in(before), "state": [before, rule.target], "reason": reason},
    )
    return step


@transaction.atomic
def perform(project: Project, name: str, user, reason: str = "") -> Project:
    project = Project.objects.select_for_update().get(pk=project.pk)
    rule = RULES.get(name)
    if rule is None or "system" in rule.actors:
        raise TransitionError(f"未知操作：{name}", "unknown")
    # Who may act is asked first: a user who may never take the step hears 403 whatever the project's state.
    require(bool(rule.actors & actor_kinds(user, project)), f"您无权对该项目执行“{rule.label}”")
    if project.state not in rule.sources:
        raise TransitionError(f"项目当前状态为“{project.get_state_display()}”，不能{rule.label}", "wrong_state")
    reason = (reason or "").strip()
    if rule.needs_reason and not reason:
        raise TransitionError(f"“{rule.label}”须填写理由", "reason_required")
    if rule.precondition and (blocker := rule.precondition(project)):
        raise TransitionError(f"不能{rule.label}：{blocker}", "precondition")

    _record(project, name, user, reason)
    if name == "submit":
        _run_prereview(project)
    elif name == "override_prereview":
        latest = project.prereviews.first()
        if latest is not None:
            latest.overridden_by = user
            latest.override_reason = reason
            latest.save(update_fields=["overridden_by", "override_reason"])
    project.refresh_from_db()
    notices.transition_taken(project, name, user, reason)  # the enterprise hears of the decision
    return project


def _run_prereview(project: Project) -> PreReview:
    findings = prereview.run(project)
    review = PreReview.objects.create(project=project, findings=findings, clean=prereview.is_clean(findings))
    _record(project, "pass_prereview" if review.clean else "fail_prereview", None, "")
    return review
