"""The presets: one registry entry per preset, its label, one-line description and config, so adding one touches
this file. The Train page, the CLI, the shipped models and the benchmarks start from them."""

from __future__ import annotations

from dataclasses import replace

from lib.messages import N_
from lib.training.config import TrainConfig

SOURCE_LESSON = "Pytorch Note38 RNN 做图像分类"  # the tutorial this app teaches, as it is titled
SOURCE_ACCURACY = 0.9815  # the test accuracy it reported for its model (the "lesson" preset) after 10 epochs
SOURCE_SERIES = "https://blog.csdn.net/weixin_45508265/article/details/117809512"  # the index of the Pytorch Note
# series it belongs to (《Pytorch Note 快乐星球》, every note of the series listed there)

PRESETS = {  # registry: name -> (label, one-line description ({source} = SOURCE_ACCURACY), config)
    "lesson": (N_("Original lesson"),
               N_("2×100 LSTM, SGD lr 0.1, batch 64, 10 epochs, the test set scored after every epoch: the "
                  "original lesson's setup ({source:.2%} there)."), TrainConfig(validation=0.0)),
    "fast": (N_("Fast & accurate"),
             N_("1×128 LSTM with Adam and a one-cycle schedule, 3 epochs: it passed 98% test accuracy after its "
                "second epoch in 3 of 3 runs on the project's 2-core AMD EPYC (python -m bench.throughput)."),
             TrainConfig(hidden=128, layers=1, lr=0.005, optimizer="adam", scheduler="one-cycle",
                         batch_size=128, epochs=3, clip=1.0, precision="auto",
                         validation=0.0)),  # trains on all 60,000; bench/throughput times it to 98% test accuracy
    "quick": (N_("Quick classroom run"),
              N_("The fast model on 5,000 digits, a tenth of them held out to validate, for 2 epochs."),
              TrainConfig(hidden=128, layers=1, lr=0.005, optimizer="adam", scheduler="one-cycle",
                          batch_size=64, epochs=2, subset=5000, test_subset=2000, clip=1.0, log_every=10,
                          precision="auto")),
    "too-high-lr": (N_("Learning rate too high"),
                    N_("SGD at lr 50: the loss explodes within a few steps, on purpose."),
                    TrainConfig(lr=50.0, epochs=1, subset=5000, test_subset=2000, log_every=5)),
}


def preset(name: str, **overrides) -> TrainConfig:
    """A preset's config with some fields replaced."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")  # a programming error
    return replace(PRESETS[name][2], **overrides)
