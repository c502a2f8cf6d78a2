"""The class experiment as plain data: the base setup and the one setting that varies, which value each student
gets, and what the class's runs show together (pooled figures per value with their intervals, a "best" only beyond
noise, the row orders pooled with the students' runs as seeds, captions computed from the numbers).

Student k (1, 2, 3 … in the order they joined) gets value number (k − 1) mod len(values), so the values fill up
evenly: 30 students and 10 values give 3 runs per value. Each student's run also gets seed base + k − 1 (unless the
seed is what varies): runs of one value are then repeats with other seeds, and their spread is the noise a
difference between values must beat.
"""

from __future__ import annotations

import statistics
from dataclasses import replace

from lib.data.orders import ORDERS
from lib.experiments.stats import differ_se, interval, standard_error, t95
from lib.messages import Message, Problem, Term, msg
from lib.models.families import FAMILIES
from lib.training.config import TrainConfig
from lib.training.limits import SETTINGS, classroom_problems, label
from lib.training.presets import PRESETS

VARIED = ("lr", "hidden", "layers", "order", "family", "seed", "optimizer", "batch_size", "epochs", "dropout",
          "scheduler", "weight_decay", "clip", "loss", "positions")  # the settings a class may vary
MAX_VALUES = 30
DEFAULT_PRESET = "quick"


def parse_values(setting: str, text: str) -> list:
    """'0.001, 0.003,0.01' as typed values of `setting` (a Problem names the first one that is not)."""
    if setting not in VARIED:
        raise Problem(msg("class.bad_setting", setting=str(setting)[:40], choices=", ".join(VARIED)))
    parts = [p.strip() for p in str(text).split(",") if p.strip()]
    if not 2 <= len(parts) <= MAX_VALUES:
        raise Problem(msg("class.value_count", high=MAX_VALUES))
    values = [getattr(TrainConfig.from_dict({setting: p[:64]}), setting) for p in parts]
    repeated = [v for k, v in enumerate(values) if v in values[:k]]
    if repeated:
        raise Problem(msg("class.value_twice", value=value_label(setting, repeated[0])))
    return values


def capped_base(preset_name: str, settings) -> tuple[TrainConfig, list[Message]]:
    """A preset's config within the classroom caps (each capped setting lowered to its cap), and what changed."""
    if preset_name not in PRESETS:
        raise Problem(msg("class.bad_preset", name=str(preset_name)[:40], choices=", ".join(PRESETS)))
    base, notes = PRESETS[preset_name][2], []
    for name, s in SETTINGS.items():
        cap = getattr(settings, s.cap) if s.cap and settings is not None else None
        value = getattr(base, name) or (60000 if s.all_or_at_least else 0)
        if cap is not None and value > cap:
            base = replace(base, **{name: int(cap)})
            notes.append(msg("class.base_capped", setting=label(name), value=int(cap)))
    return base, notes


def make(setting: str | None, values_text: str, preset_name: str = DEFAULT_PRESET, settings=None) -> tuple:
    """(the experiment as stored, notes): `setting` None makes a class without an experiment (free runs only).
    Every value is checked with the base setup against the settings' own rules and the classroom caps."""
    base, notes = capped_base(preset_name, settings)
    if not setting:
        return None, notes
    values = parse_values(setting, values_text)
    for value in values:
        cfg = replace(base, **{setting: value})
        try:
            cfg.validate()
        except Problem as exc:
            raise Problem(msg("class.value_rejected", value=value_label(setting, value), why=exc.messages[0]))
        broken = classroom_problems(cfg.to_dict(), settings) if settings is not None else []
        if broken:
            raise Problem(msg("class.value_rejected", value=value_label(setting, value), why=broken[0]))
    return {"setting": setting, "values": values, "preset": preset_name, "base": base.to_dict()}, notes


def checked(experiment) -> dict | None:
    """An experiment read back from the database, checked (ValueError if it is not one of ours)."""
    if experiment is None:
        return None
    if not isinstance(experiment, dict) or experiment.get("setting") not in VARIED:
        raise ValueError("not a class experiment")
    base = TrainConfig.from_dict(experiment["base"]).validate()
    values = experiment["values"]
    if not isinstance(values, list) or not 2 <= len(values) <= MAX_VALUES:
        raise ValueError("not a list of values")
    setting = experiment["setting"]
    values = [getattr(replace(base, **{setting: v}).validate(), setting) for v in values]
    return {"setting": setting, "values": values, "preset": str(experiment.get("preset", ""))[:40],
            "base": base.to_dict()}


def assignment(experiment: dict | None, number: int) -> dict | None:
    """Student `number`'s value and the exact config of their class run, or None without an experiment."""
    if not experiment:
        return None
    setting, values = experiment["setting"], experiment["values"]
    value = values[(number - 1) % len(values)]
    base = TrainConfig.from_dict(experiment["base"])
    seed = value if setting == "seed" else base.seed + number - 1
    return {"setting": setting, "value": value, "config": replace(base, **{setting: value, "seed": seed})}


def value_label(setting: str, value) -> Term:
    """A value as people read it: an order's or family's name (translated), a number as written."""
    if setting == "order" and value in ORDERS:
        return Term(ORDERS[value].title)
    if setting == "family" and value in FAMILIES:
        return Term(FAMILIES[value].label)
    if isinstance(value, bool):
        return Term(str(value).lower())
    return Term(f"{value:g}" if isinstance(value, float) else str(value))


def pooled(accs: list[float], ns: list[int]) -> dict:
    """Runs of one setup taken together: median and mean, and the 95% interval of the mean (Student's t over the
    runs' spread); a single run has only its own binomial (Wilson) interval."""
    mean = statistics.fmean(accs)
    if len(accs) == 1:
        low, high = interval(accs[0], ns[0])
        return {"runs": 1, "median": accs[0], "mean": mean, "sd": None, "se": standard_error(accs[0], ns[0]),
                "low": low, "high": high}
    sd = statistics.stdev(accs)
    se = sd / len(accs) ** 0.5
    half = t95(len(accs) - 1) * se
    return {"runs": len(accs), "median": statistics.median(accs), "mean": mean, "sd": sd, "se": se,
            "low": max(0.0, mean - half), "high": min(1.0, mean + half)}


def best(groups: dict) -> dict:
    """The value with the highest mean if it beats every other beyond their noise (Welch-like: t with the smaller
    degrees of freedom), else None. Seed noise must be measured: a value with two runs or more brings its own; a
    value with a single counted run (its others stopped or did not learn) is judged with the seed spread the class
    measured on the other values (their pooled standard deviation and degrees of freedom). With no value run twice,
    nothing is named and every value is `missing`."""
    measured = [g for g in groups.values() if g["runs"] >= 2]
    if len(groups) < 2 or not measured:
        return {"value": None, "missing": [k for k, g in groups.items() if g["runs"] < 2], "tied": []}
    pooled_df = sum(g["runs"] - 1 for g in measured)
    spread = (sum((g["runs"] - 1) * g["sd"] ** 2 for g in measured) / pooled_df) ** 0.5

    noise = {k: (g["se"], g["runs"] - 1) if g["runs"] >= 2 else (max(spread, g["se"]), pooled_df)
             for k, g in groups.items()}  # (standard error of the mean, degrees of freedom)
    top = max(groups, key=lambda k: groups[k]["mean"])
    tied = [k for k in groups if k != top and not differ_se(groups[k]["mean"], noise[k][0], groups[top]["mean"],
                                                            noise[top][0], t95(min(noise[k][1], noise[top][1])))]
    return {"value": None if tied else top, "top": top, "missing": [], "tied": tied}


IGNORED = ("seed", "subset", "test_subset", "device")  # what may differ from the base in one experiment's run: the
# student's seed, and the digit counts a server with fewer digits loaded sizes down (lib.training.config.sized_to_data)


def belongs(experiment: dict | None, config: dict) -> bool:
    """Whether a class run's config is the experiment's base setup with one of its values (a run recorded before the
    teacher changed the experiment is not: it is shown apart, like a student's own runs)."""
    if not experiment or config.get(experiment["setting"]) not in experiment["values"]:
        return False
    skip = set(IGNORED) | {experiment["setting"]}
    return all(config.get(k) == v for k, v in experiment["base"].items() if k not in skip)


def figures(rows: list[dict], experiment: dict | None, show_all: bool = False) -> dict:
    """What the class view draws, from checked rows (lib.classroom.rows.checked plus `number`): the runs in the
    experiment's chart, per value its pooled figures, the best value (or why none), the row orders pooled, the
    curves, and captions as Messages. Stopped, failed and not-learning runs count only with `show_all`."""
    ours = [r for r in rows if r["kind"] == "class" and belongs(experiment, r["config"])]
    in_experiment = {id(r) for r in ours}
    counted = [r for r in ours if r["test_acc"] is not None and (show_all or r["outcome"] == "done")]
    plotted = counted  # the experiment's chart: one point per counted run
    setting = experiment["setting"] if experiment else None
    values = [v for v in (experiment or {}).get("values", []) if any(r["value"] == v for r in plotted)]
    groups = {k: pooled([r["test_acc"] for r in plotted if r["value"] == v],
                        [r["test_n"] for r in plotted if r["value"] == v]) | {
                  "value": v, "seconds": statistics.median(r["seconds"] for r in plotted if r["value"] == v)}
              for k, v in enumerate(values)}
    orders = {}
    for order in dict.fromkeys(r["config"]["order"] for r in plotted):
        same = [r for r in plotted if r["config"]["order"] == order]
        orders[order] = pooled([r["test_acc"] for r in same], [r["test_n"] for r in same])
    winner = best(groups)
    kept = {id(r) for r in counted}
    left_out = [r for r in ours if id(r) not in kept]
    return {"setting": setting, "log_x": setting in ("lr", "weight_decay"),
            "points": [{"value": r["value"], "acc": r["test_acc"], "low": r["low"], "high": r["high"],
                        "seconds": r["seconds"], "number": r["number"], "outcome": r["outcome"]} for r in plotted],
            "per_value": list(groups.values()), "best": winner, "orders": orders,
            "curves": [{"number": r["number"], "value": r["value"], **r["curves"]} for r in plotted],
            "free": [r for r in rows if id(r) not in in_experiment], "left_out": len(left_out),
            "captions": captions(setting, groups, winner, orders, len(plotted), len(left_out))}


def captions(setting, groups: dict, winner: dict, orders: dict, runs: int, left_out: int) -> list[Message]:
    """The chart's captions, each computed from the numbers it states."""
    if not setting or not runs:
        return [msg("class.caption_empty")]
    out = [msg("class.caption_runs", runs=runs, left_out=left_out)]
    name = lambda k: value_label(setting, groups[k]["value"])  # noqa: E731
    if winner["value"] is not None:
        g = groups[winner["value"]]
        out.append(msg("class.caption_best", value=name(winner["value"]), acc=g["mean"], n=g["runs"]))
    elif winner.get("missing"):
        out.append(msg("class.caption_need_runs", values=[name(k) for k in winner["missing"]]))
    elif winner.get("tied"):
        top = groups[winner["top"]]
        out.append(msg("class.caption_no_best", value=name(winner["top"]), acc=top["mean"],
                       others=[name(k) for k in winner["tied"]]))
    repeated = {k: g for k, g in groups.items() if g["runs"] > 1}
    if repeated:
        k = max(repeated, key=lambda k: repeated[k]["sd"])
        out.append(msg("class.caption_spread", value=name(k), sd=repeated[k]["sd"], n=repeated[k]["runs"]))
    for order, g in orders.items():
        out.append(msg("class.caption_order", order=value_label("order", order), mean=g["mean"],
                       half=(g["high"] - g["low"]) / 2, n=g["runs"]))
    return out
