"""Messages between the app and its Ray driver process (lib.runs.ray_driver), over a pair of pipes: each one a JSON
header plus raw byte blobs (MNIST's arrays, once per data set), never a pickle. Plain data both ways, like the run
record itself."""

from __future__ import annotations

import json
import struct
import threading
from typing import BinaryIO

_LENGTH = struct.Struct(">Q")  # every frame starts with its length: 8 bytes, big-endian


class Wire:
    """One end of the link: send() from any thread, receive() from one reader."""

    def __init__(self, inbox: BinaryIO, outbox: BinaryIO):
        self.inbox, self.outbox = inbox, outbox
        self._lock = threading.Lock()

    def send(self, message: dict, blobs: tuple[bytes, ...] = ()) -> None:
        """Write `message` (JSON-able) and its blobs as one unit; raises OSError when the other end is gone."""
        head = json.dumps(message | {"blobs": [len(b) for b in blobs]}).encode()
        with self._lock:
            self.outbox.write(_LENGTH.pack(len(head)) + head)
            for blob in blobs:
                self.outbox.write(_LENGTH.pack(len(blob)))
                self.outbox.write(blob)
            self.outbox.flush()

    def receive(self) -> tuple[dict, list[bytes]] | None:
        """The next message and its blobs, or None when the other end has closed."""
        head = self._frame()
        if head is None:
            return None
        message = json.loads(head)
        blobs = [self._frame() for _ in message.pop("blobs", [])]
        if any(blob is None for blob in blobs):
            return None
        return message, blobs

    def _frame(self) -> bytes | None:
        size = self._exactly(_LENGTH.size)
        return None if size is None else self._exactly(_LENGTH.unpack(size)[0])

    def _exactly(self, n: int) -> bytes | None:
        chunks, got = [], 0
        while got < n:
            chunk = self.inbox.read(n - got)
            if not chunk:
                return None
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)
