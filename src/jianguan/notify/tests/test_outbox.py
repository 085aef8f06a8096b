"""The outbox: rows written with the notification, sent after the commit (email, DingTalk, WeCom), retried
with backoff while the server or robot is down, given up after the last attempt, shown in admin and inbox."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client
from django.utils import timezone

from jianguan.accounts.models import User
from jianguan.notify import outbox, services, tasks
from jianguan.notify.models import Delivery, Message, Notification, WebhookEndpoint
from jianguan.notify.services import notify
from jianguan.testing import factories as f

from .conftest import free_port


@pytest.fixture
def project(lanshan):
    return f.ProjectFactory(jurisdiction=lanshan)


@pytest.fixture
def people(db):
    with_mail = f.UserFactory(email="pm@example.com")
    without = f.UserFactory(email="")
    return with_mail, without


def say(users, project=None, topic="alarm.raise", **kwargs):
    return notify(
        users,
        topic=topic,
        title="【超标告警】测试项目 PM2.5",
        body="东门监测：PM2.5 当前 90μg/m³",
        url="/projects/1/",
        project=project,
        **kwargs,
    )


def test_outbox_rows_are_written_with_the_notifications(project, people, luozhuang):
    local = f.WebhookEndpointFactory(jurisdiction=project.jurisdiction)
    citywide_alarms = f.WebhookEndpointFactory(jurisdiction=None, kind="wecom", topics="alarm.")
    f.WebhookEndpointFactory(jurisdiction=None, topics="actuator.")  # another topic
    f.WebhookEndpointFactory(jurisdiction=luozhuang)  # another district
    f.WebhookEndpointFactory(jurisdiction=project.jurisdiction, active=False)

    assert say([*people, people[0], None], project) == 2  # distinct users; the count as before

    assert Notification.objects.count() == 2
    message = Message.objects.get()
    assert message.project == project and message.topic == "alarm.raise"
    rows = Delivery.objects.order_by("channel", "pk")
    assert [(d.channel, d.target) for d in rows] == [
        ("email", "pm@example.com"),
        ("webhook", local.name),
        ("webhook", citywide_alarms.name),
    ]
    assert rows[0].notification.recipient == people[0]
    assert all(d.status == "pending" and d.attempts == 0 and d.next_attempt_at for d in rows)
    assert mail.outbox == []  # sent only after the commit


def test_a_rolled_back_notification_leaves_no_outbox_rows(project, people):
    f.WebhookEndpointFactory(jurisdiction=project.jurisdiction)
    with pytest.raises(RuntimeError), transaction.atomic():
        say(people, project)
        raise RuntimeError("the caller's transaction fails")
    assert not Notification.objects.exists() and not Delivery.objects.exists()


def test_channels_and_email_setting(settings, project, people):
    f.WebhookEndpointFactory(jurisdiction=project.jurisdiction)
    say(people, project, channels=())
    assert Notification.objects.count() == 2 and not Delivery.objects.exists()
    say(people, project, channels=["email"])
    assert list(Delivery.objects.values_list("channel", flat=True)) == ["email"]
    settings.NOTIFY_EMAIL = False  # no SMTP server configured
    Delivery.objects.all().delete()
    say(people, project)
    assert list(Delivery.objects.values_list("channel", flat=True)) == ["webhook"]


def test_without_a_project_only_citywide_robots_hear(project):
    f.WebhookEndpointFactory(jurisdiction=project.jurisdiction)
    citywide = f.WebhookEndpointFactory(jurisdiction=None)
    city_level = f.WebhookEndpointFactory(jurisdiction=f.city())
    assert services.endpoints_for("alarm.raise") == [citywide]
    assert set(services.endpoints_for("alarm.raise", project)) == set(WebhookEndpoint.objects.all())
    assert city_level in services.endpoints_for("alarm.raise", project)  # a city robot hears its districts


def test_email_is_sent_after_the_commit(people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        say(people)
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["pm@example.com"] and sent.subject == "【超标告警】测试项目 PM2.5"
    assert "PM2.5 当前 90" in sent.body and "https://jg.example.gov.cn/projects/1/" in sent.body
    row = Delivery.objects.get()
    assert row.status == "sent" and row.attempts == 1 and row.sent_at and row.next_attempt_at is None


def test_dingtalk_robot_gets_a_signed_markdown_message(project, robot, django_capture_on_commit_callbacks):
    f.WebhookEndpointFactory(jurisdiction=project.jurisdiction, url=robot.url("T0K"), secret="SECtest")
    before = int(timezone.now().timestamp() * 1000)
    with django_capture_on_commit_callbacks(execute=True):
        say([], project)
    (request,) = robot.requests
    assert request["path"] == "/robot/send" and request["content_type"].startswith("application/json")
    query = request["query"]
    assert query["access_token"] == "T0K"
    timestamp = int(query["timestamp"])
    assert before - 1000 <= timestamp <= int(timezone.now().timestamp() * 1000) + 1000
    expected = base64.b64encode(hmac.new(b"SECtest", f"{timestamp}\nSECtest".encode(), hashlib.sha256).digest())
    assert query["sign"] == expected.decode()  # parse_qsl decoded it
    assert request["json"] == {
        "msgtype": "markdown",
        "markdown": {
            "title": "【超标告警】测试项目 PM2.5",
            "text": "#### 【超标告警】测试项目 PM2.5\n\n东门监测：PM2.5 当前 90μg/m³\n\n"
            "[查看详情](https://jg.example.gov.cn/projects/1/)\n\n监管平台自动推送",
        },
    }
    assert Delivery.objects.get().status == "sent"


def test_wecom_robot_gets_a_markdown_message(project, robot, django_capture_on_commit_callbacks):
    f.WebhookEndpointFactory(jurisdiction=project.jurisdiction, kind="wecom", url=robot.url("KEY"))
    with django_capture_on_commit_callbacks(execute=True):
        say([], project)
    (request,) = robot.requests
    assert request["query"] == {"access_token": "KEY"}  # no signing for WeCom
    assert request["json"] == {
        "msgtype": "markdown",
        "markdown": {
            "content": "**【超标告警】测试项目 PM2.5**\n\n东门监测：PM2.5 当前 90μg/m³\n\n"
            "[查看详情](https://jg.example.gov.cn/projects/1/)\n\n监管平台自动推送"
        },
    }
    assert Delivery.objects.get().status == "sent"


@pytest.mark.parametrize("failure", ["500", "errcode", "refused"])
def test_a_failing_robot_is_retried_with_backoff_until_it_answers(project, start_robot, failure):
    if failure == "refused":
        port = free_port()
        url = f"http://127.0.0.1:{port}/robot/send?access_token=T0K"
        robot = None
    else:
        robot = start_robot()
        robot.mode = failure
        url = robot.url()
    f.WebhookEndpointFactory(jurisdiction=project.jurisdiction, kind="wecom", url=url)
    say([], project)
    row = Delivery.objects.get()
    t0 = timezone.now()

    assert outbox.deliver_due(now=t0)["failed"] == 1
    row.refresh_from_db()
    assert row.status == "failed" and row.attempts == 1 and row.next_attempt_at == t0 + dt.timedelta(seconds=60)
    assert {"500": "HTTP 500", "errcode": "310000", "refused": "连接失败"}[failure] in row.last_error
    assert "T0K" not in row.last_error  # the token never lands in the log

    assert outbox.deliver_due(now=t0 + dt.timedelta(seconds=30)) == {
        "sent": 0,
        "failed": 0,
        "gave_up": 0,
        "deferred": 0,
    }  # not yet due
    t1 = t0 + dt.timedelta(seconds=61)
    assert outbox.deliver_due(now=t1)["failed"] == 1
    row.refresh_from_db()
    assert row.attempts == 2 and row.next_attempt_at == t1 + dt.timedelta(seconds=120)  # doubled

    if robot is None:
        robot = start_robot(port)  # the robot comes back on its address
    robot.mode = "ok"
    assert outbox.deliver_due(now=t1 + dt.timedelta(seconds=121))["sent"] == 1
    row.refresh_from_db()
    assert row.status == "sent" and row.attempts == 3 and row.last_error == ""
    assert robot.requests[-1]["json"]["msgtype"] == "markdown"


def test_gives_up_after_the_last_attempt_and_can_be_requeued(settings, project, robot):
    settings.NOTIFY_MAX_ATTEMPTS = 3
    robot.mode = "500"
    f.WebhookEndpointFactory(jurisdiction=project.jurisdiction, url=robot.url())
    say([], project)
    now = timezone.now()
    for _ in range(5):
        outbox.deliver_due(now=now)
        now += dt.timedelta(hours=2)
    row = Delivery.objects.get()
    assert row.status == "gave_up" and row.attempts == 3 and row.next_attempt_at is None
    assert len(robot.requests) == 3

    robot.mode = "ok"
    assert outbox.requeue(Delivery.objects.all()) == 1
    assert outbox.deliver_due()["sent"] == 1
    row.refresh_from_db()
    assert row.status == "sent" and row.attempts == 1


def test_backoff_is_capped():
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3, 7, 8, 20)] == [60, 120, 240, 3600, 3600, 3600]


def test_a_robot_that_is_down_is_tried_once_per_run(project):
    f.WebhookEndpointFactory(jurisdiction=project.jurisdiction, url=f"http://127.0.0.1:{free_port()}/robot/send")
    say([], project)
    say([], project)
    assert outbox.deliver_due() == {"sent": 0, "failed": 1, "gave_up": 0, "deferred": 1}
    first, second = Delivery.objects.order_by("pk")
    assert (first.attempts, second.attempts) == (1, 0)  # the second waited without using up an attempt
    assert second.status == "pending" and second.next_attempt_at == first.next_attempt_at


def test_a_deleted_or_disabled_robot_is_given_up_at_once(project, robot):
    gone = f.WebhookEndpointFactory(jurisdiction=project.jurisdiction, url=robot.url())
    off = f.WebhookEndpointFactory(jurisdiction=project.jurisdiction, url=robot.url())
    say([], project)
    gone.delete()
    WebhookEndpoint.objects.filter(pk=off.pk).update(active=False)
    assert outbox.deliver_due()["gave_up"] == 2
    assert set(Delivery.objects.values_list("last_error", flat=True)) == {"群机器人已删除", "群机器人已停用"}
    assert robot.requests == []


def test_the_periodic_job_sends_what_is_due(people):
    say(people)  # no on_commit here: as if the process died before the job was queued
    assert Delivery.objects.get().status == "pending"
    tasks.retry_deliveries.call_local()
    assert Delivery.objects.get().status == "sent" and len(mail.outbox) == 1


def test_a_row_claimed_by_another_worker_is_left_alone(people):
    say(people)
    row = Delivery.objects.get()
    assert outbox._claim(row, timezone.now())
    assert outbox.deliver_due() == {"sent": 0, "failed": 0, "gave_up": 0, "deferred": 0}
    assert mail.outbox == []


def test_inbox_shows_the_delivery_state(people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        say(people)
    client = Client()
    client.force_login(people[0])
    page = client.get("/notifications/").content.decode()
    assert "【超标告警】测试项目 PM2.5" in page and "邮件已发送" in page


@pytest.fixture
def admin_client_(db):
    user = f.UserFactory(role=User.Role.BUREAU_ADMIN, is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


def test_admin_lists_deliveries_and_masks_robot_secrets(admin_client_, project, robot):
    endpoint = f.WebhookEndpointFactory(
        jurisdiction=project.jurisdiction, url=robot.url("VERYSECRETTOKEN"), secret="SECverysecret"
    )
    robot.mode = "500"
    say([], project)
    outbox.deliver_due()
    page = admin_client_.get("/admin/notify/delivery/?status__exact=failed").content.decode()
    assert endpoint.name in page and "HTTP 500" in page
    listing = admin_client_.get("/admin/notify/webhookendpoint/").content.decode()
    assert "access_token=VERY…" in listing and "VERYSECRETTOKEN" not in listing
    change = admin_client_.get(f"/admin/notify/webhookendpoint/{endpoint.pk}/change/").content.decode()
    assert "SECverysecret" not in listing and "SECverysecret" not in change  # the secret is write-only
    assert admin_client_.get(f"/admin/notify/message/{Message.objects.get().pk}/change/").status_code == 200


def test_admin_keeps_the_secret_when_left_empty(admin_client_, lanshan):
    endpoint = f.WebhookEndpointFactory(jurisdiction=lanshan, secret="SECold")
    form = {
        "name": "兰山区住建局工作群",
        "kind": "dingtalk",
        "url": "https://oapi.dingtalk.com/robot/send?access_token=abc",
        "secret": "",
        "jurisdiction": lanshan.pk,
        "topics": "alarm.",
        "active": "on",
    }
    url = f"/admin/notify/webhookendpoint/{endpoint.pk}/change/"
    assert admin_client_.post(url, form).status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.secret == "SECold" and endpoint.topics == "alarm."
    admin_client_.post(url, {**form, "secret": "SECnew"})
    endpoint.refresh_from_db()
    assert endpoint.secret == "SECnew"
    admin_client_.post(url, {**form, "clear_secret": "on"})
    endpoint.refresh_from_db()
    assert endpoint.secret == ""


def test_admin_test_message_action(admin_client_, lanshan, robot):
    endpoint = f.WebhookEndpointFactory(jurisdiction=lanshan, kind="wecom", url=robot.url())
    response = admin_client_.post(
        "/admin/notify/webhookendpoint/",
        {"action": "send_test_message", "_selected_action": [endpoint.pk]},
        follow=True,
    )
    assert "测试消息已送达" in response.content.decode()
    assert "测试" in robot.requests[0]["json"]["markdown"]["content"]


def test_finished_rows_are_purged_after_the_retention_the_rest_stays(project, people, settings, capsys):
    from django.core.management import call_command

    settings.NOTIFY_EMAIL = True
    settings.NOTIFY_OUTBOX_RETENTION_DAYS = 90
    f.WebhookEndpointFactory(jurisdiction=project.jurisdiction)
    now = timezone.now()
    old, recent = now - dt.timedelta(days=100), now - dt.timedelta(days=10)

    def message_with(*rows):
        """A message sent long ago whose deliveries ended as `rows` say: (status, when it was sent)."""
        say([people[0]], project)
        message = Message.objects.latest("id")
        Message.objects.filter(pk=message.pk).update(created_at=old)
        deliveries = list(message.deliveries.order_by("channel"))
        assert len(deliveries) == len(rows) == 2  # the email and the district's robot
        for row, (status, sent_at) in zip(deliveries, rows, strict=True):
            Delivery.objects.filter(pk=row.pk).update(status=status, sent_at=sent_at, created_at=old)
        return message

    S, G, F, P = Delivery.Status.SENT, Delivery.Status.GAVE_UP, Delivery.Status.FAILED, Delivery.Status.PENDING
    gone = message_with((S, old), (G, None))  # both finished long ago: the message goes too
    half = message_with((S, old), (F, None))  # the robot is still being retried: it and the message stay
    late = message_with((S, recent), (P, None))  # sent within the retention: stays
    empty = Message.objects.create(topic="alarm.raise", title="无投递")  # left without a delivery
    Message.objects.filter(pk=empty.pk).update(created_at=old)
    notes = Notification.objects.count()

    call_command("outbox_purge", "--dry-run")
    assert "将删除：投递记录 3 条，外发消息 2 条" in capsys.readouterr().out
    assert Delivery.objects.count() == 6  # a rehearsal deletes nothing

    assert outbox.purge_outbox() == {"deliveries": 3, "messages": 2}
    assert not Message.objects.filter(pk__in=[gone.pk, empty.pk]).exists()
    assert sorted(Delivery.objects.values_list("message_id", "status")) == sorted(
        [(half.pk, F), (late.pk, S), (late.pk, P)]
    )
    assert Notification.objects.count() == notes  # the inbox keeps its history
    assert outbox.purge_outbox() == {"deliveries": 0, "messages": 0}

    settings.NOTIFY_OUTBOX_RETENTION_DAYS = 0  # keep forever
    Delivery.objects.update(status=S, sent_at=old)
    assert outbox.purge_outbox() == {"deliveries": 0, "messages": 0}
    assert tasks.purge_outbox.call_local() is None and Delivery.objects.count() == 3
