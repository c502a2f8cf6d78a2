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
                                  "adapts its steps to the gradients, so a learning rate of {lr:g} is far too high "
                                  "for it: it usually learns well between 0.001 and 0.005. Try {suggested:g} or "
                                  "less."),
    "train.not_learning": N_("The network did not learn: in the last epoch the training loss stayed at {loss:.2f} "
                             "(guessing gives {chance:.2f}) and only {acc:.0%} of the training digits were right. "
                             "With {optimizer} at learning rate {lr:g} the steps may be too small: try a larger "
                             "learning rate (the lesson uses 0.1), more epochs, or Adam."),
    "train.not_learning_adaptive": N_("The network did not learn: in the last epoch the training loss stayed at "
                                      "{loss:.2f} (guessing gives {chance:.2f}) and only {acc:.0%} of the training "
                                      "digits were right. {optimizer} usually learns between 0.001 and 0.005; at "
                                      "{lr:g} its steps can keep the network stuck near chance without the loss "
                                      "exploding (or, far below that range, learn too slowly). Try 0.003."),
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
    "device.mps_cell": N_("{cell} has no native kernels on Apple's GPU (MPS) and trains faster on the CPU, so auto "
                          "chose the CPU."),
    "device.mps_small_batch": N_("A batch of {batch:,} digits trains faster on the CPU than on Apple's GPU (MPS), "
                                 "so auto chose the CPU; from {low:,} digits per batch it uses the GPU."),
    "device.mps_dropout": N_("A stacked LSTM with dropout trains incorrectly on Apple's GPU (MPS) in this PyTorch "
                             "version, so auto chose the CPU."),
    "job.out_of_memory": N_("{device} ran out of memory during this run. Try a smaller batch size or a smaller "
                            "hidden size, or wait until fewer runs are training. Other runs were not affected."),
    "job.out_of_memory_cpu": N_("The server's memory ran out during this run. Try a smaller batch size or a smaller "
                                "hidden size, or wait until fewer runs are training. Other runs were not stopped by "
                                "it."),
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
