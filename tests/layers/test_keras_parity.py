"""rnnkit layers reproduce Keras 3's outputs for random weights (fixtures made by scripts/make_keras_fixtures.py)."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnkit.layers import GRU, LSTM, Bidirectional, SimpleRNN

FIXTURES = Path(__file__).parent.parent / "fixtures"
META = json.loads((FIXTURES / "keras_layers.json").read_text())
ARRAYS = np.load(FIXTURES / "keras_layers.npz")
CLASSES = {"LSTM": LSTM, "GRU": GRU, "SimpleRNN": SimpleRNN}
ATOL = 1e-5


def build(case, use_fused):
    kw = dict(case["kwargs"])
    weights = [ARRAYS[f"{case['name']}/w{k}"] for k in range(case["n_weights"])]
    if case["cls"] == "Bidirectional":
        layer = Bidirectional(LSTM(5, return_sequences=kw["return_sequences"], use_fused=use_fused),
                              merge_mode=kw["merge_mode"])
        layer.backward_layer.use_fused = use_fused
    else:
        layer = CLASSES[case["cls"]](5, use_fused=use_fused, **kw)
    layer.set_keras_weights(weights)
    return layer


def outputs(case):
    return [ARRAYS[f"{case['name']}/out{k}"] for k in range(case["n_outputs"])]


def inputs(case, key):
    return torch.from_numpy(ARRAYS[f"{case['name']}/{key}"])


@pytest.mark.parametrize("use_fused", ["auto", False], ids=["auto", "loop"])
@pytest.mark.parametrize("case", META["cases"], ids=[c["name"] for c in META["cases"]])
def test_matches_keras(case, use_fused):
    layer = build(case, use_fused)
    name = case["name"]
    if name.endswith("-stateful"):
        got = [layer(inputs(case, "x1")), layer(inputs(case, "x2"))]
    else:
        kwargs = {}
        if f"{name}/mask" in ARRAYS:
            kwargs["mask"] = inputs(case, "mask")
        if f"{name}/init0" in ARRAYS:
            kwargs["initial_state"] = [inputs(case, k) for k in ("init0", "init1") if f"{name}/{k}" in ARRAYS]
        got = layer(inputs(case, "x"), **kwargs)
        got = got if isinstance(got, list) else [got]
    want = outputs(case)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.detach().numpy(), w, atol=ATOL, rtol=1e-4)


def test_fixtures_cover_every_feature():
    names = " ".join(c["name"] for c in META["cases"])
    for feature in ("rs1", "gb1", "init", "stateful", "mask_right", "mask_holes", "Bidirectional-sum",
                    "GRU_reset_before", "SimpleRNN"):
        assert feature in names


def test_right_padded_mask_takes_packed_fused_path_and_holes_take_loop():
    case = next(c for c in META["cases"] if c["name"] == "LSTM-mask_right-gb0")
    layer = build(case, "auto")
    layer(inputs(case, "x"), mask=inputs(case, "mask"))
    assert layer.last_path == "fused-packed"
    case = next(c for c in META["cases"] if c["name"] == "LSTM-mask_holes-gb0")
    layer = build(case, "auto")
    layer(inputs(case, "x"), mask=inputs(case, "mask"))
    assert layer.last_path == "loop"


@pytest.mark.parametrize("case", [c for c in META["cases"] if c["cls"] != "Bidirectional"][:8],
                         ids=lambda c: c["name"])
def test_keras_weights_round_trip(case):
    layer = build(case, "auto")
    for got, want in zip(layer.keras_weights(), [ARRAYS[f"{case['name']}/w{k}"] for k in range(case["n_weights"])]):
        np.testing.assert_array_equal(got, want)
