"""The docs stay true (every test the bad-input table cites exists) and the deployment needs only requirements.txt."""

import ast
import json
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

from lib.storage.documents import shipped_cards  # name -> card, as the docs generator reads them

ROOT = Path(__file__).resolve().parent.parent


def test_bad_input_table_cites_real_tests():
    doc = (ROOT / "docs" / "bad-inputs.md").read_text()
    files = {p.stem: p.read_text() for p in (ROOT / "tests").glob("test_*.py")}
    cited = set(re.findall(r"\b(test_\w+)\b", doc)) - set(files)  # test names, not file names
    source = "\n".join(files.values())
    assert len(cited) > 20
    assert sorted(name for name in cited if f"def {name}(" not in source) == []


def imported_modules(paths) -> set[str]:
    """Top-level names of the absolute imports in these files."""
    names = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


def pinned(name: str) -> set[str]:
    """The packages a requirements file pins itself (not those of the files it includes with -r)."""
    return {re.split(r"[=<>~!\[ ]", line)[0].strip().lower().replace("_", "-")
            for line in (ROOT / name).read_text().splitlines() if line and not line.startswith(("#", "-r"))}


def test_requirements_txt_installs_everything_the_app_imports():
    """Community Cloud installs requirements.txt alone (not requirements-dev.txt): the app must need nothing else.
    Ray is optional (requirements-ray.txt): only imported inside the functions that run when it is asked for."""
    app = [ROOT / "streamlit_app.py", *[p for d in ("lib", "ui", "views") for p in (ROOT / d).rglob("*.py")]]
    local = {"lib", "ui", "views", "bench"}
    optional = pinned("requirements-ray.txt")
    third_party = imported_modules(app) - set(sys.stdlib_module_names) - local - {"__future__"} - optional
    at_load = {a.name.split(".")[0] if isinstance(node, ast.Import) else node.module.split(".")[0]
               for path in app for node in ast.parse(path.read_text()).body if isinstance(node, (ast.Import,
                                                                                                   ast.ImportFrom))
               for a in getattr(node, "names", [])}
    assert optional == {"ray"} and not optional & at_load
    providers = packages_distributions()
    missing = {m: providers.get(m) for m in third_party
               if not {d.lower().replace("_", "-") for d in providers.get(m, [])} & pinned("requirements.txt")}
    assert len(third_party) >= 8 and missing == {}


def test_cloud_rehearsal_table_and_readme_figures_come_from_the_recorded_runs():
    """docs/benchmarks.md's table is what `python -m bench.cloud --table` prints for the recorded JSON files."""
    from bench.cloud import table

    runs = [json.loads((ROOT / "docs" / f"cloud-rehearsal-{build}.json").read_text()) for build in ("cuda", "cpu")]
    doc = (ROOT / "docs" / "benchmarks.md").read_text()
    assert doc.split("<!-- cloud-table -->\n")[1].split("\n<!-- /cloud-table -->")[0] == table(runs)
    assert all(r["class"]["jobs_finished"] == r["sessions"] == 30 and r["class"]["errors"] == 0 for r in runs)
    readme = (ROOT / "README.md").read_text()
    sizes = re.search(r"a ([\d.]+) GB environment instead of ([\d.]+) GB, and about (\d) GB more", readme)
    extra_gib = (runs[0]["memory"]["cgroup_peak_mb"] - runs[1]["memory"]["cgroup_peak_mb"]) / 1024
    assert sizes.groups() == (*(f"{r['environment_gb']:.1f}" for r in runs), f"{extra_gib:.0f}")


def test_teaching_notes_quote_the_shipped_cards():
    from lib.experiments.analysis import reading_table
    cards = shipped_cards()
    doc = (ROOT / "docs" / "teaching-notes.md").read_text()
    table = doc.split("<!-- reading-table -->\n")[1].split("\n<!-- /reading-table -->")[0]
    assert table == reading_table(cards)


def test_teaching_notes_why_gates_is_what_the_long_models_show():
    """The Lesson notes' longer-sequence claims, from the shipped cards and the recorded gradients: the plain RNN
    loses more than ten points read as 112 steps (beyond the noise), the LSTM less than one; at initialisation the
    share of the gradient reaching step 1 vanishes for both."""
    from lib.experiments import gradients as G
    from lib.experiments.stats import differ

    cards = shipped_cards()
    doc = " ".join((ROOT / "docs" / "teaching-notes.md").read_text().split())
    acc = lambda name: (cards[name]["metrics"]["acc"], cards[name]["metrics"]["n"])  # noqa: E731
    (rnn, n), (rnn_long, n_long) = acc(G.COMPARED["rnn"]), acc(G.LONG["rnn"])
    assert rnn - rnn_long > 0.10 and differ(rnn, n, rnn_long, n_long)
    (lstm, _), (lstm_long, _) = acc(G.COMPARED["lstm"]), acc(G.LONG["lstm"])
    assert abs(lstm - lstm_long) < 0.01
    assert "the plain RNN loses more than ten points, beyond the noise, the LSTM less than one" in doc
    records = json.loads((ROOT / "docs" / "gradients.json").read_text())
    assert all(G.reach(records[f"{name}:init"]["result"])["vanishes"] for name in G.LONG.values())
    assert "a vanishing share of what reaches the last, for both" in doc


def test_teaching_notes_quote_where_the_ink_lies(mnist):
    """The ink figures the notes quote, from the 10,000 test digits (the same in the shipped sample and the full set)."""
    from lib.experiments.analysis import ink_by_rows
    facts = ink_by_rows(mnist.test_x)
    doc = " ".join((ROOT / "docs" / "teaching-notes.md").read_text().split())
    share = round(100 * facts["median_share_first"])
    assert f"a median of {share} % of its ink lies in rows 1–14" in doc
    low, high = (round(100 * facts["blank"][k]) for k in (25, 27))  # rows 26 and 28
    assert f"rows 26–28 are blank in {low}–{high} % of the test digits" in doc


def test_teaching_notes_quote_every_seed_of_the_row_order_experiment():
    from lib.experiments.analysis import seed_table
    from lib.storage.pretrained import seed_cards
    cards = shipped_cards()
    doc = (ROOT / "docs" / "teaching-notes.md").read_text()
    table = doc.split("<!-- seed-table -->\n")[1].split("\n<!-- /seed-table -->")[0]
    assert table == seed_table(cards, seed_cards())


def test_benchmarks_tables_are_the_recorded_runs():
    """docs/benchmarks.md's throughput and scaling tables are what the code prints for the recorded JSON."""
    from bench.throughput import table as throughput_table
    from lib.experiments.scaling import MEASURED
    from lib.experiments.scaling import table as scaling_table
    doc = (ROOT / "docs" / "benchmarks.md").read_text()
    recorded = json.loads((ROOT / "docs" / "throughput.json").read_text())
    assert doc.split("<!-- bench -->\n")[1].split("\n<!-- /bench -->")[0] == throughput_table(recorded)
    scaling = json.loads((ROOT / "docs" / "scaling-cpu.json").read_text())
    assert doc.split("<!-- scaling -->\n")[1].split("\n<!-- /scaling -->")[0] == scaling_table(scaling)
    assert set(scaling["train_ms"]) == set(MEASURED) and scaling["heights"] == [28, 56, 112, 224]


def test_teaching_notes_quote_the_order_by_family_table():
    from lib.experiments.conclusion import family_table
    from lib.storage.pretrained import seed_cards
    cards = shipped_cards()
    doc = (ROOT / "docs" / "teaching-notes.md").read_text()
    table = doc.split("<!-- family-table -->\n")[1].split("\n<!-- /family-table -->")[0]
    assert table == family_table({**cards, **seed_cards()})


def test_the_class_run_table_is_the_recorded_measurement():
    """docs/classroom.md's table of a class's run times and seed spread is what bench.class_runs prints for the
    recorded docs/class-runs.json: five seeds per setup, every run done, scored on the 10,000 test digits."""
    from bench.class_runs import table

    recorded = json.loads((ROOT / "docs" / "class-runs.json").read_text())
    doc = (ROOT / "docs" / "classroom.md").read_text()
    assert doc.split("<!-- class-runs -->\n")[1].split("\n<!-- /class-runs -->")[0] == table(recorded)
    for runs in recorded["runs"].values():
        assert len(runs) == recorded["seeds"] == 5 and all(r["end"] == "done" and r["n"] == 10_000 for r in runs)


LECTURE_RECORD = "lecture-300.json"  # the recorded `python -m bench.lecture --students N --out docs/lecture-N.json`


def test_the_class_sweep_block_is_the_recorded_class_and_its_prose_holds():
    """docs/classroom.md's class-sweep block is what bench.class_sweeps prints for docs/class-sweeps.json (the view's
    verdicts recomputed with today's rule), and the prose after it states what those numbers show: a hill in the
    learning rate with the largest rates diverged, a rise at every hidden size in accuracy and in CPU time, the
    largest size named best, about 2½ minutes of one core for thirty quick runs."""
    import statistics

    from bench.class_sweeps import block

    recorded = json.loads((ROOT / "docs" / "class-sweeps.json").read_text())
    doc = (ROOT / "docs" / "classroom.md").read_text()
    assert doc.split("<!-- class-sweeps -->\n")[1].split("\n<!-- /class-sweeps -->")[0] == block(recorded)
    lr, hidden = recorded["sweeps"]
    assert (lr["setting"], hidden["setting"]) == ("lr", "hidden")
    assert len(lr["runs"]) == len(hidden["runs"]) == 30
    means = [g["mean"] for g in lr["per_value"]]
    top = means.index(max(means))
    assert 0 < top < len(means) - 1 and means[:top + 1] == sorted(means[:top + 1])
    assert means[top:] == sorted(means[top:], reverse=True)
    assert all(r["outcome"] == "diverged" for r in lr["runs"] if r["value"] >= 3)
    means = [g["mean"] for g in hidden["per_value"]]
    cpu = [statistics.median(r["cpu_seconds"] for r in hidden["runs"] if r["value"] == v) for v in hidden["values"]]
    assert means == sorted(set(means)) and cpu == sorted(set(cpu))
    assert "hidden size: best beyond the noise: 128." in doc
    quick = cpu[hidden["values"].index(128)]  # the quick preset as it is (hidden 128)
    assert 2.25 <= 30 * quick / 60 < 2.75 and "about 2½ minutes of one core's work" in doc


def test_the_lecture_table_is_the_recorded_run():
    """docs/benchmarks.md's lecture table is what bench.lecture.table prints for the recorded docs/LECTURE_RECORD:
    every student through each executor, none lost, MNIST on every node of the simulated cluster."""
    from bench.lecture import table

    recorded = json.loads((ROOT / "docs" / LECTURE_RECORD).read_text())
    doc = (ROOT / "docs" / "benchmarks.md").read_text()
    assert doc.split("<!-- lecture -->\n")[1].split("\n<!-- /lecture -->")[0] == table(recorded)
    assert LECTURE_RECORD == f"lecture-{recorded['students']}.json"  # the file's name says how many it holds
    for executor in ("local", "ray"):
        run = recorded[executor]
        assert run["students"] == run["done"] == recorded["students"] and run["lost"] == 0
        assert run["overhead"]["lost"] == 0
    assert recorded["ray"]["data_nodes"] == recorded["ray"]["nodes"]
    ray, local = recorded["ray"], recorded["local"]
    # the prose: Ray finished sooner, its own cost a few hundredths of a second more per job
    assert ray["all_done_s"] < local["all_done_s"] and "Ray finished the burst sooner" in doc
    assert 0 < ray["overhead"]["per_job_s"] - local["overhead"]["per_job_s"] < 0.1
    # docs/scaling-out.md's students per core, from the same record
    scaling = " ".join((ROOT / "docs" / "scaling-out.md").read_text().split())
    cores = ray["capacity"]["cpus"]
    assert f"{recorded['students']} students" in scaling and f"done {ray['all_done_s']:.1f} s after" in scaling
    assert f"about **{recorded['students'] / ray['all_done_s'] / cores:.1f} jobs per second per core**" in scaling
    assert f"({cores * ray['all_done_s'] / recorded['students']:.2f} core-seconds per job)" in scaling
    assert f"took {local['all_done_s']:.1f} s" in scaling


def test_teaching_notes_read_out_claims_are_what_the_cards_show(mnist):
    """The Row order notes' read-out bullets, each a test on the shipped cards: the mean answers more digits after 14
    rows beyond the noise and makes more errors at the end beyond chance (McNemar); reading both ways helps in a
    random order per image beyond chance, the mean lands within noise of the one-way model there, and top → bottom
    both ways is the same as one way within chance."""
    from lib.experiments.compare import change
    from lib.experiments.readouts import both_ways, early_answers, readout_table

    cards = shipped_cards()
    doc = " ".join((ROOT / "docs" / "teaching-notes.md").read_text().split())
    table, labels = readout_table(cards), mnist.test_y.tolist()
    m = table["metrics"]
    early = early_answers(table, "mean")
    end = change([m["last"]["forward"]], [m["mean"]["forward"]], labels)
    assert early["differ"] and early["higher"] and end["differ"] and end["errors"][1] > end["errors"][0]
    assert "the mean read-out answers far more digits right than the last step's read-out does" in doc
    assert "it makes more errors than the last step's read-out, a small gap but beyond chance" in doc
    random, forward = both_ways(table, labels), both_ways(table, labels, "forward")
    assert random["differ"] and random["errors"][1] < random["errors"][0]
    mean = change([m["last"]["random"]], [m["mean"]["random"]], labels)
    assert not mean["differ"] and random["errors"][1] < mean["errors"][1] < random["errors"][0]
    assert not forward["differ"]
    assert "Reading both ways helps only where the order carries no information." in doc
    assert "the mean read-out lands between them, within noise of the one-way model" in doc
    assert "Top → bottom, where the order does carry information, the two are the same within chance" in doc


def test_teaching_notes_tuning_claims_are_what_the_records_show():
    """How the shipped models were chosen: one budget for all five families, none untuned; in each family the chosen
    rate and a neighbouring one within noise on validation (intervals of ±0.15 to ±0.3 points at the chosen rates);
    the GRU's and the plain RNN's highest rate clearly worse, the Transformer's three rates within noise; the CNN's
    chosen rate the grid's highest; each chosen run's best epoch among its last four; each family's top → bottom
    model below its best validation accuracy on the test set."""
    from lib.experiments.stats import differ, margin
    from lib.experiments.tuning import budgets, same_budget, untuned
    from lib.storage.pretrained import BASES, SPECS, TUNING_LRS, tuning_records

    cards = shipped_cards()
    doc = " ".join((ROOT / "docs" / "teaching-notes.md").read_text().split())
    found = budgets(tuning_records())
    assert set(found) == set(BASES) and same_budget(found)
    assert untuned([cards[n]["config"]["family"] for n in SPECS], found) == []
    for family, b in found.items():
        val, n, chosen = b["best_val"], b["validation"], b["chosen"]
        k = TUNING_LRS.index(chosen)
        neighbours = [TUNING_LRS[j] for j in (k - 1, k + 1) if 0 <= j < len(TUNING_LRS)]
        assert any(not differ(val[chosen], n, val[lr], n) for lr in neighbours), family
        assert 0.15 <= round(margin(val[chosen], n) * 100, 2) <= 0.30, family  # in points, as the notes round it
        assert b["best_epoch"][chosen] > b["epochs"] - 4, family
        assert cards[f"{family}-forward"]["metrics"]["acc"] < val[chosen], family
    top, n = TUNING_LRS[-1], found["lstm"]["validation"]
    assert all(differ(found[f]["best_val"][found[f]["chosen"]], n, found[f]["best_val"][top], n) for f in ("gru", "rnn"))
    rates = found["transformer"]["best_val"].values()
    assert not differ(max(rates), n, min(rates), n)
    assert found["cnn"]["chosen"] == top
    for claim in ("Every family (LSTM, GRU, plain RNN, CNN, Transformer) was tuned with the same budget",
                  "the chosen rate's validation accuracy and a neighbouring rate's are within it of each other",
                  "for the Transformer all three rates are within noise", "Its best rate is the highest tried, 0.01",
                  "found their best epoch in their last four", "For each of the five families the shipped top → bottom",
                  "Nowhere among the families: all five had the same grid"):
        assert claim in doc, claim


def test_teaching_notes_conclusion_claims_are_what_the_cards_show(mnist):
    """The Conclusion notes' claims, each McNemar's test on the same 10,000 digits from the shipped cards (the bag
    of rows, scored in every order from one run, against its own card's accuracy): the shuffled order costs the CNN
    and the LSTM beyond chance and the Transformer nothing; per image the CNN loses most, then the LSTM, then the
    Transformer; top → bottom the CNN beats the LSTM and the GRU, the Transformer is below those three and above the
    plain RNN; the positions are worth several points top → bottom and nothing per image."""
    from lib.experiments.compare import change
    from lib.experiments.stats import differ

    cards = shipped_cards()
    doc = " ".join((ROOT / "docs" / "teaching-notes.md").read_text().split())
    labels = mnist.test_y.tolist()
    acc = {name: card["metrics"]["acc"] for name, card in cards.items()}

    def beyond(a: str, b: str) -> bool:
        return change([cards[a]["metrics"]], [cards[b]["metrics"]], labels)["differ"]

    assert all(beyond(f"{f}-forward", f"{f}-shuffled") and acc[f"{f}-shuffled"] < acc[f"{f}-forward"]
               for f in ("cnn", "lstm"))
    assert not beyond("transformer-forward", "transformer-shuffled")
    assert acc["cnn-random"] < acc["lstm-random"] < acc["transformer-random"]
    assert beyond("cnn-random", "lstm-random") and beyond("lstm-random", "transformer-random")
    assert all(acc["cnn-forward"] > acc[m] and beyond("cnn-forward", m) for m in ("lstm-forward", "gru-forward"))
    assert all(acc["transformer-forward"] < acc[m] and beyond("transformer-forward", m)
               for m in ("cnn-forward", "lstm-forward", "gru-forward"))
    assert acc["transformer-forward"] > acc["rnn-forward"] and beyond("transformer-forward", "rnn-forward")
    assert not beyond("transformer-shuffled", "cnn-shuffled")
    assert acc["transformer-shuffled"] > acc["lstm-shuffled"] and beyond("transformer-shuffled", "lstm-shuffled")
    bag, n = acc["transformer-bag-forward"], cards["transformer-bag-forward"]["metrics"]["n"]
    assert acc["transformer-forward"] - bag > 0.02 and differ(acc["transformer-forward"], n, bag, n)
    assert not differ(acc["transformer-random"], n, bag, n)
    for claim in ("The CNN and the LSTM lose a little in the shuffled order, beyond noise; the Transformer loses "
                  "nothing", "loses most, then the LSTM, then the Transformer",
                  "the CNN's top → bottom model is more accurate than the 2×128 LSTM and GRU",
                  "is below the CNN, the LSTM and the GRU top → bottom, beyond chance, and above the plain RNN",
                  "in the shuffled order it is level with the CNN and above the LSTM, and in a random order per image "
                  "it is the best of the three", "falls several points below the Transformer with positions top → "
                  "bottom", "the Transformer with positions lands next to the bag of rows, within noise"):
        assert claim in doc, claim
