"""Messages from lib to people, gettext's way: an identifier plus its values; the UI translates, then formats.

lib never hands the UI a finished sentence. A problem or notice is a `Message(id, values)`; `TEXT[id]` is its English
source text (marked with `N_` so the catalog extractor finds it). The CLI renders it in English; the app renders it
with the translation of that source text. A value may itself be a Message (a setting's name, an order's title), so it
is translated too. Adding a message = one line in TEXT, one entry in each catalog.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


def N_(text: str) -> str:
    """Mark English source text for extraction into the translation catalogs (gettext_noop); returns it unchanged."""
    return text


def NN_(singular: str, plural: str) -> tuple[str, str]:
    """Marks a singular/plural pair for the catalog extractor; the UI picks the form with tn(*pair, n)."""
    return singular, plural


TEXT: dict[str, str] = {
    # settings of a run (lib/train.py, lib/fields.py); {setting} is a Term from lib.training.train.FIELD_NAMES
    "setting.one_of": N_("{setting} must be one of {choices}"),
    "setting.between": N_("{setting} must be between {low:,} and {high:,}"),
    "setting.finite": N_("every number must be finite"),
    "setting.fraction": N_("{setting} must be at least 0 and below 1"),
    "setting.share": N_("{setting} must be between 0 and {high:.0%}"),
    "setting.learning_rate": N_("the learning rate must be above 0 and at most 1000"),
    "setting.not_negative": N_("{setting} must not be negative"),
    "setting.digits": N_("{setting} must be 0 (all) or at least 10"),
    "setting.at_least": N_("{setting} must be at least {low:,}"),
    "setting.unknown": N_("unknown settings: {names}"),
    "setting.not_for_family": N_("{setting} does not apply to the {family}; leave it at its default"),
    "setting.every_step": N_("the loss after every row needs a model that answers after every row, a recurrent one "
                             "(LSTM, GRU, plain RNN); the {family} reads all rows at once"),
    "setting.heads": N_("the {family}'s hidden size must be a multiple of {heads} (its attention heads share it)"),
    "setting.type": N_("{setting} must be {kind}, not {value}"),
    "setting.keep_best": N_("keeping the best validation epoch needs validation digits: hold out a share of the "
                            "training digits"),
    "setting.every_step_both_ways": N_("the loss after every row needs a model that reads one way: reading both "
                                       "ways, it has seen every row at every step"),
    "kind.int": N_("a whole number"),
    "kind.float": N_("a number"),
    "kind.str": N_("text"),
    "kind.bool": N_("true or false"),
    "kind.int_digits": N_("a whole number of at most {digits} digits"),
    "device.unavailable": N_("the device {device} is not available on this machine; choose auto or CPU"),
    # classroom settings (lib/settings.py)
    "classroom.limit": N_("{setting} is limited to {limit:,} on this server (you asked for {value:,})"),
    "classroom.not_toml": N_("{file} is not valid TOML: {detail}"),
    "classroom.not_table": N_("in {file}, `classroom` must be a table: a `[classroom]` heading with the settings "
                              "under it"),
    "classroom.not_positive": N_("the classroom setting {name} must be positive"),
    "classroom.mps_fraction": N_("the setting {name} must be above 0 and at most {high}"),
    "classroom.unknown": N_("unknown classroom settings: {names}"),
    "classroom.type": N_("the classroom setting {name} must be {kind}, not {value}"),
    # settings in a shared link (lib/share.py)
    "link.unknown": N_("ignored the unknown setting “{key}”"),
    "link.too_long": N_("ignored {key}: not a short text value"),
    "link.rejected": N_("ignored {key}={value}: {why}"),
    # training (lib/train.py, lib/jobs.py)
    "train.diverged": N_("Training diverged at step {step:,}: the loss became {loss:.3g}. The learning rate {lr:g} "
                         "is too high for {optimizer}; lower it (try {suggested:g} or less) or turn on gradient "
                         "clipping."),
    "train.diverged_adaptive": N_("Training diverged at step {step:,}: the loss became {loss:.3g}. {optimizer} "
                                  "moves every weight by about the learning rate at each step, whatever the size "
                                  "of its gradient, so at {lr:g} each step moves the weights far too much; it "
                                  "usually learns well between 0.001 and 0.005. Try {suggested:g} or less."),
    "train.not_learning_val": N_("The network did not learn: after its last epoch it gets only {acc:.0%} of the "
                                 "{n:,} held-out validation digits right (guessing gets 10%), and its loss there is "
                                 "{loss:.2f} (guessing gives {chance:.2f}). {advice}"),
    "train.not_learning_test": N_("The network did not learn: after its last epoch it gets only {acc:.0%} of the "
                                  "{n:,} test digits right (guessing gets 10%), and its loss there is {loss:.2f} "
                                  "(guessing gives {chance:.2f}). {advice}"),
    # what a run that did not learn should try (lib.training.train.not_learning_advice chooses)
    "advice.sgd_low": N_("At learning rate {lr:g} the steps of {optimizer} are small: try {lesson:g}, the lesson's "
                         "rate."),
    "advice.sgd_short": N_("It trained for {steps:,} steps; here {optimizer} at {lesson:g} needed about {needed:,} "
                           "before it left chance, so this run was cut short. Train on more digits or for more "
                           "epochs, or use momentum or Adam."),
    "advice.sgd_high": N_("At learning rate {lr:g} the steps of {optimizer} are too large to settle, though the loss "
                          "did not explode: lower it, towards the lesson's {lesson:g}."),
    "advice.sgd_stuck": N_("At the lesson's rate, {lesson:g}, {steps:,} steps are usually enough to leave chance: "
                           "try another seed, momentum or Adam."),
    "advice.adaptive_high": N_("{optimizer} moves every weight by about the learning rate at each step, whatever "
                               "the size of its gradient: at {lr:g} the steps are too large to settle, though the "
                               "loss did not explode. It usually learns between {low:g} and {high:g}: try 0.003."),
    "advice.adaptive_low": N_("{optimizer} moves every weight by about the learning rate at each step: at {lr:g} "
                              "{steps:,} steps do not get far. It usually learns between {low:g} and {high:g}: try "
                              "0.003."),
    "advice.adaptive_short": N_("The learning rate {lr:g} is in the range where {optimizer} usually learns, so the "
                                "run was probably too short ({steps:,} steps): train on more digits or for more "
                                "epochs."),
    "job.session_closed": N_("Stopped because its browser session closed."),
    "job.failed": N_("The run failed with an error inside the program: {error}"),
    # model files (lib/checkpoints.py)
    "card.too_big": N_("the model card is larger than {limit} MB or nests deeper than {depth} levels: not a card"),
    "card.no_config": N_("it has no settings (config)"),
    "card.not_json": N_("the model card is not valid JSON ({detail})"),
    "card.not_ours": N_("the model card is not a Row by Row model card (its format tag is missing or different)"),
    "card.bad_settings": N_("the model card's settings are invalid: {why}"),
    "weights.too_big": N_("the weights file is {size:.1f} MB; the limit is {limit} MB"),
    "weights.unreadable": N_("the weights file is truncated or not a safetensors file ({detail})"),
    "weights.not_finite": N_("the weights file holds values that are not float32 or not finite (NaN/inf)"),
    "weights.mismatch": N_("the weights do not fit the model the card describes: {detail}"),
    "file.missing": N_("{path} does not exist"),
    "model.not_shipped": N_("{name} is not shipped yet: {path} does not exist"),
    "model.not_one_way": N_("this needs a one-way recurrent model (LSTM, GRU or plain RNN); {name} is not one"),
    # drawings (lib/drawing.py)
    "drawing.blank": N_("The canvas is blank: draw a digit first (light strokes on a dark background)."),
    "drawing.not_image": N_("the drawing is not an image (got {kind})"),
    "drawing.not_uint8": N_("the drawing must have 8-bit pixels (0 to 255), not {dtype}"),
    "drawing.bad_shape": N_("the drawing must be a grayscale or RGBA image, not an array of shape {shape}"),
    "drawing.empty": N_("the drawing is empty (shape {shape})"),
    # training (lib/train.py)
    "train.all_training": N_("the loaded data has {n:,} training digits, so this run uses all of them"),
    "train.all_test": N_("the loaded data has {n:,} test digits, so this run scores all of them"),
    # data (lib/data.py, lib/sample.py)
    "data.root_unusable": N_("MNIST_ROOT is set to {root}, but it cannot be used: {problem}"),
    "data.missing_files": N_("no MNIST {split} files in {folder}"),
    "data.not_idx": N_("{path} is not an unsigned-byte IDX file"),
    "data.truncated": N_("{path} is truncated: {size:,} bytes for shape {shape}"),
    "data.counts_differ": N_("{split} images and labels disagree: {images:,} images, {labels:,} labels"),
    "data.too_big": N_("{path} is larger than {limit} MB once decompressed: not an MNIST file"),
    "data.empty": N_("{path} holds no digits"),
    "data.bad_gzip": N_("{path} is not a readable gzip file ({detail})"),
    "data.bad_shape": N_("{path} does not hold 28 × 28 images"),
    "data.bad_labels": N_("{path} holds labels outside 0 to 9"),
    "data.sample_damaged": N_("the shipped MNIST sample is damaged (checksum differs: {files})"),
    "data.nothing": N_("No MNIST data could be loaded. Set MNIST_ROOT to a folder holding MNIST/raw/"
                       "train-images-idx3-ubyte (torchvision's layout), or connect to the internet once so it can "
                       "be downloaded into data/; the sample shipped in mnist-sample/ could not be read either. "
                       "Tried: {tried}"),
    # devices and jobs on accelerators (lib/devices.py, lib/jobs.py)
    "device.broken": N_("the device {device} cannot run PyTorch on this machine ({error}); choose auto or CPU"),
    "device.no_kernels": N_("The GPU {device} cannot run this PyTorch build ({error}), so this run trains on the "
                            "CPU."),
    "device.mps_cell": N_("{cell} has no native kernels on Apple's GPU (MPS), where PyTorch runs it through slower "
                          "general operations (not timed on this project's machines), so auto chose the CPU."),
    "device.mps_small_batch": N_("A batch of {batch:,} digits is small for Apple's GPU (MPS), where every step pays "
                                 "a fixed cost to start its work (not timed on this project's machines), so auto "
                                 "chose the CPU; from {low:,} digits per batch it uses the GPU."),
    "device.mps_dropout": N_("A stacked LSTM with dropout gets wrong gradients on Apple's GPU (MPS) in this PyTorch "
                             "version (reported to PyTorch, not reproduced here), so auto chose the CPU."),
    "device.mps_dropout_refused": N_("A stacked LSTM with dropout gets wrong gradients on Apple's GPU (MPS) in "
                                     "this PyTorch version (reported to PyTorch, not reproduced here): choose auto or "
                                     "CPU, or set dropout to 0."),
    "device.busy": N_("The GPU {device} could not run a test step just now ({error}), so this run trains on the CPU; "
                      "the next run tries the GPU again."),
    "device.busy_explicit": N_("the device {device} could not run a test step just now ({error}); try again in a "
                               "moment, or choose auto or CPU"),
    "device.gpu_unusable": N_("This machine has an NVIDIA GPU, but this PyTorch cannot use it ({error}), so this run "
                              "trains on the CPU. `README.md` says which PyTorch build and driver older cards need."),
    "job.out_of_memory": N_("{device} ran out of memory during this run. Try a smaller batch size or a smaller "
                            "hidden size, or wait until fewer runs are training."),
    "job.too_big_for_device": N_("This run may need up to {need:,.1f} GB of memory on {device}, which has "
                                 "{total:,.1f} GB in all: choose a smaller batch size, hidden size, number of layers "
                                 "or steps per row."),
    "job.waiting_for_memory": N_("Waiting for GPU memory: this run may need up to {need:,.1f} GB and {free:,.1f} GB "
                                 "are free beside the runs training now; it starts when enough is free."),
    "job.out_of_memory_cpu": N_("The server's memory ran out during this run. Try a smaller batch size or a smaller "
                                "hidden size, or wait until fewer runs are training. Other runs were not stopped by "
                                "it."),
    # training on a Ray cluster (lib/runs/choice.py, ray_executor.py, ray_driver.py, ray_worker.py)
    "executor.unknown": N_("ROW_BY_ROW_EXECUTOR is “{value}”, but it must be `local` or `ray`"),
    "ray.bad_setting": N_("{name} is “{value}”, but it must be {expected}"),
    "ray.not_installed": N_("Ray is not installed on this server (`pip install -r requirements-ray.txt`)"),
    "ray.local": N_("the local Ray that this server starts"),
    "ray.at": N_("the Ray cluster at {address}"),
    "ray.unreachable": N_("{cluster} cannot be reached: {detail}"),
    "ray.mismatch": N_("the Ray cluster runs {what} {theirs} on {node}, but this server runs {ours}; every node "
                       "needs the same versions"),
    "ray.fallback_local": N_("Training runs on this server, not on the Ray cluster: {why}."),
    "ray.refused": N_("Training is turned off on this server because the Ray cluster cannot be used: {why}. Ask "
                      "the teacher to check the cluster."),
    "ray.no_device": N_("the Ray cluster has no {device}; choose auto or CPU"),
    "ray.worker_died": N_("The Ray worker that trained this run ({worker}) stopped unexpectedly: its process or its "
                          "machine was lost. The curve so far is kept; start the run again. Other runs were not "
                          "affected."),
    "ray.cluster_lost": N_("The connection to {cluster} was lost during this run. The curve so far is kept; start "
                           "the run again when the cluster is back."),
}


LIST_SEPARATOR = N_(", ")  # between the names in a list; translated too (Chinese lists use 、)


class Term(str):
    """A value that is itself English source text to translate (an order's title, an optimizer's label)."""


@dataclass(frozen=True)
class Message:
    """One message: `id` names its English text in TEXT, `values` fill its {placeholders}."""

    id: str
    values: dict = field(default_factory=dict)

    def render(self, translate: Callable[[str], str] = lambda text: text) -> str:
        """The text with its values, through `translate` (identity = English); nested Messages are rendered too."""
        values = {k: _render(v, translate) for k, v in self.values.items()}
        return translate(TEXT[self.id]).format(**values)

    def __str__(self) -> str:
        return self.render()

    def to_dict(self) -> dict:
        """Plain JSON data (for the flat dicts train() yields and the job log); from_dict reverses it."""
        return {"id": self.id, "values": {k: _plain(v) for k, v in self.values.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> "Message":
        return cls(data["id"], {k: _rich(v) for k, v in data.get("values", {}).items()})


def _render(value, translate):
    if isinstance(value, Message):
        return value.render(translate)
    if isinstance(value, Term):
        return translate(str(value))
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, (Message, Term)) for v in value):
        return translate(LIST_SEPARATOR).join(_render(v, translate) for v in value)  # e.g. a setting's choices
    return value


def _plain(value):
    if isinstance(value, Message):
        return {"message": value.to_dict()}
    if isinstance(value, Term):
        return {"term": str(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _rich(value):
    if isinstance(value, dict) and "message" in value:
        return Message.from_dict(value["message"])
    if isinstance(value, dict) and "term" in value:
        return Term(value["term"])
    if isinstance(value, list):
        return [_rich(v) for v in value]
    return value


def msg(id: str, **values) -> Message:
    if id not in TEXT:
        raise KeyError(f"no message {id!r} in lib.messages.TEXT")
    return Message(id, values)


class Problem(ValueError):
    """Something the user gave (a setting, a file, a link) cannot be used; `.messages` says why, one Message each.

    str(problem) is the English rendering, for the CLI and logs; the UI renders `.messages` in the user's language.
    """

    def __init__(self, *messages: Message):
        self.messages = list(messages)
        super().__init__("; ".join(m.render() for m in self.messages))
