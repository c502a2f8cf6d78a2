"""The long fuzzing campaign: the properties of tests/test_fuzz.py on many more generated inputs, counting escapes.

    python -m bench.fuzz                  # 10,000 generated cards, 1,000 inputs for every other surface
    python -m bench.fuzz --examples 100   # a quick look: 100 per surface (cards 10 x as many)
    python -m bench.fuzz --only cards cli

Each surface (where outside data enters: uploaded cards, query strings, the Train page, classroom settings, CLI
arguments, canvas images, MNIST files, translation catalogs) runs its property from tests/test_fuzz.py on its
explicit inputs, then on Hypothesis-generated ones (derandomized: a run is repeatable, and its inputs are not CI's).
An input escapes when its check raises: an exception other than the surface's own error, a broken promise
(AssertionError), or a time or memory bound passed. The campaign goes on after an escape and prints, per surface,
how many inputs were tried and how many escaped, with the first few escapes; the exit code is 1 if any escaped.
docs/bad-inputs.md records the figures.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # test_fuzz imports conftest's synthetic digits

import hypothesis  # noqa: E402
import test_fuzz  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402

from lib.machine import cpu_name  # noqa: E402

CARD_FACTOR = 10  # the card parser is the most exposed surface (anyone can upload): 10 x the others' budget
SHOWN = 3  # escapes printed per surface


def campaign(name: str, examples: int) -> dict:
    """Run one surface's property on its explicit inputs and `examples` generated ones; count and keep the escapes."""
    surface = test_fuzz.SURFACES[name]
    tried, escapes = 0, []

    def attempt(case) -> None:
        nonlocal tried
        tried += 1
        try:
            surface.check(case)
        except Exception as exc:  # noqa: BLE001 - counting what escapes is the point
            escapes.append(f"{type(exc).__name__}: {str(exc)[:300]}\n      input: {repr(case)[:300]}")

    start = time.perf_counter()
    for case in surface.explicit:
        attempt(case)
    run = settings(max_examples=examples, deadline=None, derandomize=True, database=None, phases=[Phase.generate],
                   suppress_health_check=list(HealthCheck))(given(surface.strategy)(attempt))
    run()
    return {"surface": name, "tried": tried, "escaped": len(escapes), "seconds": time.perf_counter() - start,
            "escapes": escapes}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__.split("\n\n")[0])
    ap.add_argument("--examples", type=int, default=1000,
                    help=f"generated inputs per surface (default 1000; the card parser gets {CARD_FACTOR} x)")
    ap.add_argument("--only", nargs="+", choices=list(test_fuzz.SURFACES), help="these surfaces only")
    args = ap.parse_args(argv)
    print(f"bench.fuzz on {date.today()}: {cpu_name()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, Hypothesis {hypothesis.__version__}", flush=True)
    results = []
    for name in args.only or list(test_fuzz.SURFACES):
        n = args.examples * (CARD_FACTOR if name == "cards" else 1)
        result = campaign(name, n)
        results.append(result)
        print(f"{name:<20} {result['tried']:>7,} tried  {result['escaped']:>4} escaped  {result['seconds']:>7.0f} s",
              flush=True)
        for escape in result["escapes"][:SHOWN]:
            print(f"    {escape}", flush=True)
    print("\n| surface | inputs tried | escaped | seconds |\n|---|---:|---:|---:|")
    for r in results:
        print(f"| {r['surface']} | {r['tried']:,} | {r['escaped']} | {r['seconds']:.0f} |")
    total = sum(r["tried"] for r in results), sum(r["escaped"] for r in results)
    print(f"| all | {total[0]:,} | {total[1]} | {sum(r['seconds'] for r in results):.0f} |")
    return 1 if total[1] else 0


if __name__ == "__main__":
    sys.exit(main())
