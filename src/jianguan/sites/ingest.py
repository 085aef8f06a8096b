"""Wires the pure HJ 212 gateway to the database: device look-ups and reading storage run in one
worker thread (sync_to_async), so the event loop keeps serving connections while rows are written."""

from __future__ import annotations

from asgiref.sync import sync_to_async

from . import services
from .protocols.gateway import Gateway

_store = sync_to_async(services.store_packet, thread_sensitive=True)
_authenticate = sync_to_async(services.authenticate, thread_sensitive=True)
_dialect = sync_to_async(services.dialect_for, thread_sensitive=True)


async def handle_packet(packet, peer) -> None:
    await _store(packet)


def build_gateway(host: str = "127.0.0.1", port: int = 9212, **options) -> Gateway:
    return Gateway(host, port, handle_packet, _authenticate, _dialect, **options)
