"""Guessed device credentials (docs/hj212.md, "Password guessing"): the district bureau hears of a guessing episode
on one of its HJ 212 devices once, and the HTTP ingest refuses a client address that keeps presenting wrong
device tokens. The gateway's own throttle (per MN, per address, per connection) is pure code in
protocols/throttle.py; this is the platform's side of it."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache

from jianguan.accounts.models import User
from jianguan.notify.services import notify

from .. import permissions
from ..models import Device

log = logging.getLogger("jianguan.sites.guarding")


def announce_guessing(kind: str, key: str, peer: str, known: bool | None, failures: int, window: float) -> bool:
    """Tells the district bureau of the device's project that its MN's password is being guessed (or the
    device's password is wrong): once per episode, across gateway processes (the cache marks it for the
    window). An address's episode, or an unknown MN's, is not any district's: the gateway logs and counts it.
    Returns whether a notice went out."""
    if kind != "mn" or not known:
        return False
    device = Device.objects.select_related("project__jurisdiction").filter(mn=key).first()
    if device is None or not cache.add(f"hj212:guessing:{key}", peer, timeout=max(int(window), 1)):
        return False
    project = device.project
    recipients = list(permissions.district_regulators(project)) or list(
        User.objects.filter(is_active=True, role=User.Role.BUREAU_ADMIN)
    )
    minutes = f"{window / 60:g}"
    notify(
        recipients,
        topic="device.guessing",
        title=f"【设备密码疑似被猜测】{project.name} {device.name}",
        body=(
            f"设备编号 {key} 在 {minutes} 分钟内 {failures} 次密码错误（最近来自 {peer}）。平台已暂停接受该设备编号的"
            "新连接认证，错误减少后自动恢复；已连接的设备不受影响。可能有人在猜测设备密码，也可能是设备密码配置"
            "错误（如更换密码后设备未同步），请联系施工单位核实。"
        ),
        url=f"/projects/{project.pk}/#site",
        project=project,
    )
    log.warning("hj212 guessing on MN %s (%s) from %s: district told", key, project.code, peer)
    return True


# --- HTTP device tokens ------------------------------------------------------------------------------------


class TokenThrottled(Exception):
    """Too many wrong device tokens from this address (the API answers 429 `throttled`)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("设备令牌错误次数过多，请稍后再试")
        self.retry_after = retry_after


def _token_key(ip: str) -> str:
    return f"device-token-fail:ip:{ip}"


def check_token_allowed(ip: str | None) -> None:
    """Raises TokenThrottled while the address has used up its failures (DEVICE_TOKEN_MAX_FAILURES per
    DEVICE_TOKEN_FAILURE_WINDOW_SECONDS): its tokens are not even looked up then."""
    if ip and (cache.get(_token_key(ip)) or 0) >= settings.DEVICE_TOKEN_MAX_FAILURES:
        raise TokenThrottled(settings.DEVICE_TOKEN_FAILURE_WINDOW_SECONDS)


def token_failed(ip: str | None) -> None:
    """Counts a wrong device token from the address (a missing one is no guess and is not counted)."""
    if not ip:
        return
    window = settings.DEVICE_TOKEN_FAILURE_WINDOW_SECONDS
    key = _token_key(ip)
    if cache.add(key, 1, window):
        return
    try:
        count = cache.incr(key)
    except ValueError:  # expired meanwhile
        cache.set(key, 1, window)
        return
    if count == settings.DEVICE_TOKEN_MAX_FAILURES:
        log.warning("device tokens: %s wrong tokens from %s within %s s; refusing it", count, ip, window)
