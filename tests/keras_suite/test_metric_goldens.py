"""Every metric class and name rnnkit has gives Keras 3's numbers (tests/fixtures/keras_metrics.*, written
by scripts/make_keras_metric_goldens.py with Keras 3.15.1 on JAX).

Each case runs the same steps on the same batches as Keras did (update_state with and without
sample_weight, reset_state) and compares result() after every update; its get_config(), default
name and direction (EarlyStopping's mode="auto") are Keras's too, and from_config rebuilds a metric
that gives the same numbers. The names compile takes resolve to Keras's classes (the names of classes
that need arguments, such as "mean_io_u", fail as Keras's do), and model.evaluate of an identity model
(predictions = inputs) logs Keras's names and values for metrics and weighted_metrics accumulated over
uneven batches, or refuses what Keras's refuses (Sum, which takes values, not y_true and y_pred).

Tolerance: 1e-6 relative, plus one float32 step at 1.0 (2**-23 = 1.2e-7) absolute. Both compute in
float32, and sums of fractional sample weights are added in another order (XLA's reductions vs
torch's), which moves the last bit. Where a result is formed as 1 - x with x near 1 (R2Score) or is a
sum that cancels to near 0 (CosineSimilarity over sequences), one float32 step of the terms exceeds
1e-6 of the result: measured, R2Score's -0.0599 differs by 1.19e-7 (2.0e-6 relative). The measured
worst cases are printed by test_measured_differences (pytest -rA -s).
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

import rnnkit.metrics
from rnnkit import Activation, Input, Sequential

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures")
with open(os.path.join(FIXTURES, "keras_metrics.json")) as f:
    META = json.load(f)
ARRAYS = dict(np.load(os.path.join(FIXTURES, "keras_metrics.npz")))
TOLERANCE = dict(rtol=1e-6, atol=2.0 ** -23)
CLASS_CASES = [c for c in META["cases"] if "class" in c]


def batches(kind: str) -> list[tuple]:
    """[(y_true or None, y_pred, sample_weight)] of a kind of batches."""
    out = []
    for b in range(len(META["sizes"])):
        key = f"data/{kind}/{b}"
        y_true = ARRAYS.get(f"{key}/y_true")
        out.append((None if y_true is None else torch.tensor(y_true), torch.tensor(ARRAYS[f"{key}/y_pred"]),
                    torch.tensor(ARRAYS[f"{key}/sample_weight"])))
    return out


def make(case: dict):
    """rnnkit's metric for a case: compile's resolution of a name, or the class with the case's arguments."""
    if "name" in case:
        return rnnkit.metrics.compile_metric(case["name"])[0]
    kwargs = dict(case["kwargs"])
    if case["class"] == "MeanMetricWrapper":
        kwargs["fn"] = getattr(rnnkit.metrics, kwargs["fn"])
    return getattr(rnnkit.metrics, case["class"])(**kwargs)


def run(metric, case: dict) -> list:
    data, results = batches(case["kind"]), []
    for step in META["steps"]:
        if step == "reset":
            metric.reset_state()
            continue
        y_true, y_pred, weight = data[int(step[1])]
        weight = weight if step[0] == "w" else None
        if y_true is None:
            metric.update_state(y_pred, sample_weight=weight)
        else:
            metric.update_state(y_true, y_pred, sample_weight=weight)
        results.append(np.asarray(metric.result(), dtype=np.float64))
    return results


def assert_results(got: list, expected: list, what: str) -> None:
    assert len(got) == len(expected)
    for step, (g, e) in enumerate(zip(got, expected)):
        assert np.shape(g) == np.shape(e), f"{what}, update {step}: shape {np.shape(g)} vs Keras's {np.shape(e)}"
        np.testing.assert_allclose(g, e, **TOLERANCE, err_msg=f"{what}, update {step}")


@pytest.mark.parametrize("case", META["cases"], ids=[c["id"] for c in META["cases"]])
def test_results_equal_keras(case):
    assert_results(run(make(case), case), case["results"], case["id"])


@pytest.mark.parametrize("case", CLASS_CASES, ids=[c["id"] for c in CLASS_CASES])
def test_config_name_and_direction_equal_keras(case):
    metric = make(case)
    config = json.loads(json.dumps(metric.get_config()))  # as a checkpoint stores it
    assert config == case["config"]
    assert metric.name == case["name_of_metric"]
    assert metric._direction == case["direction"]


@pytest.mark.parametrize("case", [c for c in CLASS_CASES if c["class"] != "MeanMetricWrapper"],
                         ids=[c["id"] for c in CLASS_CASES if c["class"] != "MeanMetricWrapper"])
def test_from_config_rebuilds_the_same_metric(case):
    cls = getattr(rnnkit.metrics, case["class"])
    restored = cls.from_config(json.loads(json.dumps(make(case).get_config())))
    assert type(restored) is cls and restored.get_config() == make(case).get_config()
    assert_results(run(restored, case), case["results"], case["id"] + " (from_config)")
    again = rnnkit.metrics.deserialize(rnnkit.metrics.serialize(restored))
    assert again.get_config() == restored.get_config()


@pytest.mark.parametrize("name", sorted(META["names"]))
def test_name_resolves_to_keras_class(name):
    assert type(rnnkit.metrics.get(name)).__name__ == META["names"][name]


@pytest.mark.parametrize("name", sorted(META["names_refused"]))
def test_name_of_a_class_needing_arguments_fails_as_in_keras(name):
    with pytest.raises(Exception, match="needs arguments") as error:
        rnnkit.metrics.get(name)
    assert type(error.value).__name__ == META["names_refused"][name]


def test_every_name_and_class_has_a_golden_case():
    names = {c["name"] for c in META["cases"] if "name" in c} | set(META["names_refused"])
    assert set(rnnkit.metrics.NAMES) - names == set()
    classes = {getattr(rnnkit.metrics, n) for n in rnnkit.metrics.__all__}
    metric_classes = {c.__name__ for c in classes if isinstance(c, type) and issubclass(c, rnnkit.metrics.Metric)}
    assert metric_classes - {c["class"] for c in CLASS_CASES} == {"Metric"}  # the abstract base alone


def test_measured_differences():
    """The largest differences from Keras over every case and update: relative where Keras's value is at
    least 0.1, absolute elsewhere; each within the tolerance."""
    relative = absolute = 0.0
    for case in META["cases"]:
        for g, e in zip(run(make(case), case), case["results"]):
            g, e = np.ravel(g), np.ravel(e)
            big = np.abs(e) >= 0.1
            relative = max(relative, float(np.max(np.abs(g - e)[big] / np.abs(e[big]), initial=0.0)))
            absolute = max(absolute, float(np.max(np.abs(g - e)[~big], initial=0.0)))
    print(f"largest difference from Keras: {relative:.3g} relative (|value| >= 0.1), {absolute:.3g} absolute")
    assert relative <= TOLERANCE["rtol"] + TOLERANCE["atol"] / 0.1 and absolute <= TOLERANCE["atol"] + 1e-7


# -- model.evaluate: the running state over batches, sample weights, Keras's log names -----------------------------
def _compiled_metric(entry):
    if isinstance(entry, dict):
        return getattr(rnnkit.metrics, entry["class"])(**entry["kwargs"])
    if entry == "rmse_as_class":
        return rnnkit.metrics.RootMeanSquaredError(name="rmse")
    return entry


@pytest.mark.parametrize("run_", META["evaluate"], ids=[r["id"] for r in META["evaluate"]])
def test_evaluate_equals_keras(run_):
    data = batches(run_["kind"])
    y_true = torch.cat([b[0] for b in data])
    y_pred = torch.cat([b[1] for b in data])
    weight = torch.cat([b[2] for b in data])
    model = Sequential([Input(tuple(y_pred.shape[1:])), Activation("linear")])
    model.compile(loss=run_["loss"], metrics=[_compiled_metric(m) for m in run_["metrics"]],
                  weighted_metrics=[_compiled_metric(m) for m in run_["weighted_metrics"]])
    logs = model.evaluate(y_pred.numpy(), y_true.numpy(), sample_weight=weight.numpy(), batch_size=META["sizes"][0],
                          return_dict=True)
    assert set(logs) == set(run_["logs"])
    for name, expected in run_["logs"].items():
        assert np.shape(logs[name]) == np.shape(expected), name
        np.testing.assert_allclose(logs[name], expected, **TOLERANCE, err_msg=name)


@pytest.mark.parametrize("run_", META["evaluate_refused"], ids=[r["id"] for r in META["evaluate_refused"]])
def test_evaluate_refuses_what_keras_refuses(run_):
    data = batches(run_["kind"])
    model = Sequential([Input(tuple(data[0][1].shape[1:])), Activation("linear")])
    model.compile(loss=run_["loss"], metrics=[_compiled_metric(m) for m in run_["metrics"]],
                  weighted_metrics=[_compiled_metric(m) for m in run_["weighted_metrics"]])
    with pytest.raises(Exception, match="update_state") as error:
        model.evaluate(data[0][1].numpy(), data[0][0].numpy(), sample_weight=data[0][2].numpy(), batch_size=8)
    assert type(error.value).__name__ == run_["error"]
