"""The pure webhook module: DingTalk signing, message formats, reply checking, topic filters."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse

import pytest

from jianguan.notify import webhooks

# Computed outside Python:
#   printf '%s\n%s' 1700000000000 SECabc123 | openssl dgst -sha256 -hmac SECabc123 -binary | base64
OPENSSL_SIGN = "N5P09a4+p1AMJIJWnIvQd2Yxw9+fu/oEBnPrjCcsLXk="


def test_dingtalk_signature_matches_an_independent_computation():
    sign = webhooks.dingtalk_sign("SECabc123", 1700000000000)
    assert urllib.parse.unquote(sign) == OPENSSL_SIGN
    assert sign == "N5P09a4%2Bp1AMJIJWnIvQd2Yxw9%2Bfu%2FoEBnPrjCcsLXk%3D"  # +, / and = are escaped
    expected = base64.b64encode(hmac.new(b"SECxyz", b"1712345678901\nSECxyz", hashlib.sha256).digest()).decode()
    assert urllib.parse.unquote(webhooks.dingtalk_sign("SECxyz", 1712345678901)) == expected


def test_signed_url_appends_timestamp_and_sign():
    url = webhooks.signed_url("https://oapi.dingtalk.com/robot/send?access_token=T0K", "SECabc123", 1700000000000)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query == {"access_token": ["T0K"], "timestamp": ["1700000000000"], "sign": [OPENSSL_SIGN]}
    assert webhooks.signed_url("https://x/robot", "S", 1).startswith("https://x/robot?timestamp=1&sign=")
    assert webhooks.signed_url("https://x/robot?a=1", "", 1) == "https://x/robot?a=1"  # no secret, no signing


def test_payload_formats():
    ding = webhooks.payload("dingtalk", "【超标告警】项目A", "PM2.5 当前 90", "https://jg/projects/1/")
    assert ding == {
        "msgtype": "markdown",
        "markdown": {
            "title": "【超标告警】项目A",
            "text": "#### 【超标告警】项目A\n\nPM2.5 当前 90\n\n[查看详情](https://jg/projects/1/)",
        },
    }
    wecom = webhooks.payload("wecom", "标题", "内容", footer="监管平台")
    assert wecom == {"msgtype": "markdown", "markdown": {"content": "**标题**\n\n内容\n\n监管平台"}}
    with pytest.raises(ValueError):
        webhooks.payload("slack", "t", "b")


def test_long_messages_are_cut_to_the_robot_limit():
    content = webhooks.payload("wecom", "标题", "超" * 5000, "https://jg/p/1/", "监管平台")["markdown"]["content"]
    assert len(content.encode()) <= 4096
    assert content.endswith("…\n\n[查看详情](https://jg/p/1/)\n\n监管平台")  # the body is cut, not the link
    assert webhooks.payload("wecom", "标题", "超" * 5000)["markdown"]["content"].endswith("超…")
    text = webhooks.payload("dingtalk", "标题", "超" * 5000)["markdown"]["text"]
    assert "…" not in text  # 15 000 bytes: within DingTalk's 20 000


def test_reply_checking():
    assert webhooks.check_reply(200, b'{"errcode":0,"errmsg":"ok"}')["errmsg"] == "ok"
    for status, body, needle in [
        (500, b"", "HTTP 500"),
        (200, json.dumps({"errcode": 310000, "errmsg": "sign not match"}).encode(), "310000"),
        (200, b"<html>", "JSON"),
        (200, b'{"ok": true}', "errcode"),
    ]:
        with pytest.raises(webhooks.WebhookError, match=needle):
            webhooks.check_reply(status, body)


def test_topic_filters():
    assert webhooks.topic_matches("", "anything")
    assert webhooks.topic_matches("alarm.", "alarm.raise")
    assert not webhooks.topic_matches("alarm.", "actuator.failed")
    assert webhooks.topic_matches("alarm.raise，actuator.", "actuator.failed")
    assert not webhooks.topic_matches("alarm.raise", "alarm.clear")


def test_only_http_urls_are_posted():
    with pytest.raises(webhooks.WebhookError, match="http"):
        webhooks.post_json("file:///etc/passwd", {}, 1)
