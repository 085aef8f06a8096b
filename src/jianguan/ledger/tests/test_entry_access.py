"""An entry's leaf data repeats the record it evidences: a department reads it only under the data-sharing part
of that record, and the read is logged with the rule that allowed it."""

from __future__ import annotations

from django.test import Client

from jianguan.accounts.models import ApiToken, DataSharingRule, Department, User
from jianguan.core.models import AuditEvent
from jianguan.ledger import services
from jianguan.projects.models import State
from jianguan.testing import factories as f

Part = DataSharingRule.Resource


def officer(kind: str, *parts: str) -> Client:
    for part in parts:
        DataSharingRule.objects.create(department_kind=kind, resource=part, purpose="联合执法", legal_basis="协议")
    department = Department.objects.create(name=f"兰山区{kind}", kind=kind, jurisdiction=f.division())
    user = f.UserFactory(role=User.Role.DEPT_OFFICER, department=department)
    client = Client()
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {ApiToken.issue(user, 't')[1]}"
    return client


def test_an_alarms_entry_is_read_under_the_monitoring_part_and_logged(db):
    project = f.ProjectFactory(state=State.UNDER_CONSTRUCTION)
    entry = services.append("alarm.raised", "sites.alarm", 7, {"project": project.code}, scope=f"project:{project.pk}")
    environment = officer("environment", Part.PROJECT_BASIC, Part.SITE_MONITORING)
    police = officer("police", Part.PROJECT_BASIC)

    assert project.code in environment.get(f"/api/ledger/entries/{entry.index}").json()["leaf_data"]
    assert police.get(f"/api/ledger/entries/{entry.index}").json()["leaf_data"] is None
    assert police.get(f"/api/ledger/entries/{entry.index}/bundle").status_code == 403
    assert environment.get(f"/api/ledger/entries/{entry.index}/bundle").status_code == 200

    reads = AuditEvent.objects.filter(action="read", project=project).order_by("id")
    assert [e.changes["what"] for e in reads] == ["存证数据", "存证包"]
    assert {e.changes["part"] for e in reads} == {Part.SITE_MONITORING}
