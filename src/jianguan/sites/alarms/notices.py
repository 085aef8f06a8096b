"""Who hears of a site alarm and what they read: the notices of raised, escalated and cleared alarms."""

from __future__ import annotations

from django.utils import timezone

from jianguan.accounts.models import User
from jianguan.notify.services import notify
from jianguan.projects.models import KeyPostRole, ParticipantRole

from ..models import OFFLINE_PARAMETER, Alarm
from ..workforce import cranes


def _local(when) -> str:
    return timezone.localtime(when).strftime("%m-%d %H:%M") if when else "—"


def recipients(project) -> list[User]:
    """Who hears of a site alarm: the district bureau's regulators, the users who are the project's 项目经理
    and 专职安全员 (User.person is their key person), and the general contractor's users."""
    regulators = User.objects.filter(
        is_active=True, role=User.Role.DISTRICT_REGULATOR, department__jurisdiction=project.jurisdiction
    )
    key_people = User.objects.filter(
        is_active=True,
        person__key_posts__project=project,
        person__key_posts__role__in=[KeyPostRole.PROJECT_MANAGER, KeyPostRole.SAFETY_OFFICER],
    )
    contractors = User.objects.filter(
        is_active=True,
        role=User.Role.ENTERPRISE_USER,
        enterprise__participations__project=project,
        enterprise__participations__role=ParticipantRole.GENERAL_CONTRACTOR,
    )
    found = {u.pk: u for qs in (regulators, key_people, contractors) for u in qs}
    return list(found.values())


def _body(alarm: Alarm, kind: str) -> str:
    rule = alarm.rule
    if alarm.parameter == OFFLINE_PARAMETER:  # minutes without data, not a measured value
        device = alarm.device
        if kind == "clear":
            return f"{device.name}：数据已恢复（最后上报 {_local(device.last_seen_at)}）"
        last = f"最后上报 {_local(device.last_seen_at)}" if device.last_seen_at else "登记后从未上报"
        return (
            f"{device.name}：已 {alarm.last_value:g} 分钟未收到数据（{last}，数据间隔 {device.rtd_interval_s} 秒）。"
            "请核实设备是否断电、断网、被拆除或遮挡。"
        )
    if alarm.parameter == cranes.PARAMETER:  # a yes/no check: its reasons say more than its value
        check = getattr(alarm.device, "operator_check", None)
        if kind == "clear":
            return f"{alarm.device.name}：当前司机资格核验通过（{rule.source}）"
        reasons = "；".join(check.messages) if check is not None and not check.ok else "资格核验未通过"
        who = f"（{check.id_number_masked}）" if check is not None and check.id_number_masked else ""
        return f"{alarm.device.name}：塔机司机{who}{reasons}（{rule.source}）"
    return (
        f"{alarm.device.name}：{rule.name} 当前 {alarm.last_value:g}{rule.unit}，"
        f"峰值 {alarm.peak_value:g}{rule.unit}，"
        f"限值 {rule.warning:g}{rule.unit}（{rule.source}{'' if rule.confirmed else '，默认值待确认'}）"
    )


def _announce(alarm: Alarm, kind: str) -> None:
    if alarm.parameter == OFFLINE_PARAMETER:
        verb, what = {"raise": "设备离线", "clear": "设备恢复上报"}.get(kind, "设备离线"), alarm.device.name
    else:
        verb = {"raise": "超标告警", "escalate": "告警升级为严重", "clear": "告警已恢复"}[kind]
        what = alarm.rule.name
    notify(
        recipients(alarm.project),
        topic=f"alarm.{kind}",
        title=f"【{verb}】{alarm.project.name} {what}",
        body=_body(alarm, kind),
        url=f"/projects/{alarm.project_id}/",
        project=alarm.project,  # the group robots of its district (and city-wide ones) hear of it too
    )


def announce_events(events: list[tuple[int, str]]) -> list[int]:
    """Notifies the people of each (alarm id, event kind), in a task after the ingest transaction, so
    a burst of alarms never holds up the readings behind it. Returns the ids not found (not committed
    yet, or rolled back)."""
    found = Alarm.objects.select_related("project", "device", "rule").in_bulk([pk for pk, _ in events])
    for pk, kind in events:
        if pk in found:
            _announce(found[pk], kind)
    return [pk for pk, _ in events if pk not in found]
