"""Decisions reach people: what a filing's enterprise and its district bureau are told, and how.

The enterprise (the applicant's users) hears of its pre-review result, a return, a refusal, a review comment,
the permit and the decision on its 变更 requests: in the inbox, and by email where the user gave an address (the
outbox channel an enterprise configures; the bureau's group robots are the bureau's, not for enterprises). The
district bureau hears of 变更 requests and of corrections made while it reviews: in the inbox, by email and on its
group robots (as with device change requests).

All are written in the caller's transaction (notify.services.notify) and sent after it commits.

The review room (jianguan.review.notices) tells the enterprise of a reviewer's comment and of the permit through
`review_comment` and `permit_issued`."""

from __future__ import annotations

from collections.abc import Iterable

from jianguan.accounts.models import User
from jianguan.notify.services import notify

from .models import Project

ENTERPRISE_CHANNELS = ("email",)  # beyond the inbox
CHANGES_URL = "/projects/changes/"


def enterprise_users(project: Project) -> list[User]:
    """The applicant's active users: who answers for the filing."""
    return list(User.objects.filter(is_active=True, role=User.Role.ENTERPRISE_USER, enterprise_id=project.applicant_id))


def district_regulators(project: Project) -> list[User]:
    """The project's district bureau, or the city bureau where a district has no regulator accounts."""
    from jianguan.sites.permissions import district_regulators as by_district  # sites imports projects: lazily

    found = list(by_district(project))
    return found or list(User.objects.filter(is_active=True, role=User.Role.BUREAU_ADMIN))


def page(project: Project, section: str = "") -> str:
    return f"/projects/{project.pk}/" + (f"#{section}" if section else "")


def tell_enterprise(
    project: Project, *, topic: str, title: str, body: str = "", url: str = "", also: Iterable[User] = ()
) -> int:
    """One notice to the applicant's users (and `also`, e.g. the requester of a change), in-app and by email."""
    recipients = {u.pk: u for u in [*enterprise_users(project), *also] if u is not None}
    return notify(
        recipients.values(),
        topic=topic,
        title=title,
        body=body,
        url=url or page(project),
        project=project,
        channels=ENTERPRISE_CHANNELS,
    )


# --- the lifecycle's decisions --------------------------------------------------------------------------------


def transition_taken(project: Project, name: str, actor, reason: str = "") -> None:
    """Called by lifecycle.perform after a step (and after the pre-review of a submission)."""
    if name == "submit":
        review = project.prereviews.first()
        if review is not None:
            prereview_result(project, review)
    elif name == "return":
        returned(project, reason)
    elif name == "reject":
        refused(project, reason)


def prereview_result(project: Project, review) -> int:
    errors = [f for f in review.findings if f.get("severity") == "error"]
    if review.clean:
        title = f"【自动预审通过】{project.name}"
        body = "申报材料已通过自动预审，进入区县住建部门审查。"
    else:
        title = f"【预审待补正】{project.name}：{len(errors)} 项问题"
        listed = "；".join(f["message"] for f in errors[:5]) + ("等" if len(errors) > 5 else "")
        body = f"自动预审发现：{listed}。请补正后重新提交。"
    return tell_enterprise(project, topic="filing.prereview", title=title, body=body, url=page(project, "prereview"))


def returned(project: Project, reason: str) -> int:
    return tell_enterprise(
        project,
        topic="filing.returned",
        title=f"【退回修改】{project.name}",
        body=f"区县住建部门退回了申报，理由：{reason}。请修改后重新提交。",
        url=page(project, "overview"),
    )


def refused(project: Project, reason: str) -> int:
    return tell_enterprise(
        project,
        topic="filing.rejected",
        title=f"【不予许可】{project.name}",
        body=f"区县住建部门决定不予许可，理由：{reason}。",
        url=page(project, "overview"),
    )


def permit_issued(project: Project, also: Iterable[User] = ()) -> int:
    """For the permit's issue (the review workspace calls it once the permit is issued)."""
    number = f"（证号 {project.permit_number}）" if project.permit_number else ""
    return tell_enterprise(
        project,
        topic="filing.permitted",
        title=f"【已发施工许可】{project.name}{number}",
        body="施工许可证已核发，证书可在项目页面下载打印，扫描证书二维码可核验。"
        "请自领取之日起三个月内开工（《建筑工程施工许可管理办法》第十条）。",
        url=page(project, "overview"),
        also=also,
    )


def review_comment(project: Project, *, subject: str, comment: str, url: str = "", also: Iterable[User] = ()) -> int:
    """A reviewer's comment on a document or the filing (the review workspace calls it): `subject` names what
    it is about (a document's name), `comment` is the comment's text."""
    return tell_enterprise(
        project,
        topic="filing.comment",
        title=f"【审查意见】{project.name}：{subject}"[:200],
        body=comment,
        url=url or page(project, "materials"),
        also=also,
    )


# --- corrections and 变更 ------------------------------------------------------------------------------------


def correction_under_review(correction) -> int:
    project = correction.project
    return notify(
        district_regulators(project),
        topic="filing.corrected",
        title=f"【审查中更正】{project.name}：{correction.get_action_display()}{correction.role_label}",
        body=f"{correction.summary}。原因：{correction.reason}",
        url=page(project, "records"),
        project=project,
    )


def change_requested(change) -> int:
    project = change.project
    who = change.requested_by.get_full_name() if change.requested_by else "—"
    return notify(
        district_regulators(project),
        topic="filing.change_requested",
        title=f"【变更待审批】{project.name}：{change.get_action_display()}",
        body=f"{change.summary}。申请原因：{change.reason}（申请人：{who}，{project.applicant.name}）。批准前保持原登记。",
        url=f"{CHANGES_URL}#change-{change.pk}",
        project=project,
    )


def change_decided(change) -> int:
    project = change.project
    approved = change.state == "approved"
    comment = f"审批意见：{change.decision_comment}" if change.decision_comment else ""
    return tell_enterprise(
        project,
        topic="filing.change_decided",
        title=f"【变更{'已批准' if approved else '被驳回'}】{project.name}：{change.get_action_display()}",
        body=f"{change.summary}。{'已生效' if approved else '保持原登记'}。{comment}",
        url=page(project, "people"),
        also=[change.requested_by],
    )
