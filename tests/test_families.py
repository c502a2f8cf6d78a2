"""The model families (lib.models.families): every family builds from its registry entry with private, seeded weights,
trains, saves and loads; the settings only some families have are refused for the others; Inspect's internals."""

import pytest
import torch

from lib.experiments.internals import encode, feature_maps, trace
from lib.messages import Problem
from lib.models.families import FAMILIES, make_model, uses
from lib.storage.checkpoints import from_bytes, to_bytes
from lib.training.config import TrainConfig, build_model
from lib.training.fit import fit

SMALL = dict(hidden=16, layers=2, epochs=1, batch_size=50, device="cpu", max_steps=3)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_family_builds_seeded_from_a_private_stream(family):
    state = torch.get_rng_state()
    a, b = build_model(TrainConfig(family=family, seed=3)), build_model(TrainConfig(family=family, seed=3))
    other = build_model(TrainConfig(family=family, seed=4))
    assert torch.equal(torch.get_rng_state(), state)  # nothing drawn from the generator other jobs' dropout uses
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), other.parameters()))
    assert a(torch.randn(2, 28, 28)).shape == (2, 10)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_family_trains_saves_and_loads(family, tiny):
    cfg = TrainConfig(family=family, **SMALL).validate()
    fitted = fit(cfg, tiny)
    assert fitted.end["event"] == "done" and fitted.scores["n"] == len(tiny.test_y)
    assert (fitted.scores["acc_by_rows"] is not None) == FAMILIES[family].recurrent
    model, card = from_bytes(*to_bytes(fitted.model, {"format": "row-by-row/1", "config": cfg.to_dict()}))
    x = torch.randn(3, 28, 28)
    assert torch.allclose(model(x), fitted.model.eval()(x))


def test_the_transformers_stacked_layers_start_different():
    layers = build_model(TrainConfig(family="transformer")).encoder.layers  # nn.TransformerEncoder copies one layer
    assert not torch.equal(layers[0].linear1.weight, layers[1].linear1.weight)


def test_settings_a_family_lacks_are_refused_with_its_name():
    for values, words in [({"family": "cnn", "dropout": 0.3}, "dropout does not apply to the CNN"),
                          ({"family": "lstm", "positions": False}, "does not apply to the LSTM"),
                          ({"family": "transformer", "loss": "every-step"}, "reads all rows at once"),
                          ({"family": "transformer", "hidden": 30}, "multiple of 4")]:
        with pytest.raises(Problem, match=words):
            TrainConfig(**values).validate()
    assert uses("transformer", "positions") and uses("transformer", "dropout") and not uses("cnn", "dropout")
    TrainConfig(family="transformer", positions=False, dropout=0.1).validate()


def test_attention_is_read_from_the_encoders_own_computation():
    model = build_model(TrainConfig(family="transformer", hidden=16, layers=2)).eval()
    x = torch.randn(4, 28, 28)
    with torch.no_grad():
        top, maps = encode(model, x)
        assert torch.allclose(model.fc(model.norm(top[:, 0])), model(x), atol=1e-5)
    assert maps.shape == (2, 4, 28) and (maps >= 0).all() and (maps.sum(-1) <= 1 + 1e-5).all()
    assert trace(model, x)["attention"].shape == (2, 4, 28)


def test_feature_maps_are_the_first_convolution_after_relu():
    model = build_model(TrainConfig(family="cnn", hidden=16, layers=1)).eval()
    x = torch.randn(2, 28, 28)
    maps = feature_maps(model, x)
    assert maps.shape == (2, 4, 28, 28) and (maps >= 0).all()
    assert torch.allclose(maps, torch.relu(model.features[0](x.unsqueeze(1))))


def test_every_model_names_its_family_also_when_built_directly():
    """lib.experiments.internals.trace asks the registry by `model.family`: a model built without make_model must carry it too."""
    from lib.models.nets import RowClassifier

    assert all(make_model(name, 8, 1).family == name for name in FAMILIES)
    assert trace(RowClassifier("gru", 8, 1), torch.rand(1, 28, 28))["hidden"].shape == (1, 28, 8)  # (B, steps, H)
