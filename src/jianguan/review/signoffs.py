"""Permits as a legal act: 审核 (a written review opinion, after every document was found 合格, every comment was
closed and every point of the checklist was marked) and then 审批 (by a different person where the bureau requires
it: settings.PERMIT_SECOND_SIGNOFF), each with who and when, audited and in the evidence log. The 审批 takes the
lifecycle's `approve` step, whose effect issues the permit (permits.issue); the lifecycle's precondition asks
`approval_blocker`, so no other route issues a permit without both signatures."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction

from jianguan.accounts.models import User
from jianguan.core import audit
from jianguan.core.permissions import require
from jianguan.ledger import services as ledger
from jianguan.projects import lifecycle
from jianguan.projects.models import Project, State

from . import checklist, notices, permissions
from .models import SignOff, Verdict
from .services import ReviewConflict, _clean_text, current_round, workspace

Stage = SignOff.Stage


def review_blockers(project: Project) -> list[str]:
    """What still stands between the filing and the 审核 signature (empty: it may be signed)."""
    if project.state != State.UNDER_REVIEW:
        return [f"项目当前状态为“{project.get_state_display()}”，不在审查中"]
    space = workspace(project)
    blockers = []
    cleared = lifecycle.review_cleared(project)
    if cleared:
        blockers.append(cleared)
    pending = [r.document for r in space.rows if r.latest is not None and r.state != Verdict.OK]
    if pending:
        names = "、".join(str(d) for d in pending[:5]) + ("等" if len(pending) > 5 else "")
        blockers.append(f"{len(pending)} 份文件未审查合格：{names}")
    if space.open_comments:
        blockers.append(f"{space.open_comments} 条审查意见尚未关闭")
    unmarked = [p.label for p, mark in space.points if mark is None]
    if unmarked:
        blockers.append(f"审查要点未填写：{'、'.join(unmarked)}")
    problems = [p.label for p, mark in space.points if mark is not None and mark.result == checklist.Mark.PROBLEM]
    if problems:
        blockers.append(f"审查要点不符合：{'、'.join(problems)}")
    if Stage.REVIEW in space.signoffs:
        blockers.append("本轮申报已审核")
    return blockers


def signed(project: Project, stage: str) -> SignOff | None:
    return project.signoffs.filter(round=current_round(project), stage=stage).select_related("signer").first()


def approval_blocker(project: Project, user) -> str | None:
    """The lifecycle's precondition of `approve`: this user's 审批 of this submission, after someone's 审核."""
    review = signed(project, Stage.REVIEW)
    if review is None:
        return "须先在审查工作台完成审核（签署审查意见）"
    approval = signed(project, Stage.APPROVE)
    if approval is None or approval.signer_id != getattr(user, "pk", None):
        return "须在审查工作台签署审批意见"
    if settings.PERMIT_SECOND_SIGNOFF and approval.signer_id == review.signer_id:
        return "审批须由审核人以外的人员签署"
    return None


def approval_refusal(project: Project, user) -> str | None:
    """Why this user may not sign the 审批 (a matter of who: 403), or None."""
    review = signed(project, Stage.REVIEW)
    if settings.PERMIT_SECOND_SIGNOFF and review is not None and review.signer_id == user.pk:
        return "审批须由审核人以外的人员签署（本局要求两人签署）"
    return None


def _record(user: User, project: Project, stage: str, opinion: str) -> SignOff:
    try:
        with transaction.atomic():
            row = SignOff.objects.create(
                project=project, stage=stage, signer=user, opinion=opinion, round=current_round(project)
            )
    except IntegrityError:
        raise ReviewConflict(f"本轮申报已{Stage(stage).label}", "already_signed") from None
    entry = ledger.append(
        "signoff",
        "review.signoff",
        row.pk,
        {
            "project": project.code,
            "stage": stage,
            "signer": user.get_full_name(),
            "opinion": opinion,
            "round": row.round,
            "at": row.at.isoformat(),
        },
        actor=user,
        scope=f"project:{project.pk}",
    )
    row.ledger_index = entry.index
    row.save(update_fields=["ledger_index"])
    audit.record(
        user,
        "update",
        row,
        project=project,
        label=f"{Stage(stage).label}签署：{opinion[:60]}",
        changes={"stage": stage, "opinion": opinion, "round": row.round, "ledger": entry.index},
    )
    return row


@transaction.atomic
def sign_review(user: User, project: Project, opinion: str) -> SignOff:
    """审核: the reviewer signs the written review opinion."""
    require(permissions.may_sign_off(user, project), "只有本项目的监管人员可以签署审核意见")
    project = Project.objects.select_for_update().get(pk=project.pk)
    opinion = _clean_text(opinion, "opinion", "审核须填写书面审查意见", limit=4000)
    blockers = review_blockers(project)
    if blockers:
        raise ReviewConflict("不能审核：" + "；".join(blockers), "precondition")
    row = _record(user, project, Stage.REVIEW, opinion)
    approvers = permissions.reviewers_for(project)
    notices.awaiting_approval(project, row, approvers)
    return row


@transaction.atomic
def sign_approval(user: User, project: Project, opinion: str) -> SignOff:
    """审批: the approver signs; the project's `approve` step follows in the same transaction and issues the
    permit (lifecycle.perform → permits.issue)."""
    require(permissions.may_sign_off(user, project), "只有本项目的监管人员可以签署审批意见")
    project = Project.objects.select_for_update().get(pk=project.pk)
    refusal = approval_refusal(project, user)
    require(refusal is None, refusal or "")
    opinion = _clean_text(opinion, "opinion", "审批须填写审批意见", limit=4000)
    if project.state != State.UNDER_REVIEW:
        raise ReviewConflict(f"项目当前状态为“{project.get_state_display()}”，不能审批", "wrong_state")
    if signed(project, Stage.REVIEW) is None:
        raise ReviewConflict("须先完成审核（签署审查意见）", "precondition")
    row = _record(user, project, Stage.APPROVE, opinion)
    lifecycle.perform(project, "approve", user, opinion)
    return row


def sign(user: User, project: Project, stage: str, opinion: str) -> SignOff:
    if stage == Stage.REVIEW:
        return sign_review(user, project, opinion)
    if stage == Stage.APPROVE:
        return sign_approval(user, project, opinion)
    from django.core.exceptions import ValidationError

    raise ValidationError({"stage": f"未知环节：{stage}"})
