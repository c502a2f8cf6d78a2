"""The digits on an accelerator: one copy shared by every job training there, made by the first and let go by the
last (a class of jobs on one GPU holds MNIST once, not once per job)."""

from __future__ import annotations

import threading

from lib.data.mnist import MnistData


class SharedCopies:
    """Per (data set, device type): the copy on the device and how many jobs use it."""

    def __init__(self):
        self._copies: dict[tuple[int, str], tuple[MnistData, MnistData, int]] = {}
        self._lock = threading.Lock()

    def take(self, data: MnistData, device: str) -> MnistData:
        """The digits on `device` (the CPU's are the data itself), made by the first job that asks."""
        if device == "cpu":
            return data
        with self._lock:
            key = (id(data), device)
            source, copy, users = self._copies.get(key, (None, None, 0))
            if source is not data:  # a new data set (an id is reused only once its copy is gone)
                copy, users = data.to(device), 0
            self._copies[key] = (data, copy, users + 1)
            return copy

    def holds(self, data: MnistData, device: str) -> bool:
        """Whether `data` is on `device` already (a job that starts there then needs no room for another copy)."""
        with self._lock:
            return device == "cpu" or self._copies.get((id(data), device), (None,))[0] is data

    def drop(self, data: MnistData, device: str) -> bool:
        """One job less on a device's copy; True when it was the last and the copy was let go."""
        with self._lock:
            key = (id(data), device)
            if key not in self._copies:
                return False
            source, copy, users = self._copies[key]
            if users > 1:
                self._copies[key] = (source, copy, users - 1)
                return False
            del self._copies[key]
            return True
