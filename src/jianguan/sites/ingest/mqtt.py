"""MQTT ingest: a persistent-session QoS 1 subscriber on the broker (Mosquitto/EMQX). A message is
acknowledged only after it was stored or spooled to disk; an unreachable database spools, a broker
restart redelivers (and the store is idempotent).

Scale-out: `shared=True` joins the shared subscription $share/jianguan-ingest/… so several workers split
the load. Measured on Mosquitto 2: while *every* member of the group is offline across a broker restart,
a shared subscription lost one of three queued messages, where a plain persistent subscription lost none;
so one worker uses the plain subscription, and a shared group should never be scaled down to zero.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections
from django.utils import timezone

from ..actuators import commands as actuators
from ..devices import identity
from ..protocols import telemetry
from ..workforce import cranes
from . import store
from .spool import Spool

log = logging.getLogger("jianguan.sites.mqtt")
SHARE_GROUP = "jianguan-ingest"
TELEMETRY_FILTER = "jianguan/v1/devices/+/telemetry"
ACK_FILTER = "jianguan/v1/devices/+/ack"


def scrub(record: dict) -> dict:
    """The record as it may go to disk: a crane's operator ID number is replaced by its masked form, its
    lookup hash going beside it (`operator_ref`, what the check needs), so the spool never holds the number."""
    try:
        body = json.loads(record["payload"])
    except ValueError:
        return record
    if not isinstance(body, dict) or not isinstance(body.get("operator"), str):
        return record
    ref = cranes.OperatorRef.from_id_number(body["operator"])
    body["operator"] = ref.masked  # a message may carry only its operator; the check uses the ref
    return {**record, "payload": json.dumps(body, ensure_ascii=False), "operator_ref": ref.as_json()}


class MqttIngest:
    def __init__(self, url: str, *, worker: str = "0", spool_path: Path | None = None, shared: bool = False):
        parsed = urlparse(url)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 1883
        self.username, self.password = parsed.username, parsed.password
        self.client_id = f"jianguan-ingest-{worker}"
        self.topic_filter = f"$share/{SHARE_GROUP}/{TELEMETRY_FILTER}" if shared else TELEMETRY_FILTER
        self.ack_filter = f"$share/{SHARE_GROUP}/{ACK_FILTER}" if shared else ACK_FILTER
        self.spool = Spool(spool_path or Path(settings.VAR_DIR) / "spool" / f"mqtt-{worker}.jsonl")
        self.stats = {"received": 0, "stored": 0, "rejected": 0, "spooled": 0, "replayed": 0}
        self._connected = threading.Event()
        self._stop = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=False,  # persistent session: the broker keeps our QoS 1 queue while we are away
            protocol=mqtt.MQTTv311,
        )
        if self.username:
            self.client.username_pw_set(self.username, self.password)
        self.client.reconnect_delay_set(1, 30)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self._subscription_mid: int | None = None
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    # --- callbacks (paho's network thread) -----------------------------------------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.error("MQTT connect refused: %s", reason_code)
            return
        self._subscription_mid = client.subscribe([(self.topic_filter, 1), (self.ack_filter, 1)])[1]
        log.info("MQTT ingest %s connected to %s:%s", self.client_id, self.host, self.port)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        # Ready only once the broker has the subscription: a message published between CONNACK and SUBACK
        # would not be queued for a session that is new to the broker.
        if mid != self._subscription_mid:
            return
        if any(code.is_failure for code in reason_codes):
            log.error("MQTT subscription refused: %s", reason_codes)
            return
        self._connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self._connected.clear()
        if not self._stop.is_set():
            log.warning("MQTT ingest disconnected (%s); reconnecting", reason_code)
        else:
            connections.close_all()  # stopping: this (paho's) thread's database connection goes too

    def _on_message(self, client, userdata, message):
        self.stats["received"] += 1
        record = {"topic": message.topic, "payload": message.payload.decode("utf-8", "replace")}
        try:
            self.handle(record)
        except DatabaseError as exc:
            # The database is away: keep the message on disk; paho acknowledges after we return.
            log.warning("database unavailable (%s): spooling", exc)
            self.spool.append(scrub(record))
            self.stats["spooled"] += 1
            close_old_connections()

    # --- work ----------------------------------------------------------------------------------------

    def handle(self, record: dict) -> None:
        try:
            client_id, kind = telemetry.parse_topic(record["topic"])
            if kind == "ack":
                self._acknowledge(client_id, record["payload"])
                return
            data = telemetry.parse_payload(record["payload"], timezone.now())
        except telemetry.TelemetryError as exc:
            self.stats["rejected"] += 1
            log.info("rejected MQTT message on %s: %s", record["topic"], exc)
            return
        device_id = identity.device_for_mqtt(client_id)
        if device_id is None:
            self.stats["rejected"] += 1
            log.info("MQTT message from unregistered client %s", client_id)
            return
        ref = record.get("operator_ref")  # a spooled crane message: its operator, hashed (see scrub)
        store.store_telemetry(device_id, data, cranes.OperatorRef.from_json(ref) if ref else None)
        self.stats["stored"] += 1

    def _acknowledge(self, client_id: str, payload: str) -> None:
        try:
            body = json.loads(payload)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self.stats["rejected"] += 1
            return
        actuators.acknowledge(client_id, body)

    def replay_spool(self) -> int:
        if not len(self.spool):
            return 0
        try:
            done = self.spool.replay(self.handle)
        except DatabaseError:
            close_old_connections()
            return 0
        self.stats["replayed"] += done
        return done

    def start(self) -> None:
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()
        threading.Thread(target=self._replayer, name="mqtt-spool-replay", daemon=True).start()

    def _replayer(self) -> None:
        while not self._stop.wait(5):
            self.replay_spool()

    def wait_connected(self, timeout: float = 10) -> bool:
        return self._connected.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        self.client.disconnect()
        self.client.loop_stop()


def run_forever(url: str, worker: str, shared: bool = False) -> None:
    ingest = MqttIngest(url, worker=worker, shared=shared)
    ingest.start()
    try:
        while True:
            time.sleep(60)
            log.info("MQTT ingest stats %s", ingest.stats)
    finally:
        ingest.stop()
