"""The app's Ray driver, a process of its own (`python -m lib.runs.ray_driver`, started by lib.runs.ray_executor).

It connects to the cluster at the address it is given (or starts a local Ray on 127.0.0.1), checks that every node
runs the app's versions (the app's own code travels with Ray's runtime environment), puts each data set into the
object store once (Ray then copies it once to each node that trains on it), submits each run as a streaming task
(lib.runs.ray_worker.train_job) asking for its CPUs and its share of a GPU, and relays the runs' events, ends and
stops over lib.runs.wire.

Why a process of its own: Ray ends a driver whose cluster has been unreachable for a while, and the Streamlit server
would go with it. Here only this process ends; the app sees the link close and tells the students the cluster was
lost.
"""

from __future__ import annotations

import os
import queue
import socket
import sys
import threading
import time

import numpy as np

from lib import ROOT
from lib.messages import Message, msg
from lib.runs.ray_worker import Control, arrays_of, cluster_name, mismatch, train_job, versions
from lib.runs.wire import Wire

LIB = ROOT / "lib"  # shipped to the cluster with Ray's runtime environment: every worker runs this very code
REACH_S = 5.0  # how long the head's port may take to answer before the cluster counts as unreachable
PROBE_S = 180.0  # how long every node may take to report its versions (a fresh worker imports torch)
LOCAL_OBJECT_STORE = 256 * 2**20  # a local Ray's object store: MNIST (55 MB) and the finished runs' results
CAPACITY_S = 5.0  # how often the cluster's size is reported to the app (nodes may join or leave)
LOST = ("WorkerCrashedError", "NodeDiedError", "ObjectLostError", "OwnerDiedError", "ActorDiedError")


class Refusal(Exception):
    """The cluster cannot be used; the Message says why, for people."""

    def __init__(self, message: Message):
        super().__init__(message.render())
        self.message = message


def reachable(address: str) -> None:
    """Raise a Refusal at once when `address` (host:port) does not accept a connection, rather than letting Ray
    retry for a minute."""
    host, _, port = address.rpartition(":")
    if not port.isdigit():  # "auto" or another form Ray resolves itself
        return
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=REACH_S).close()
    except OSError as exc:
        raise Refusal(msg("ray.unreachable", cluster=cluster_name(address), detail=str(exc) or type(exc).__name__)) from None


class Driver:
    """One connection to a cluster, and the runs the app sent to it."""

    def __init__(self, wire: Wire, hello: dict):
        import ray

        self.ray, self.wire = ray, wire
        self.where = cluster_name(hello.get("address"))
        self.expected = hello["versions"] | {"ray": ray.__version__}
        self.threads = int(hello.get("threads", 1))
        self._connect(hello.get("address"), int(hello.get("local_cpus", 1)))
        self._check_versions()
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=True)
        self.control = ray.remote(Control).options(num_cpus=0, scheduling_strategy=here).remote()
        self.task = ray.remote(train_job)
        self.data: dict[str, object] = {}  # data set key -> its ObjectRef, put once
        self.puts = 0
        self.sent = 0  # training tasks submitted to Ray (what a refused run must never add to)
        self.runs: dict[object, int] = {}  # ObjectRefGenerator -> job id, for the runs not yet ended
        self.started: set[int] = set()
        self.inbox: queue.Queue = queue.Queue()

    def _connect(self, address: str | None, local_cpus: int) -> None:
        shipped = {"py_modules": [str(LIB)]}
        try:
            if address:
                reachable(address)
                self.ray.init(address=address, log_to_driver=False, runtime_env=shipped)
            else:  # a Ray of its own on this machine, listening on the loopback interface only
                self.ray.init(address="local", num_cpus=local_cpus, include_dashboard=False, log_to_driver=False,
                              object_store_memory=LOCAL_OBJECT_STORE, _node_ip_address="127.0.0.1",
                              runtime_env=shipped)
        except Refusal:
            raise
        except Exception as exc:  # noqa: BLE001 - ConnectionError, RuntimeError (version mismatch), TimeoutError…
            first = (str(exc).strip().splitlines() or [""])[0][:300]
            raise Refusal(msg("ray.unreachable", cluster=self.where, detail=f"{type(exc).__name__}: {first}")) from None

    def _check_versions(self) -> None:
        """Every node alive now reports its versions; the first difference refuses the cluster (a node that joins
        later is checked by each run it takes, lib.runs.ray_worker.train_job)."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        probe = self.ray.remote(versions)
        asked = {f"{n['NodeManagerAddress']} (Ray node {n['NodeID'][:8]})": probe.options(
                 num_cpus=0, scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False)).remote()
                 for n in self.ray.nodes() if n["Alive"]}
        for where, ref in asked.items():
            different = mismatch(self.expected, self.ray.get(ref, timeout=PROBE_S), where)
            if different is not None:
                raise Refusal(different)

    def capacity(self) -> dict:
        """The cluster's CPUs, GPUs (logical ones count: Ray schedules by what nodes advertise) and live nodes."""
        total = self.ray.cluster_resources()
        return {"cpus": total.get("CPU", 0.0), "gpus": total.get("GPU", 0.0),
                "nodes": sum(n["Alive"] for n in self.ray.nodes())}

    def serve(self) -> None:
        """Take the app's requests and relay the runs' batches until the app closes the link."""
        threading.Thread(target=self._read, daemon=True, name="app-link").start()
        report_at = time.monotonic() + CAPACITY_S
        while self._take_requests(wait=0.0 if self.runs else 0.2):
            if self.runs:
                self._relay()
            if time.monotonic() > report_at:
                self.wire.send({"op": "capacity", **self.capacity()})
                report_at = time.monotonic() + CAPACITY_S
        self.ray.shutdown()

    def _read(self) -> None:
        while (got := self.wire.receive()) is not None:
            self.inbox.put(got)
        self.inbox.put(None)  # the app has gone: its server stopped or was killed

    def _take_requests(self, wait: float) -> bool:
        """Handle every request waiting (after up to `wait` seconds for the first); False once the app closed."""
        try:
            got = self.inbox.get(timeout=wait) if wait else self.inbox.get_nowait()
        except queue.Empty:
            return True
        while got is not None:
            message, blobs = got
            if message["op"] == "close":
                return False
            try:
                getattr(self, "_on_" + message["op"])(message, blobs)
            except Exception as exc:  # noqa: BLE001 - one bad request ends its run, not the driver and every run
                if "id" not in message:
                    raise
                self.wire.send({"op": "batch", "id": message["id"], "failed": "error",
                                "detail": f"{type(exc).__name__}: {exc}"[:300]})
            try:
                got = self.inbox.get_nowait()
            except queue.Empty:
                return True
        return False

    def _on_data(self, message: dict, blobs: list[bytes]) -> None:
        """One data set's arrays, put into the object store once; runs on it get its reference."""
        arrays = [np.frombuffer(blob, dtype=dtype).reshape(shape)
                  for blob, (dtype, shape) in zip(blobs, message["arrays"])]
        self.data[message["key"]] = self.ray.put(arrays_of(*arrays, message["source"], message["origin"]))
        self.puts += 1

    def _on_submit(self, message: dict, blobs: list[bytes]) -> None:
        run = self.task.options(num_returns="streaming", max_retries=0, **message["resources"]).remote(message["record"], self.data[message["key"]],
                                                              self.control, self.expected, self.threads)
        self.runs[run] = message["id"]
        self.sent += 1

    def _on_stop(self, message: dict, blobs: list[bytes]) -> None:
        """A running run stops at its next step (the worker polls the control actor); one still waiting for its
        CPUs is taken out of Ray's queue."""
        job_id = message["id"]
        self.control.stop.remote(job_id)
        if job_id not in self.started:
            for run, owner in self.runs.items():
                if owner == job_id:
                    self.ray.cancel(run)

    def _on_where(self, message: dict, blobs: list[bytes]) -> None:
        """Which nodes hold a copy of a data set in their object store, how many data sets were put, and how many
        training tasks were sent to Ray."""
        ref = self.data[message["key"]]
        located = self.ray.experimental.get_object_locations([ref])[ref]
        self.wire.send({"op": "where", "key": message["key"], "nodes": located["node_ids"], "puts": self.puts,
                        "sent": self.sent})

    def _relay(self) -> None:
        """Pass on every batch that is ready, waiting at most 50 ms for one."""
        ready, _ = self.ray.wait(list(self.runs), num_returns=len(self.runs), timeout=0.05)
        for run in ready:
            job_id = self.runs[run]
            try:
                batch = self.ray.get(next(run))
            except StopIteration:
                del self.runs[run]
                continue
            except self.ray.exceptions.TaskCancelledError:
                batch = {"cancelled": True}
            except self.ray.exceptions.RayError as exc:
                kind = "lost" if type(exc).__name__ in LOST else "error"
                first = (str(exc).strip().splitlines() or [""])[0][:300]
                batch = {"failed": kind, "detail": f"{type(exc).__name__}: {first}"}
            if batch.get("state") == "running":
                self.started.add(job_id)
            self.wire.send({"op": "batch", "id": job_id, **batch})
            if {"record", "cancelled", "failed"} & set(batch):
                del self.runs[run]
                self.started.discard(job_id)


def main() -> int:
    """Serve one app over stdin (its requests) and a copy of stdout (the replies); everything else that would be
    printed goes to stderr, so no library's output can corrupt a message."""
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    wire = Wire(sys.stdin.buffer, replies)
    got = wire.receive()
    if got is None:
        return 1
    try:
        driver = Driver(wire, got[0])
    except Refusal as exc:
        wire.send({"op": "refused", "message": exc.message.to_dict()})
        return 1
    except Exception as exc:  # noqa: BLE001 - a cluster that answers but cannot run a probe, a timeout…
        detail = f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0][:300]}"
        wire.send({"op": "refused", "message": msg("ray.unreachable", cluster=cluster_name(got[0].get("address")),
                                                   detail=detail).to_dict()})
        return 1
    wire.send({"op": "ready", **driver.capacity()})
    driver.serve()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stderr.flush()
    os._exit(code)  # at once: the thread reading the app's requests may still be blocked on a read
