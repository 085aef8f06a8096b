"""Cut an HJ 212 byte stream (TCP, serial) into frames.

TCP delivers bytes, not packets: one `recv` may hold half a frame or several frames, and a device may
send line noise or a broken frame. `FrameBuffer` finds frames by their header (`##` + 4-digit length)
and trailer (CR LF at the position the length announces), resynchronises on the next `##` after
anything it cannot use, and never holds more than one maximal frame's worth of bytes between calls.
It checks framing only; CRC and content are `hj212.decode`'s job.
"""

from __future__ import annotations

from .hj212 import FRAME_OVERHEAD, MAX_SEGMENT, HJ212Error

__all__ = ["FrameBuffer"]

# Bytes some devices send between frames as keep-alives; skipped without reporting them as garbage.
_FILLER = frozenset(b"\r\n\x00 ")


class FrameBuffer:
    """Incremental frame splitter for one connection.

    `feed(data)` returns, in stream order, each complete frame (`bytes`, from `##` to CR LF inclusive)
    and an `HJ212Error` for each problem found: "garbage" (bytes outside a frame, discarded),
    "bad_length" (no CR LF where the length field says the frame ends),
    "too_long" (a frame claiming a segment over `max_segment`). Call `close()` at end of stream to get
    a "truncated" error for an unfinished frame.
    """

    __slots__ = ("_buf", "_quiet", "discarded", "frames", "max_segment")

    def __init__(self, max_segment: int = MAX_SEGMENT) -> None:
        self.max_segment = max_segment
        self._buf = bytearray()
        self._quiet = False  # after a framing error, do not also report its leftovers as garbage
        self.discarded = 0  # bytes thrown away so far
        self.frames = 0  # frames returned so far

    @property
    def pending(self) -> int:
        """Bytes held back waiting for the rest of a frame (always < max_segment + 12)."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes | HJ212Error]:
        buf = self._buf
        buf += data
        out: list[bytes | HJ212Error] = []
        while buf:
            start = buf.find(b"##")
            if start < 0:
                # Keep a lone trailing '#': it may be the first half of the next header.
                keep = 1 if buf[-1:] == b"#" else 0
                self._discard(len(buf) - keep, out)
                break
            if start:
                self._discard(start, out)
                continue
            if not buf[2:6].isdigit():
                if len(buf) > 2:
                    # '##' without digits is not a header: part of the garbage around it.
                    self._discard(1, out)
                    continue
                break  # wait for the length field
            if len(buf) < 6:
                break  # wait for the rest of the length field
            length_field = bytes(buf[2:6])
            length = int(length_field)
            if length > self.max_segment:
                self._error(out, "too_long", f"frame claims a {length}-byte segment")
                continue
            end = length + FRAME_OVERHEAD
            if len(buf) < end:
                break  # wait for the rest of the frame
            if buf[end - 2 : end] != b"\r\n":
                self._error(out, "bad_length", f"no CR LF after the announced {length}-byte segment")
                continue
            out.append(bytes(buf[:end]))
            del buf[:end]
            self.frames += 1
            self._quiet = False
        return out

    def close(self) -> list[HJ212Error]:
        """End of stream: report an unfinished frame (if any) and reset."""
        out: list[HJ212Error] = []
        if any(b not in _FILLER for b in self._buf):
            out.append(HJ212Error("truncated", f"stream ended inside a frame ({len(self._buf)} bytes)"))
        self.discarded += len(self._buf)
        self._buf.clear()
        self._quiet = False
        return out

    def _error(self, out: list[bytes | HJ212Error], reason: str, message: str) -> None:
        # Drop only the first '#': a real header may start at the second one.
        del self._buf[:1]
        self.discarded += 1
        out.append(HJ212Error(reason, message))
        self._quiet = True

    def _discard(self, count: int, out: list[bytes | HJ212Error]) -> None:
        if count <= 0:
            return
        junk = self._buf[:count]
        del self._buf[:count]
        self.discarded += count
        if self._quiet or all(b in _FILLER for b in junk):
            return
        out.append(HJ212Error("garbage", f"discarded {count} bytes outside a frame: {bytes(junk[:16])!r}"))
        self._quiet = True
