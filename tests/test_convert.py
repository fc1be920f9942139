"""The data boundary (`rnnkit.convert`), seen from every public entry point.

Each entry point takes every kind of input users pass -- NumPy float32/float64, nested lists,
DataFrames/Series, torch tensors, negative-stride views, read-only arrays -- gives the same result as
for plain float32 NumPy, and returns what Keras returns (NumPy from predict, Python floats from
evaluate, a History of floats from fit, a tensor without gradient from model(x)).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from rnnkit import (LSTM, Dense, Embedding, History, Input, Model, Sequential, Stream, TimeDistributed,
                    concatenate, explain, generate)
from rnnkit.convert import to_array, to_tensor

pytestmark = pytest.mark.filterwarnings("error::UserWarning")  # e.g. torch's "NumPy array is not writable"

RNG = np.random.default_rng(0)
X_SEQ = RNG.standard_normal((6, 4, 2)).astype("float32")  # (samples, time_steps, features)
X_TAB = RNG.standard_normal((6, 3)).astype("float32")  # (samples, features)
X_STEP = RNG.standard_normal((6, 2)).astype("float32")  # one step of 6 series of 2 features
Y = RNG.standard_normal((6, 1)).astype("float32")


def _negative_stride(a: np.ndarray) -> np.ndarray:
    view = a[::-1].copy()[::-1]  # same values, read backwards through memory
    assert any(s < 0 for s in view.strides)
    return view


def _read_only(a: np.ndarray) -> np.ndarray:
    a = a.copy()
    a.setflags(write=False)
    return a


# name -> how to make that kind from a float32 array. "dataframe" applies to 2-D data only, "series" to 1-D.
KINDS = {
    "numpy-float32": lambda a: a,
    "numpy-float64": lambda a: a.astype("float64"),
    "list": lambda a: a.tolist(),
    "torch-float32": lambda a: torch.from_numpy(a.copy()),
    "torch-float64": lambda a: torch.from_numpy(a.astype("float64")),
    "negative-stride": _negative_stride,
    "read-only": _read_only,
    "dataframe": lambda a: pd.DataFrame(a, index=np.arange(100, 100 + len(a))),  # an index that is not 0..N-1
    "series": lambda a: pd.Series(a, index=np.arange(100, 100 + len(a))),
}
KINDS_ND = [k for k in KINDS if k not in ("dataframe", "series")]
KINDS_2D = [k for k in KINDS if k != "series"]


def _seq_model(metrics=None):
    torch.manual_seed(0)
    model = Sequential([Input((4, 2)), LSTM(3), Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=metrics)
    return model


def _tab_model(metrics=("mae",)):
    torch.manual_seed(0)
    model = Sequential([Input((3,)), Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=list(metrics))
    return model


def _gen_model():
    torch.manual_seed(0)
    return Sequential([Input((None, 2)), LSTM(3, return_sequences=True), TimeDistributed(Dense(2))])


def _weights(model) -> list[np.ndarray]:
    return [p.detach().numpy().copy() for p in model.parameters()]


def _fit(model, x, y):
    history = model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    return history, _weights(model)


def assert_same(got, want, what=""):
    """got == want to 1e-6, recursively (arrays, tensors, floats, lists, dicts, Histories)."""
    if isinstance(want, History):
        assert_same(got.history, want.history, what)
    elif isinstance(want, dict):
        assert got.keys() == want.keys(), what
        for k in want:
            assert_same(got[k], want[k], f"{what}[{k!r}]")
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want), what
        for k, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, f"{what}[{k}]")
    elif isinstance(want, str):
        assert got == want, what
    elif isinstance(want, torch.Tensor):
        torch.testing.assert_close(got.detach(), want.detach(), atol=1e-6, rtol=0, msg=what)
    else:
        np.testing.assert_allclose(got, want, atol=1e-6, rtol=0, err_msg=what)


# -- the checks of what Keras returns ------------------------------------------------------------------
def is_float32_array(r) -> bool:
    return type(r) is np.ndarray and r.dtype == np.float32


def is_python_float(r) -> bool:
    return type(r) is float


def is_list_of_floats(r) -> bool:
    return type(r) is list and len(r) > 1 and all(type(v) is float for v in r)


def is_history_of_floats(r) -> bool:
    return (isinstance(r, History) and len(r.history["loss"]) == 2
            and all(type(v) is float for values in r.history.values() for v in values))


def is_tensor_without_grad(r) -> bool:
    return isinstance(r, torch.Tensor) and r.dtype == torch.float32 and not r.requires_grad


def is_float32_tensor(r) -> bool:
    return isinstance(r, torch.Tensor) and r.dtype == torch.float32


# -- x of every kind ---------------------------------------------------------------------------------------
# name -> (run(x), what Keras returns, the data it takes). Each run builds fresh seeded models, so the
# result for a kind can be compared with the result for float32 NumPy.
def _explain_findings(x):
    e = explain(_seq_model(), x=x, y=np.zeros((6, 4, 1)))  # y one value per step: a y-shape finding
    assert e.finding("y-shape") is not None, [f.code for f in e.findings]
    return [(f.code, f.message) for f in e.findings]


X_ENTRY_POINTS = {
    "predict": (lambda x: _seq_model().predict(x), is_float32_array, X_SEQ),
    "predict_on_batch": (lambda x: _seq_model().predict_on_batch(x), is_float32_array, X_SEQ),
    "evaluate": (lambda x: _seq_model().evaluate(x, Y), is_python_float, X_SEQ),
    "test_on_batch": (lambda x: _seq_model().test_on_batch(x, Y), is_python_float, X_SEQ),
    "train_on_batch": (lambda x: _seq_model().train_on_batch(x, Y), is_python_float, X_SEQ),
    "fit": (lambda x: _fit(_seq_model(), x, Y), lambda r: is_history_of_floats(r[0]), X_SEQ),
    "model(x)": (lambda x: _seq_model()(x), is_tensor_without_grad, X_SEQ),
    "layer(x)": (lambda x: (torch.manual_seed(0), LSTM(3)(x))[1], is_float32_tensor, X_SEQ),
    "generate": (lambda x: generate(_gen_model(), x, horizon=3), is_float32_array, X_SEQ),
    "Stream.prime": (lambda x: Stream(_gen_model(), series=6).prime(x), is_float32_array, X_SEQ),
    "explain": (_explain_findings, lambda r: bool(r), X_SEQ),
    # 2-D data: a Dense model on (samples, features), one step of a Stream -- DataFrames too
    "predict-2d": (lambda x: _tab_model().predict(x), is_float32_array, X_TAB),
    "predict_on_batch-2d": (lambda x: _tab_model().predict_on_batch(x), is_float32_array, X_TAB),
    "evaluate-2d-metrics": (lambda x: _tab_model().evaluate(x, Y), is_list_of_floats, X_TAB),
    "test_on_batch-2d-metrics": (lambda x: _tab_model().test_on_batch(x, Y), is_list_of_floats, X_TAB),
    "train_on_batch-2d-metrics": (lambda x: _tab_model().train_on_batch(x, Y), is_list_of_floats, X_TAB),
    "fit-2d-metrics": (lambda x: _fit(_tab_model(), x, Y), lambda r: is_history_of_floats(r[0]), X_TAB),
    "model(x)-2d": (lambda x: _tab_model()(x), is_tensor_without_grad, X_TAB),
    "layer(x)-2d": (lambda x: (torch.manual_seed(0), Dense(2))[1](x), is_float32_tensor, X_TAB),
    "Stream.step": (lambda x: Stream(_gen_model(), series=6).step(x), is_float32_array, X_STEP),
}


def _x_cases():
    for entry, (_, _, data) in X_ENTRY_POINTS.items():
        for kind in (KINDS_2D if data.ndim == 2 else KINDS_ND):
            yield pytest.param(entry, kind, id=f"{entry}-{kind}")


def _snapshot(x) -> np.ndarray:
    """A copy of x's values (inputs share memory with the tensors made from them, read-only ones too)."""
    return x.detach().numpy().copy() if isinstance(x, torch.Tensor) else np.array(x, copy=True)


_REFERENCE: dict[str, object] = {}


def _reference(entry):
    if entry not in _REFERENCE:
        run, _, data = X_ENTRY_POINTS[entry]
        _REFERENCE[entry] = run(data.copy())
    return _REFERENCE[entry]


@pytest.mark.parametrize("entry, kind", list(_x_cases()))
def test_every_entry_point_takes_every_kind_of_x(entry, kind):
    run, returns_like_keras, data = X_ENTRY_POINTS[entry]
    x = KINDS[kind](data)
    before = _snapshot(x)
    result = run(x)
    if entry.startswith("model(x)") and kind.startswith("torch"):
        returns_like_keras = is_float32_tensor  # tensors in: autograd as PyTorch users expect (see below)
    assert returns_like_keras(result), f"{entry} on {kind} returned {type(result).__name__}: {result!r}"
    assert_same(result, _reference(entry), f"{entry} on {kind} vs float32 NumPy")
    np.testing.assert_array_equal(_snapshot(x), before, err_msg=f"{entry} modified its input")


@pytest.mark.parametrize("kind", KINDS_2D)
def test_stream_step_for_some_rows_takes_every_kind(kind):
    rows = X_STEP[2:3]  # one series reported: x_t has one row (a negative stride on an axis of length 1)
    ref = Stream(_gen_model(), series=6).step(rows, rows=[2])
    got = Stream(_gen_model(), series=6).step(KINDS[kind](rows), rows=[2])
    assert is_float32_array(got) and got.shape == (1, 2)
    assert_same(got, ref)


def test_model_call_on_numpy_is_a_tensor_outside_autograd_like_keras():
    model = _seq_model()
    out = model(X_SEQ)
    assert is_tensor_without_grad(out)
    np.testing.assert_allclose(out.numpy(), model.predict(X_SEQ), atol=1e-6)  # .numpy() works, as in Keras


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_model_call_on_a_tensor_keeps_autograd_whatever_its_dtype(dtype):
    # model(x) on data that is not tensors runs outside autograd; a tensor keeps its graph, so that
    # gradients with respect to the input (saliency) work for float64 tensors as for float32 ones.
    x = torch.from_numpy(X_SEQ).to(dtype).requires_grad_(True)
    out = _seq_model()(x)
    assert out.requires_grad, f"model(x) on a {dtype} tensor cut the autograd graph"
    out.sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape


def test_layer_call_on_numpy_is_a_tensor_outside_autograd_like_keras():
    # Keras's layer(x) on NumPy outside a GradientTape returns a plain tensor; `LSTM(4)(x).numpy()` works.
    torch.manual_seed(0)
    out = LSTM(3)(X_SEQ)
    assert is_tensor_without_grad(out), "layer(x) on NumPy builds an autograd graph: .numpy() raises"
    torch.manual_seed(0)
    assert LSTM(3)(torch.from_numpy(X_SEQ)).requires_grad  # tensors in: autograd as PyTorch users expect


def test_float16_is_cast_to_float32_as_keras_does():
    half = X_SEQ.astype("float16")
    got = _seq_model().predict(half)
    assert is_float32_array(got)
    assert_same(got, _seq_model().predict(half.astype("float32")))
    assert to_tensor(half).dtype == torch.float32


# -- y of every kind -----------------------------------------------------------------------------------------
Y_ENTRY_POINTS = {
    "evaluate": lambda y: _tab_model().evaluate(X_TAB, y),
    "test_on_batch": lambda y: _tab_model().test_on_batch(X_TAB, y),
    "train_on_batch": lambda y: _tab_model().train_on_batch(X_TAB, y),
    "fit": lambda y: _fit(_tab_model(), X_TAB, y),
    "fit-validation_data": lambda y: _tab_model().fit(X_TAB, Y, validation_data=(X_TAB, y), epochs=2,
                                                       verbose=0, shuffle=False),
}


@pytest.mark.parametrize("kind", KINDS_2D + ["series", "flat-list"])
@pytest.mark.parametrize("entry", Y_ENTRY_POINTS)
def test_every_entry_point_takes_every_kind_of_y(entry, kind):
    if kind == "series":
        y = KINDS["series"](Y[:, 0])  # (N,) targets for an (N, 1) output, as Keras accepts
    elif kind == "flat-list":
        y = Y[:, 0].tolist()
    else:
        y = KINDS[kind](Y)
    got, want = Y_ENTRY_POINTS[entry](y), Y_ENTRY_POINTS[entry](Y)
    assert_same(got, want, f"{entry} with y as {kind}")


@pytest.mark.parametrize("kind", KINDS_2D)
def test_explain_takes_every_kind_of_y(kind):
    y = np.zeros((6, 4, 1), "float32")  # one value per step for a many-to-one model
    y = KINDS[kind](y) if kind != "dataframe" else KINDS[kind](y[:, :, 0])  # a DataFrame is 2-D
    e = explain(_seq_model(), x=X_SEQ, y=y)
    assert e.finding("y-shape") is not None, f"no y-shape finding for y as {kind}: {[f.code for f in e.findings]}"


# -- booleans and integers -----------------------------------------------------------------------------------
def _binary_model():
    torch.manual_seed(0)
    model = Sequential([Input((3,)), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


BOOL_TARGETS = {
    "numpy": lambda y: y,
    "torch": lambda y: torch.from_numpy(y),
    "list": lambda y: y.tolist(),
    "series": lambda y: pd.Series(y[:, 0]),
    "dataframe": lambda y: pd.DataFrame(y),
}


@pytest.mark.parametrize("kind", BOOL_TARGETS)
def test_boolean_targets_train_like_0_1_floats(kind):
    y_bool = X_TAB[:, :1] > 0
    assert y_bool.any() and not y_bool.all()
    y = BOOL_TARGETS[kind](y_bool)
    want = _binary_model().fit(X_TAB, y_bool.astype("float32"), epochs=2, shuffle=False, verbose=0)
    got = _binary_model().fit(X_TAB, y, epochs=2, shuffle=False, verbose=0)
    assert is_history_of_floats(got) and set(got.history) == {"loss", "accuracy"}
    assert_same(got, want)
    assert_same(_binary_model().evaluate(X_TAB, y), _binary_model().evaluate(X_TAB, y_bool.astype("float32")))
    assert_same(_binary_model().train_on_batch(X_TAB, y), _binary_model().train_on_batch(X_TAB, y_bool.astype("f")))


def _first_layer_dtypes(model) -> list[torch.dtype]:
    seen = []
    first = model.layers[0]
    first.register_forward_pre_hook(lambda module, args: seen.append(args[0].dtype))
    return seen


IDS = RNG.integers(1, 10, size=(4, 5))
ID_KINDS = {
    "numpy-int64": lambda a: a,
    "numpy-int32": lambda a: a.astype("int32"),
    "list": lambda a: a.tolist(),
    "torch-int64": lambda a: torch.from_numpy(a.copy()),
    "dataframe": lambda a: pd.DataFrame(a),
    "negative-stride": _negative_stride,
}


@pytest.mark.parametrize("kind", ID_KINDS)
@pytest.mark.parametrize("declared", [True, False], ids=["Input-int64", "no-Input"])
def test_integer_ids_reach_an_embedding_unchanged(kind, declared):
    def model():
        torch.manual_seed(0)
        layers = [Embedding(10, 2), LSTM(3), Dense(1)]
        m = Sequential(([Input((5,), dtype="int64")] if declared else []) + layers)
        m.compile(optimizer="adam", loss="mse")
        return m

    ids, y = ID_KINDS[kind](IDS), np.ones((4, 1), "float32")
    m = model()
    seen = _first_layer_dtypes(m)
    got = [m.predict(ids), m.predict_on_batch(ids), m(ids).detach().numpy(), m.evaluate(ids, y),
           m.train_on_batch(ids, y)]
    assert seen and all(not d.is_floating_point for d in seen), f"the Embedding received {seen}"
    ref = model()
    assert_same(got, [ref.predict(IDS), ref.predict_on_batch(IDS), ref(IDS).numpy(), ref.evaluate(IDS, y),
                      ref.train_on_batch(IDS, y)])
    emb = Embedding(10, 2)  # layer(x) too
    emb_seen = []
    emb.register_forward_pre_hook(lambda module, args: emb_seen.append(args[0].dtype))
    emb(ids)
    assert not emb_seen[0].is_floating_point


@pytest.mark.parametrize("kind", ["numpy-int64", "numpy-int32", "list", "torch-int64", "negative-stride"])
def test_integer_x_for_a_recurrent_model_becomes_float32(kind):
    xi = RNG.integers(0, 5, size=(6, 4, 2))
    model = _seq_model()
    seen = _first_layer_dtypes(model)
    got = [model.predict(ID_KINDS[kind](xi)), model.evaluate(ID_KINDS[kind](xi), Y)]
    assert seen and all(d == torch.float32 for d in seen), f"the LSTM received {seen}"
    ref = _seq_model()
    assert_same(got, [ref.predict(xi.astype("float32")), ref.evaluate(xi.astype("float32"), Y)])
    assert_same(_seq_model()(ID_KINDS[kind](xi)), ref(xi.astype("float32")))
    assert LSTM(3)(ID_KINDS[kind](xi)).dtype == torch.float32
    assert Dense(1)(ID_KINDS[kind](xi[:, 0])).dtype == torch.float32
    dense_model = _tab_model()
    assert_same(dense_model(ID_KINDS[kind](xi[:, 0, :1].repeat(3, axis=1))),
                dense_model(xi[:, 0, :1].repeat(3, axis=1).astype("float32")))


@pytest.mark.parametrize("kind", ["numpy-int64", "list", "series", "numpy-float64", "torch-int64"])
def test_sparse_targets_are_class_ids_in_any_kind(kind):
    def model():
        torch.manual_seed(0)
        m = Sequential([Input((3,)), Dense(4, activation="softmax")])
        m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return m

    classes = np.arange(6) % 4
    y = {"numpy-int64": classes, "list": classes.tolist(), "series": pd.Series(classes),
         "numpy-float64": classes.astype("float64"), "torch-int64": torch.from_numpy(classes)}[kind]
    got = model().fit(X_TAB, y, epochs=2, shuffle=False, verbose=0)
    assert is_history_of_floats(got)
    assert_same(got, model().fit(X_TAB, classes, epochs=2, shuffle=False, verbose=0))


def test_nullable_pandas_columns_are_numbers():
    frame = pd.DataFrame({"a": pd.array([1, 2, 3], dtype="Int64"), "b": [0.5, 1.5, 2.5],
                          "c": pd.array([True, False, True], dtype="boolean")})
    np.testing.assert_array_equal(to_tensor(frame).numpy(), [[1, 0.5, 1], [2, 1.5, 0], [3, 2.5, 1]])
    assert to_tensor(pd.Series([1, 2], dtype="Int64")).dtype == torch.int64  # ids stay ids
    with_missing = to_tensor(pd.Series([1.5, None], dtype="Float64"))
    assert with_missing.dtype == torch.float32 and torch.isnan(with_missing[1])
    with pytest.raises(ValueError, match=r"y contains NaN or inf \(first at index \(1, 0\)"):
        _tab_model().fit(X_TAB[:2], pd.DataFrame({"y": pd.array([1.0, None], dtype="Float64")}), verbose=0)


# -- several inputs, several outputs --------------------------------------------------------------------------
def _two_input_model():
    torch.manual_seed(0)
    a, b = Input((4, 2), name="series"), Input((3,), name="extra")
    model = Model([a, b], Dense(1)(concatenate([LSTM(3)(a), b])))
    model.compile(optimizer="adam", loss="mse")
    return model


TWO_INPUT_ENTRY_POINTS = {
    "predict": (lambda m, x: m.predict(x), is_float32_array),
    "predict_on_batch": (lambda m, x: m.predict_on_batch(x), is_float32_array),
    "evaluate": (lambda m, x: m.evaluate(x, Y), is_python_float),
    "test_on_batch": (lambda m, x: m.test_on_batch(x, Y), is_python_float),
    "train_on_batch": (lambda m, x: m.train_on_batch(x, Y), is_python_float),
    "fit": (lambda m, x: _fit(m, x, Y), lambda r: is_history_of_floats(r[0])),
    "model(x)": (lambda m, x: m(x), is_tensor_without_grad),
}


@pytest.mark.parametrize("kind", ["numpy-float32", "numpy-float64", "list", "torch-float64", "negative-stride",
                                  "mixed", "tuple"])
@pytest.mark.parametrize("entry", TWO_INPUT_ENTRY_POINTS)
def test_two_inputs_take_a_list_of_two_arrays(entry, kind):
    run, returns_like_keras = TWO_INPUT_ENTRY_POINTS[entry]
    if kind == "mixed":
        x = [X_SEQ.tolist(), pd.DataFrame(X_TAB)]
    elif kind == "tuple":
        x = (X_SEQ, X_TAB)
    else:
        x = [KINDS[kind](X_SEQ), KINDS[kind](X_TAB)]
    result = run(_two_input_model(), x)
    if entry == "model(x)" and kind.startswith("torch"):
        returns_like_keras = is_float32_tensor  # tensors in: autograd kept
    assert returns_like_keras(result), f"{entry} returned {type(result).__name__}"
    assert_same(result, run(_two_input_model(), [X_SEQ, X_TAB]))


WRONG_COUNTS = {"one array": lambda: X_SEQ, "a list of one": lambda: [X_SEQ],
                "a list of three": lambda: [X_SEQ, X_TAB, X_TAB]}


@pytest.mark.parametrize("given", WRONG_COUNTS)
@pytest.mark.parametrize("entry", TWO_INPUT_ENTRY_POINTS)
def test_two_inputs_refuse_a_wrong_count_naming_the_inputs(entry, given):
    run, _ = TWO_INPUT_ENTRY_POINTS[entry]
    with pytest.raises(ValueError, match=r"takes 2 input\(s\) \['series', 'extra'\], received [13]"):
        run(_two_input_model(), WRONG_COUNTS[given]())


@pytest.mark.parametrize("kind", ["numpy-float64", "list", "torch-float32"])
def test_several_outputs_come_back_as_a_list_of_arrays(kind):
    def model():
        torch.manual_seed(0)
        inputs = Input((4, 2))
        out, h, _ = LSTM(3, return_state=True)(inputs)
        return Model(inputs, [Dense(1)(out), h])

    x = KINDS[kind](X_SEQ)
    for got, want in [(model().predict(x), model().predict(X_SEQ)),
                      (model().predict_on_batch(x), model().predict_on_batch(X_SEQ))]:
        assert type(got) is list and len(got) == 2 and all(is_float32_array(a) for a in got)
        assert [a.shape for a in got] == [(6, 1), (6, 3)]
        assert_same(got, want)
    called = model()(x)
    tensor_check = is_float32_tensor if kind.startswith("torch") else is_tensor_without_grad
    assert type(called) is list and all(tensor_check(t) for t in called)
    assert_same(called, model()(X_SEQ))


# -- what is refused, and how -------------------------------------------------------------------------------------
# name -> (data, what the message says after "received ")
BAD_DATA = {
    "ragged-list": ([[[0.0, 0.0]] * 4, [[0.0, 0.0]] * 3], r"a list that is not one rectangular array of numbers: "
                                                         r"a ragged list .* must be padded"),
    "string-array": (np.array([["a", "b", "c"]] * 6), r"an ndarray of text \(e\.g\. 'a'\)\. Encode text"),
    "string-list": ([["a", "b", "c"]] * 6, r"a list of text \(e\.g\. 'a'\)\. Encode text"),
    "string-dataframe": (pd.DataFrame([["a", "b", "c"]] * 6), r"a DataFrame of text \(e\.g\. 'a'\)\. Encode text"),
    "missing-values": (np.array([[1.0, None, 3.0]] * 6, dtype=object),
                       r"an ndarray holding NoneType values \(e\.g\. None\)\. Replace missing values"),
}

BAD_ENTRY_POINTS = {
    "predict": lambda bad: _tab_model().predict(bad),
    "predict_on_batch": lambda bad: _tab_model().predict_on_batch(bad),
    "fit-x": lambda bad: _tab_model().fit(bad, Y, verbose=0),
    "fit-y": lambda bad: _tab_model().fit(X_TAB, bad, verbose=0),
    "evaluate": lambda bad: _tab_model().evaluate(bad, Y),
    "test_on_batch-y": lambda bad: _tab_model().test_on_batch(X_TAB, bad),
    "train_on_batch": lambda bad: _tab_model().train_on_batch(bad, Y),
    "model(x)": lambda bad: _tab_model()(bad),
    "layer(x)": lambda bad: Dense(1)(bad),
    "generate": lambda bad: generate(_gen_model(), bad, horizon=2),
    "Stream.prime": lambda bad: Stream(_gen_model(), series=6).prime(bad),
    "Stream.step": lambda bad: Stream(_gen_model(), series=6).step(bad),
    "explain-x": lambda bad: explain(_seq_model(), x=bad),
    "explain-y": lambda bad: explain(_seq_model(), x=X_SEQ, y=bad),
}


@pytest.mark.parametrize("bad", BAD_DATA)
@pytest.mark.parametrize("entry", BAD_ENTRY_POINTS)
def test_data_that_is_not_numbers_is_refused_saying_what_was_expected(entry, bad):
    data, message = BAD_DATA[bad]
    with pytest.raises(TypeError, match=r"^Expected numbers \(a NumPy array, a list of numbers, a DataFrame or a "
                                        r"tensor\), received " + message):
        BAD_ENTRY_POINTS[entry](data)


# -- rnnkit.convert itself -------------------------------------------------------------------------------------
def test_negative_strides_on_an_axis_of_length_one():
    # np.ascontiguousarray keeps such a view as it is (it counts as contiguous); torch refuses it.
    view = np.arange(6.0).reshape(3, 2)[::-1][:1]
    assert view.strides[0] < 0 and view.flags.c_contiguous
    assert to_tensor(view).tolist() == [[4.0, 5.0]]


def test_to_array_refuses_text_too():
    assert to_array(pd.Series([1, 2])).tolist() == [1, 2]
    with pytest.raises(TypeError, match="received a Series of text"):
        to_array(pd.Series(["x", "y"], dtype="category"))


@pytest.mark.parametrize("data, message", [
    (np.array(["2020-01-01"], dtype="datetime64[D]"), r"dtype datetime64\[D\]\. .* timestamps as elapsed seconds"),
    ([1 + 2j], r"dtype complex128\. .* real and imaginary parts"),
    (pd.DataFrame({"t": pd.to_datetime(["2020", "2021"]), "v": [1.0, 2.0]}), r"holding Timestamp values"),
], ids=["datetime64", "complex", "timestamps-in-a-dataframe"])
def test_other_non_numbers_say_what_they_are(data, message):
    with pytest.raises(TypeError, match=message):
        to_tensor(data)
