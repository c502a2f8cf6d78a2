"""Which values a run's settings may take: one declaration per setting (its range or registry, what the form offers,
the classroom limit that caps it, its message), read by the config's checks, the form, links, the CLI and the job
queue, so a limit is changed in one place."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from lib.data.orders import ORDERS
from lib.messages import N_, Message, Term, msg
from lib.models.families import FAMILIES, OPTIONAL, family, uses
from lib.models.nets import READOUTS
from lib.training.devices import DEVICES, PRECISIONS
from lib.training.loop import KEEPS, LOSSES
from lib.training.optim import OPTIMIZERS, SCHEDULES


@dataclass(frozen=True)
class Setting:
    """What one TrainConfig field may be. A number is checked against low/high (each bound included unless marked
    open); a choice against its registry; `message` names the rule for people."""

    label: str  # its name inside a sentence ("the hidden size must be ..."), English source text
    low: float | None = None
    high: float | None = None
    open_low: bool = False  # low itself is not allowed (a learning rate above 0)
    open_high: bool = False  # high itself is not allowed (dropout below 1)
    choices: Callable[[], dict[str, str]] | None = None  # the registry it picks from: name -> label
    all_or_at_least: int = 0  # a digit count: 0 (all of them) or at least this many
    message: str = "setting.between"  # lib.messages id, filled with setting, low and high
    offered: tuple = ()  # the values the form offers (the current one is added where it differs)
    form_high: float | None = None  # the form's slider ends here, below `high` (a link may still ask for more)
    cap: str = ""  # the classroom setting that caps it (a lib.runs.settings.Settings field), if any
    in_form: bool = True  # the form and links carry it

    def allows(self, value) -> bool:
        if self.choices is not None:
            return value in self.choices()
        if self.all_or_at_least:
            return value == 0 or value >= self.all_or_at_least
        if isinstance(value, float) and not math.isfinite(value):
            return False
        above = self.low is None or (value > self.low if self.open_low else value >= self.low)
        below = self.high is None or (value < self.high if self.open_high else value <= self.high)
        return above and below

    def problem(self, value) -> Message | None:
        """Why `value` is not allowed, or None."""
        if self.allows(value):
            return None
        if isinstance(value, float) and not math.isfinite(value):
            return msg("setting.finite")
        if self.choices is not None:
            return msg("setting.one_of", setting=Term(self.label), choices=[Term(v) for v in self.choices().values()])
        return msg(self.message, setting=Term(self.label), low=self.low, high=self.high)


def _labels(registry: dict, attribute: str = "label") -> Callable[[], dict[str, str]]:
    return lambda: {name: getattr(entry, attribute) if not isinstance(entry, str) else entry
                    for name, entry in registry.items()}


SETTINGS: dict[str, Setting] = {
    "family": Setting(N_("the model family"), choices=_labels(FAMILIES)),
    "hidden": Setting(N_("the hidden size"), 1, 1024, cap="max_hidden",
                      offered=(8, 16, 32, 64, 100, 128, 192, 256, 384, 512, 768, 1024)),
    "layers": Setting(N_("the number of layers"), 1, 8, cap="max_layers"),
    "dropout": Setting(N_("dropout"), 0.0, 1.0, open_high=True, message="setting.fraction", form_high=0.9),
    "lr": Setting(N_("the learning rate"), 0.0, 1000.0, open_low=True, message="setting.learning_rate",
                  offered=(0.0001, 0.0003, 0.001, 0.003, 0.005, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 50.0)),
    "optimizer": Setting(N_("the optimizer"), choices=_labels(OPTIMIZERS)),
    "momentum": Setting(N_("momentum"), 0.0, 1.0, open_high=True, message="setting.fraction", form_high=0.99),
    "weight_decay": Setting(N_("weight decay"), 0.0, message="setting.not_negative",
                            offered=(0.0, 1e-5, 1e-4, 1e-3, 1e-2)),
    "scheduler": Setting(N_("the learning-rate schedule"), choices=_labels(SCHEDULES)),
    "batch_size": Setting(N_("the batch size"), 1, 8192, offered=(16, 32, 64, 128, 256, 512, 1024)),
    "epochs": Setting(N_("the number of epochs"), 1, 200, cap="max_epochs"),
    "subset": Setting(N_("the number of training digits"), all_or_at_least=10, message="setting.digits",
                      cap="max_subset", offered=(500, 1000, 2000, 5000, 10000, 20000, 30000)),
    "validation": Setting(N_("the validation share"), 0.0, 0.5, message="setting.share",
                          offered=(0.0, 0.05, 0.1, 0.2)),
    "test_subset": Setting(N_("the number of test digits"), all_or_at_least=10, message="setting.digits",
                           offered=(500, 1000, 2000, 5000)),
    "order": Setting(N_("the row order"), choices=_labels(ORDERS, "title")),
    "seed": Setting(N_("the seed"), 0, message="setting.not_negative", form_high=2**31 - 1),
    "device": Setting(N_("the device"), choices=lambda: {d: d for d in DEVICES}),
    "precision": Setting(N_("the precision"), choices=_labels(PRECISIONS)),
    "clip": Setting(N_("gradient clipping"), 0.0, message="setting.not_negative", form_high=100.0),
    "loss": Setting(N_("the loss"), choices=_labels(LOSSES)),
    "log_every": Setting(N_("the logging interval"), 1, message="setting.at_least", form_high=1000),
    "max_steps": Setting(N_("the step limit"), 0, message="setting.not_negative", in_form=False),
    "positions": Setting(N_("the position embedding"), choices=lambda: {True: "true", False: "false"}),
    "readout": Setting(N_("the read-out"), choices=lambda: READOUTS),
    "bidirectional": Setting(N_("reading both ways"), choices=lambda: {True: "true", False: "false"}),
    "steps_per_row": Setting(N_("the steps per row"), choices=lambda: {n: str(n) for n in (1, 2, 4)}),
    "keep": Setting(N_("the weights kept"), choices=lambda: KEEPS),
}
LABELS = {name: s.label for name, s in SETTINGS.items()}  # each setting's name for messages


def setting_help(name: str, default) -> str:
    """A setting's allowed values and default in words, for the command line's --help (English)."""
    s = SETTINGS[name]
    if s.choices is not None:
        allowed = " | ".join(map(str, s.choices()))
    elif s.all_or_at_least:
        allowed = f"0 (all) or at least {s.all_or_at_least}"
    else:
        low = "" if s.low is None else f"{'>' if s.open_low else '>='} {s.low:g}"
        high = "" if s.high is None else f"{'<' if s.open_high else '<='} {s.high:g}"
        allowed = ", ".join(x for x in (low, high) if x)
    capped = f"; a classroom may cap it ({s.cap})" if s.cap else ""
    return f"{s.label}: {allowed}; default {default!r}{capped}"


def label(name: str) -> Term:
    """A setting's name inside a sentence, to translate."""
    return Term(SETTINGS[name].label)


def problems(values: dict, defaults: dict) -> list[Message]:
    """Every reason a run's settings (a TrainConfig's fields) cannot train: each setting alone, then across settings."""
    found = [m for name, s in SETTINGS.items() if (m := s.problem(values[name])) is not None]
    return found + (_family_problems(values, defaults) if values["family"] in FAMILIES else [])


def _family_problems(values: dict, defaults: dict) -> list[Message]:
    """What only some families have: a setting set away from its default for a family it means nothing to, and a
    Transformer's hidden size that its attention heads cannot share."""
    name, label_ = values["family"], Term(family(values["family"]).label)
    out = [msg("setting.every_step" if option == "loss" else "setting.not_for_family", setting=label(option),
               family=label_)
           for option in OPTIONAL if not uses(name, option) and values[option] != defaults[option]]
    heads = family(name).heads
    out += [msg("setting.heads", family=label_, heads=heads)] if heads and values["hidden"] % heads else []
    return out + _combination_problems(values)


def _combination_problems(values: dict) -> list[Message]:
    """Settings that are allowed alone but not together."""
    out = []
    if values["keep"] == "best" and not values["validation"] > 0:
        out.append(msg("setting.keep_best"))
    if values["bidirectional"] and values["loss"] == "every-step":
        out.append(msg("setting.every_step_both_ways"))
    return out


def classroom_problems(values: dict, settings, n_train: int = 60000) -> list[Message]:
    """Why a run's settings break the classroom limits of `settings` (lib.runs.settings.Settings); [] if they keep
    them. A digit count of 0 means all `n_train`."""
    out = []
    for name, s in SETTINGS.items():
        if s.cap:
            value, limit = values[name] or (n_train if s.all_or_at_least else 0), getattr(settings, s.cap)
            if value > limit:
                out.append(msg("classroom.limit", setting=label(name), limit=limit, value=value))
    return out


def highest(name: str, settings) -> float | None:
    """Where the form's control for `name` ends: its own end, or the classroom limit if that is lower."""
    s = SETTINGS[name]
    ends = [v for v in (s.form_high if s.form_high is not None else s.high,
                        getattr(settings, s.cap) if s.cap else None) if v is not None]
    return min(ends) if ends else None


def offered(name: str, current, settings, n_all: int | None = None) -> list:
    """The values the form offers for `name`: its declared ones up to the classroom limit (a digit count: then 'all
    n_all' and nothing above what is loaded), plus the current value, sorted."""
    s, top = SETTINGS[name], highest(name, settings)
    values = list(s.offered) + ([n_all] if n_all is not None else [])
    limit = min(v for v in (top, n_all) if v is not None) if (top is not None or n_all is not None) else None
    return sorted({v for v in values if limit is None or v <= limit} | {current})


def fit_to_data(values: dict, n_train: int, n_test: int) -> tuple[dict, list[Message]]:
    """Settings asking for no more digits than are loaded (more becomes 0 = all of them), and a note per change."""
    changed, notes = dict(values), []
    for name, n, note in (("subset", n_train, "train.all_training"), ("test_subset", n_test, "train.all_test")):
        if values[name] >= n:  # e.g. a link asking for 20,000 on the shipped sample's 10,000
            changed[name] = 0
            if values[name] > n:
                notes.append(msg(note, n=n))
    return changed, notes


def for_form(values: dict, settings, n_train: int, n_test: int) -> dict:
    """A run's settings as the form's controls show them: 0 (all digits) as the loaded count, and each value no
    further than its control reaches (a valid link may ask for more; the submit check explains a classroom limit)."""
    shown = dict(values)
    shown["subset"] = min(values["subset"] or n_train, n_train)
    shown["test_subset"] = min(values["test_subset"] or n_test, n_test)
    for name, s in SETTINGS.items():  # a slider or number box cannot show a value past its end; a select slider can
        top = highest(name, settings) if (s.form_high is not None or s.cap) and not s.offered else None
        if top is not None:
            shown[name] = min(shown[name], top)
    return shown


def from_form(shown: dict, defaults: dict, n_train: int, n_test: int) -> dict:
    """The form's values as a run's settings: 'all N' digits back to 0 (all, as in a preset), and the settings the
    chosen family does not have back at their defaults (the form hides them, as a link leaves them out)."""
    values = dict(shown)
    for name in OPTIONAL:
        if values.get("family") in FAMILIES and not uses(values["family"], name):
            values[name] = defaults[name]
    values["subset"] = 0 if values.get("subset", 0) >= n_train else values["subset"]
    values["test_subset"] = 0 if values.get("test_subset", 0) >= n_test else values["test_subset"]
    return values
