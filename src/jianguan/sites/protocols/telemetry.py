"""JSON telemetry of MQTT and HTTP devices (pure): topic scheme and payload validation.

Topics:  jianguan/v1/devices/{client_id}/telemetry   device → platform, QoS 1
         jianguan/v1/devices/{client_id}/commands    platform → device (actuators), QoS 1
         jianguan/v1/devices/{client_id}/ack         device → platform, command acknowledgements
Payload: {"ts": "2026-11-20T10:00:00+08:00", "values": {"wind_ms": 6.2, "moment_pct": 71.5, ...}}
Known names map to HJ 212 codes where one exists (wind_ms → a01007), so the same limits apply.
Cranes may add "operator": the ID number their cab's ID-card / face reader read. Only its shape is checked
here; the platform looks the person up by the registry's keyed hash and never stores or logs the number.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

TOPIC_RE = re.compile(r"^jianguan/v1/devices/(?P<client>[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63})/(?P<kind>telemetry|ack)$")
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,15}$")
ALIASES = {
    "pm25": "a34004",
    "pm10": "a34002",
    "tsp": "a34001",
    "noise_db": "LA",
    "temp_c": "a01001",
    "humidity_pct": "a01002",
    "wind_ms": "a01007",
    "wind_dir_deg": "a01008",
}
# Crane telemetry names (no HJ 212 code exists): load (t), load moment (% of rated), tilt, height, radius, slewing.
# With the rated load at the current radius (rated_load_t) the load is also given in % (load_pct, overload),
# unless the device sends load_pct itself.
CRANE_FIELDS = ("load_t", "rated_load_t", "load_pct", "moment_pct", "tilt_deg", "height_m", "radius_m", "slew_deg")
# Derived by the platform (the crane operator check, cranes.py; the 设备离线 alarms' parameter, alarms/offline.py):
# a device may not send them.
RESERVED = frozenset({"op_unqualified", "offline"})
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # an earlier ts is a device clock that is not set
MAX_VALUES = 64
OPERATOR_MAX = 32


class TelemetryError(ValueError):
    """Payload or topic rejected; the message says why."""


@dataclass(frozen=True)
class Telemetry:
    ts: dt.datetime
    values: dict[str, float]
    # The crane operator's ID number as read in the cab: raw, so kept out of repr() (and thus out of logs).
    operator: str | None = field(default=None, repr=False)


def parse_topic(topic: str) -> tuple[str, str]:
    match = TOPIC_RE.match(topic)
    if not match:
        raise TelemetryError(f"unknown topic {topic!r}")
    return match["client"], match["kind"]


def parse_payload(raw: bytes | str | dict[str, Any], now: dt.datetime) -> Telemetry:
    if isinstance(raw, (bytes, str)):
        if len(raw) > 16_384:
            raise TelemetryError("payload larger than 16 KiB")
        try:
            raw = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise TelemetryError(f"not JSON: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("values"), dict):
        raise TelemetryError('payload must be an object with "values"')
    ts = now
    if raw.get("ts") is not None:
        try:
            ts = dt.datetime.fromisoformat(str(raw["ts"]))
        except ValueError as exc:
            raise TelemetryError("ts must be ISO 8601 with a time zone") from exc
        if ts.tzinfo is None:
            raise TelemetryError("ts must carry a time zone offset")
        if ts > now + dt.timedelta(minutes=10):
            raise TelemetryError("ts lies in the future")
        if ts < EARLIEST:
            raise TelemetryError("ts lies before 2000: the device clock is not set")
    values: dict[str, float] = {}
    if len(raw["values"]) > MAX_VALUES:
        raise TelemetryError(f"more than {MAX_VALUES} values")
    for name, value in raw["values"].items():
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise TelemetryError(f"bad value name {name!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise TelemetryError(f"value of {name} must be a finite number")
        if name in RESERVED:
            raise TelemetryError(f"{name} is derived by the platform")
        values[ALIASES.get(name, name)] = float(value)
    operator = raw.get("operator")
    if operator is not None:
        # The message never repeats the value: it is personal data.
        if not isinstance(operator, str) or not 1 <= len(operator.strip()) <= OPERATOR_MAX:
            raise TelemetryError(f"operator must be a string of 1 to {OPERATOR_MAX} characters")
        operator = operator.strip()
    if not values and operator is None:
        raise TelemetryError("no values")
    rated = values.get("rated_load_t")
    if "load_pct" not in values and "load_t" in values and rated is not None and rated > 0:
        values["load_pct"] = round(values["load_t"] / rated * 100, 2)
    return Telemetry(ts, values, operator)
