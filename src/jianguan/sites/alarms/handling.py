"""The people's side of an alarm: acknowledged by the site or its regulator, resolved by the regulator."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone

from jianguan.core import audit
from jianguan.core.permissions import require

from .. import permissions
from ..models import Alarm


def acknowledge(user, alarm: Alarm, comment: str) -> Alarm:
    require(permissions.may_acknowledge(user, alarm), "您无权确认该告警")
    if not comment.strip():
        raise ValidationError({"comment": "请填写处理意见"})
    if alarm.state != Alarm.State.ACTIVE:
        raise ValidationError({"state": f"告警当前为“{alarm.get_state_display()}”，不能确认"})
    alarm.state, alarm.acknowledged_by, alarm.acknowledged_at = Alarm.State.ACKNOWLEDGED, user, timezone.now()
    alarm.comment = comment.strip()
    alarm.save()
    audit.record(user, "update", alarm, project=alarm.project, changes={"state": "acknowledged", "comment": comment})
    return alarm


def resolve(user, alarm: Alarm, comment: str) -> Alarm:
    require(permissions.may_resolve(user, alarm), "只有监管部门可以关闭告警")
    if alarm.state == Alarm.State.RESOLVED:
        raise ValidationError({"state": "告警已关闭"})
    alarm.state, alarm.resolved_at = Alarm.State.RESOLVED, timezone.now()
    alarm.comment = "\n".join(filter(None, [alarm.comment, comment.strip()]))
    alarm.save()
    audit.record(user, "update", alarm, project=alarm.project, changes={"state": "resolved", "comment": comment})
    return alarm
