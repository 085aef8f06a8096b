"""The project lifecycle as data: each transition's source states, target, who may take it, whether it
needs a reason, its precondition and its effect. `perform()` is the only way a project's state changes.

Two steps are taken through the review room (jianguan.review) rather than as a plain button (`via`): the permit
(`approve`) is the effect of the 审批 sign-off after a written 审核 opinion (review.signoffs), and the start of
works (`start_construction`) is the regulator's confirmation of the start the enterprise reported
(review.starts). Their preconditions ask the review room, so the generic transition route refuses them alone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

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
    # (project, user) -> a blocking message, or None when the step may be taken
    precondition: Callable[[Project, Any], str | None] | None = None
    # where the step is taken instead of a plain button (the pages and the API's `available` leave it out)
    via: str = ""
    # (project, user, the recorded step): what follows in the same transaction (e.g. the permit is issued)
    effect: Callable[[Project, Any, Transition], None] | None = None
    state_labels: tuple[tuple[str, str], ...] = ()  # (source state, label): how the step reads from there

    def label_in(self, state: str) -> str:
        return dict(self.state_labels).get(state, self.label)


def review_cleared(project: Project, user=None) -> str | None:
    """The pre-review passed, or a regulator overrode it (asked again by review.signoffs before 审核)."""
    latest = project.prereviews.first()
    if latest is None:
        return "尚未进行自动预审"
    if not latest.clean and not latest.overridden_by_id:
        return "自动预审存在问题且未经例外放行"
    return None


def _permit_signed(project: Project, user) -> str | None:
    """A permit needs the pre-review cleared and the sign-offs (审核, then 审批 by this user) of this submission."""
    from jianguan.review import signoffs

    return review_cleared(project) or signoffs.approval_blocker(project, user)


def _issue_permit(project: Project, user, step: Transition) -> None:
    from jianguan.review import permits

    permits.issue(project, user, step)


def _start_reported(project: Project, user) -> str | None:
    from jianguan.review import starts

    return starts.confirmation_blocker(project)


def _acceptance_ready(project: Project, user=None) -> str | None:
    findings = prereview.acceptance_findings(project)
    if findings:
        return "；".join(f["message"] for f in findings)
    return None


def _rule(label, sources, target, actors, needs_reason=False, precondition=None, via="", effect=None) -> Rule:
    return Rule(label, frozenset(sources), target, frozenset(actors), needs_reason, precondition, via, effect)


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
    "approve": _rule(
        "核发施工许可",
        {State.UNDER_REVIEW},
        State.PERMITTED,
        {"regulator"},
        False,
        _permit_signed,
        via="审查工作台（审核、审批签署）",
        effect=_issue_permit,
    ),
    # Reported by the applicant or the general contractor (review.starts), confirmed by the regulator.
    "start_construction": _rule(
        "确认开工",
        {State.PERMITTED},
        State.UNDER_CONSTRUCTION,
        {"regulator"},
        False,
        _start_reported,
        via="开工报告",
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
    """The transitions this user may take on this project now with a plain button (preconditions not yet
    evaluated; the steps taken `via` the review room are left out)."""
    kinds = actor_kinds(user, project)
    return [
        (name, replace(rule, label=rule.label_in(project.state)))
        for name, rule in RULES.items()
        if project.state in rule.sources and rule.actors & kinds and "system" not in rule.actors and not rule.via
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
    if rule.precondition and (blocker := rule.precondition(project, user)):
        raise TransitionError(f"不能{rule.label}：{blocker}", "precondition")

    step = _record(project, name, user, reason)
    if rule.effect is not None:
        rule.effect(project, user, step)
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
