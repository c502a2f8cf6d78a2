"""A training run as plain data: what was asked, what happened, what it produced. Whichever executor trains it fills
one in; the pages, the CLI, the exports and the class record only read it. It travels as a dict (to_dict/from_dict):
the weights as safetensors bytes, never a pickled object."""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, field, fields

from lib.experiments.stats import spread
from lib.messages import N_, Message
from lib.storage.checkpoints import card_from_run
from lib.training.config import TrainConfig

FINISHED = ("done", "stopped", "diverged", "error")
STATES = {"queued": N_("queued"), "running": N_("running"), "done": N_("done"), "stopped": N_("stopped"),
          "diverged": N_("diverged"), "error": N_("failed")}  # a run's state -> its label for people
_ids = itertools.count(1)


@dataclass
class RunRecord:
    """One training run: its config, the dicts train() yielded so far, and how it ended."""

    config: TrainConfig
    owner: str  # the browser session (or command) that started it
    name: str = ""
    id: int = field(default_factory=lambda: next(_ids))
    group: int = 0  # runs started together with the same settings and other seeds share the first one's id
    device: str = "cpu"  # the device type it trains on (cpu | cuda | mps), chosen when it is submitted
    state: str = "queued"  # queued -> running -> done | stopped | diverged | error
    events: list = field(default_factory=list)  # append-only; readers take a len() snapshot
    message: Message | None = None  # why it diverged, stopped by itself or failed, for the UI to translate
    seconds: float = 0.0  # training time, queueing excluded
    result: dict | None = None  # lib.experiments.evaluate on the test set when the run ends
    weights: bytes | None = None  # the trained model as safetensors bytes, when it was trained in another process
    executor: str = "local"  # what ran it: local (a thread of this server) or ray
    worker: str = ""  # where: the host and process that trained it

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    @property
    def scored(self) -> bool:
        """Finished with a test score (a diverged, failed or never-started run has none)."""
        return self.finished and self.result is not None

    @property
    def comparable(self) -> bool:
        """Ran to its end and learned: what seed means, order comparisons and the class's figures pool. A stopped
        run, or one whose verdict is that it did not learn, is shown apart, never pooled with them."""
        return self.state == "done" and self.result is not None and self.message is None

    def last(self, event: str) -> dict | None:
        """The newest dict of one kind ('step', 'epoch', 'start', ...), or None."""
        return next((e for e in reversed(self.events[:]) if e["event"] == event), None)

    def of_kind(self, event: str) -> list[dict]:
        return [e for e in self.events[:] if e["event"] == event]

    def follow(self, seen: int = 0) -> list[dict]:
        """The dicts logged after the first `seen`: what a reader that has seen `seen` of them has not seen yet."""
        return self.events[seen:]

    def summary(self) -> dict:
        """One flat row for a runs table: config, outcome, accuracy, time, device."""
        c, start = self.config, self.last("start") or {}
        return {"run": self.id, "name": self.name, "family": c.family, "hidden": c.hidden, "layers": c.layers,
                "optimizer": c.optimizer, "lr": c.lr, "batch": c.batch_size, "epochs": c.epochs, "order": c.order,
                "digits": start.get("n_train", c.subset), "state": self.state,
                "test_acc": self.result["acc"] if self.result else None,
                "seconds": round(self.seconds, 1), "device": start.get("device", "")}

    def card(self, data: dict) -> dict:
        """The checkpoint card of a finished run (config, metrics, data, timing), for saving or download."""
        if self.result is None:
            raise ValueError("this run has no test result to put in a card")
        return card_from_run(self.name or f"run-{self.id}", self.config, self.result, data, self.events[:],
                             self.seconds) | {"executor": self.executor, "worker": self.worker}

    def to_dict(self) -> dict:
        """Plain JSON data: the config as a dict, the message as its id and values, the weights as base64."""
        out = {f.name: getattr(self, f.name) for f in fields(RunRecord)}
        return out | {"config": self.config.to_dict(), "events": self.events[:],
                      "message": self.message.to_dict() if self.message else None,
                      "weights": base64.b64encode(self.weights).decode() if self.weights else None}

    @classmethod
    def from_dict(cls, data: dict) -> "RunRecord":
        values = {f.name: data[f.name] for f in fields(RunRecord) if f.name in data}
        return cls(**values | {"config": TrainConfig.from_dict(data["config"]),
                               "message": Message.from_dict(data["message"]) if data.get("message") else None,
                               "weights": base64.b64decode(data["weights"]) if data.get("weights") else None})


def seed_group_spreads(runs: list[RunRecord]) -> list[dict]:
    """Per group of scored runs started together with other seeds: their ids and lib.experiments.stats.spread of
    their test accuracies (mean, sd, min, max, runs)."""
    return [{"ids": [r.id for r in group], **spread([r.result["acc"] for r in group])} for group in seed_groups(runs)]


def left_out(runs: list[RunRecord]) -> list[RunRecord]:
    """The scored runs that comparisons leave out: stopped early, or finished without learning."""
    return [r for r in runs if r.scored and not r.comparable]


def seed_groups(runs: list[RunRecord]) -> list[list[RunRecord]]:
    """The comparable runs started together with the same settings and other seeds, one list per group of two or
    more (a stopped run, or one that did not learn, is left out)."""
    groups: dict[int, list[RunRecord]] = {}
    for run in runs:
        if run.group and run.comparable:
            groups.setdefault(run.group, []).append(run)
    return [members for members in groups.values() if len(members) > 1]
