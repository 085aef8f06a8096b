"""Group-robot webhooks of DingTalk (钉钉) and WeCom (企业微信): message formats, DingTalk signing, the POST
and the reading of the robot's reply. Pure Python (stdlib only, no Django) so it can be tested alone.

DingTalk custom robot: POST {"msgtype": "markdown", "markdown": {"title": …, "text": …}} to
https://oapi.dingtalk.com/robot/send?access_token=…; with the 加签 security setting the URL also carries
&timestamp=<ms>&sign=<urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")))>.
WeCom group robot: POST {"msgtype": "markdown", "markdown": {"content": …}} to
https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=….
Both answer HTTP 200 with {"errcode": 0, "errmsg": "ok"}; any other errcode is a failure.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request

DINGTALK = "dingtalk"
WECOM = "wecom"
KINDS = (DINGTALK, WECOM)

# Message size limits of the robots (bytes of UTF-8): DingTalk markdown 20000, WeCom markdown 4096.
MAX_BYTES = {DINGTALK: 20000, WECOM: 4096}
MAX_REPLY_BYTES = 65536


class WebhookError(Exception):
    """The robot did not take the message (HTTP error, connection failure, timeout or errcode != 0)."""


def topic_matches(filters: str, topic: str) -> bool:
    """`filters`: topic prefixes separated by commas or spaces ("alarm., actuator.failed"); empty = every topic."""
    prefixes = [p for p in filters.replace("，", ",").replace(",", " ").split() if p]
    return not prefixes or any(topic == p or topic.startswith(p) for p in prefixes)


def truncate_utf8(text: str, max_bytes: int) -> str:
    """`text` cut to at most `max_bytes` bytes of UTF-8 without splitting a character ("…" marks a cut)."""
    raw = text.encode()
    if len(raw) <= max_bytes:
        return text
    return raw[: max_bytes - len("…".encode())].decode(errors="ignore") + "…"


def markdown(kind: str, title: str, body: str, link: str = "", footer: str = "") -> str:
    """The message as the robot's markdown: title in bold/heading, the body, a link to the platform, a footer
    (a fixed line lets a DingTalk robot use the “keyword” security setting)."""
    heading = f"#### {title}" if kind == DINGTALK else f"**{title}**"
    parts = [heading, body.strip(), f"[查看详情]({link})" if link else "", footer]
    text = "\n\n".join(p for p in parts if p)
    if len(text.encode()) <= MAX_BYTES[kind]:
        return text
    tail = "\n\n".join(p for p in parts[2:] if p)  # cut the body, keep the link and the footer
    head = truncate_utf8("\n\n".join(parts[:2]), MAX_BYTES[kind] - len(tail.encode()) - 2)
    return f"{head}\n\n{tail}" if tail else head


def dingtalk_payload(title: str, text: str) -> dict:
    return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}


def wecom_payload(content: str) -> dict:
    return {"msgtype": "markdown", "markdown": {"content": content}}


def payload(kind: str, title: str, body: str, link: str = "", footer: str = "") -> dict:
    if kind not in KINDS:
        raise ValueError(f"unknown webhook kind {kind!r}")
    text = markdown(kind, title, body, link, footer)
    return dingtalk_payload(title, text) if kind == DINGTALK else wecom_payload(text)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")), URL-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """The DingTalk robot URL with &timestamp=…&sign=… appended (unchanged when there is no secret)."""
    if not secret:
        return url
    sep = "&" if urllib.parse.urlsplit(url).query else ("" if url.endswith("?") else "?")
    return f"{url}{sep}timestamp={timestamp_ms}&sign={dingtalk_sign(secret, timestamp_ms)}"


def check_reply(status: int, body: bytes) -> dict:
    """The robot's JSON answer; raises WebhookError unless it is HTTP 2xx with errcode 0."""
    if not 200 <= status < 300:
        raise WebhookError(f"HTTP {status}")
    try:
        reply = json.loads(body.decode("utf-8", errors="replace"))
    except ValueError:
        raise WebhookError(f"应答不是 JSON：{body[:100]!r}") from None
    if not isinstance(reply, dict) or "errcode" not in reply:
        raise WebhookError(f"应答缺少 errcode：{str(reply)[:100]}")
    if reply["errcode"] != 0:
        raise WebhookError(f"errcode {reply['errcode']}：{str(reply.get('errmsg', ''))[:200]}")
    return reply


def post_json(url: str, data: dict, timeout: float) -> tuple[int, bytes]:
    """POSTs `data` as JSON; returns (HTTP status, body). Errors never carry the URL (it holds the token)."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise WebhookError("地址必须是 http(s)")
    request = urllib.request.Request(
        url,
        data=json.dumps(data, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(MAX_REPLY_BYTES)
    except urllib.error.HTTPError as exc:
        return exc.code, b""
    except urllib.error.URLError as exc:
        raise WebhookError(f"连接失败：{exc.reason}") from None
    except TimeoutError:
        raise WebhookError(f"超时（{timeout:g} 秒）") from None
    except OSError as exc:
        raise WebhookError(f"连接失败：{exc}") from None


def send(
    kind: str,
    url: str,
    title: str,
    body: str,
    *,
    link: str = "",
    footer: str = "",
    secret: str = "",
    timeout: float = 10.0,
    now_ms: int | None = None,
) -> dict:
    """Formats, signs (DingTalk with a secret) and posts one message; returns the reply or raises WebhookError."""
    data = payload(kind, title, body, link, footer)
    if kind == DINGTALK:
        url = signed_url(url, secret, int(time.time() * 1000) if now_ms is None else now_ms)
    status, reply = post_json(url, data, timeout)
    return check_reply(status, reply)
