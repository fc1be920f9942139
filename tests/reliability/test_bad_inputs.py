"""Property suite: generated bad inputs for every public entry point.

Each property draws an input (wrong ranks, negative/zero/huge/float/str/bool sizes, empty axes, NaN/inf,
object and text dtypes, ragged lists, mismatched lengths) and asserts one of two outcomes: an error of the
expected class whose message names what was received (the value or the shape) and what to do, or a correct
result (the right shape, finite where the input is). Never a raw torch/NumPy/Python error.

The models are built once per module; each property runs a fixed set of examples (derandomized, so a
failure reproduces), and the file runs in a few seconds on 2 cores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnkit import (GRU, LSTM, Bidirectional, Dense, Dropout, Embedding, Input, RepeatVector, Sequential, SimpleRNN,
                    Stream, TimeDistributed, generate)
from rnnkit.checks import ArgumentError, short
from rnnkit.data import windows

F = 2  # features per step the shared models read

PROPERTY = settings(max_examples=50, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.filter_too_much, HealthCheck.data_too_large])
SAYS_WHAT_TO_DO = re.compile(r"expect|must|need|pass|use|give|fix|drop|pad|check|convert|encode|replace|save|feed|"
                             r"build|reshape|set|call|start|write|did you mean", re.IGNORECASE)


def assert_clear(err: BaseException, *received: str, todo: bool = True) -> None:
    """The message names what was received and says what is expected or what to do (`todo`)."""
    message = str(err)
    assert type(err).__module__.startswith("rnnkit") or type(err) in (ValueError, TypeError), type(err)
    for text in received:
        assert text in message, f"{text!r} not in the message: {message}"
    assert not todo or SAYS_WHAT_TO_DO.search(message), f"the message says nothing about what to do: {message}"
    assert len(message) < 2000, f"a message of {len(message)} characters"


# -- sizes, flags and rates of the constructors -----------------------------------------------------------------
VALID_SIZES = st.integers(1, 6) | st.integers(1, 6).map(np.int64) | st.integers(1, 6).map(np.int32)
BAD_SIZES = st.one_of(st.integers(-10**6, 0), st.integers(-3, 0).map(np.int64), st.floats(), st.text(max_size=4),
                      st.booleans(), st.integers(1, 6).map(float), st.just([4]), st.just((4,)), st.just(b"4"))
HUGE = st.integers(2**31 + 1, 10**15)


@dataclass(frozen=True)
class Sized:
    make: object  # size -> layer
    name: str  # the argument's name, as the message must say it
    read: object  # layer -> the size it kept
    none_ok: bool = False  # None is a valid value (Input: any length)
    huge_ok: bool = False  # a huge value allocates nothing (RepeatVector)


SIZED = {
    "LSTM": Sized(lambda n: LSTM(n), "units", lambda l: l.units),
    "GRU": Sized(lambda n: GRU(n), "units", lambda l: l.units),
    "SimpleRNN": Sized(lambda n: SimpleRNN(n), "units", lambda l: l.units),
    "LSTM input_size": Sized(lambda n: LSTM(3, input_size=n), "input_size", lambda l: l.input_size, none_ok=True),
    "Dense": Sized(lambda n: Dense(n), "units", lambda l: l.units),
    "Dense input_dim": Sized(lambda n: Dense(2, input_dim=n), "input_dim", lambda l: l.input_size, none_ok=True),
    "Embedding input_dim": Sized(lambda n: Embedding(n, 3), "input_dim", lambda l: l.weight.shape[0]),
    "Embedding output_dim": Sized(lambda n: Embedding(7, n), "output_dim", lambda l: l.weight.shape[1]),
    "RepeatVector": Sized(lambda n: RepeatVector(n), "n", lambda l: l.n, huge_ok=True),
    "TimeDistributed": Sized(lambda n: TimeDistributed(Dense(n)), "units", lambda l: l.layer.units),
    "Bidirectional": Sized(lambda n: Bidirectional(LSTM(n)), "units", lambda l: l.forward_layer.units),
    "Input": Sized(lambda n: Input(shape=(n, F)), "shape", lambda l: l.batch_shape[1], none_ok=True),
    "Input batch_size": Sized(lambda n: Input(shape=(3, F), batch_size=n), "batch_size", lambda l: l.batch_shape[0],
                              none_ok=True),
    "LSTM input_shape": Sized(lambda n: LSTM(2, input_shape=(n, F)), "input_shape",
                              lambda l: l.batch_input_shape[1], none_ok=True, huge_ok=True),
}


@pytest.mark.parametrize("which", list(SIZED))
@PROPERTY
@given(size=st.one_of(VALID_SIZES, BAD_SIZES, HUGE, st.none()))
def test_constructor_sizes(which, size):
    spec = SIZED[which]
    valid = (size is None and spec.none_ok) or (isinstance(size, (int, np.integer)) and not isinstance(size, bool)
                                                and size >= 1 and (size < 2**31 or spec.huge_ok))
    if valid:
        layer = spec.make(size)
        kept = spec.read(layer)
        assert kept == (None if size is None else int(size)) and (kept is None or type(kept) is int)
        return
    with pytest.raises((ValueError, TypeError)) as err:
        spec.make(size)
    huge = isinstance(size, int) and not isinstance(size, bool) and size >= 2**31
    assert_clear(err.value, spec.name, "would need" if huge else short(size))


def _embedding(**kwargs):
    return Embedding(5, 2, **kwargs)


FLAGS = [(LSTM, "return_sequences"), (GRU, "return_state"), (SimpleRNN, "go_backwards"), (LSTM, "stateful"),
         (GRU, "use_bias"), (LSTM, "unit_forget_bias"), (GRU, "reset_after"), (Dense, "use_bias"),
         (_embedding, "mask_zero")]
FLAG_VALUES = st.one_of(st.booleans(), st.booleans().map(np.bool_), st.integers(-2, 3), st.text(max_size=6),
                        st.sampled_from(["True", "False", "yes", "no", "0"]), st.floats(), st.none())


@pytest.mark.parametrize("make, flag", FLAGS, ids=[f"{m.__name__.strip('_')}.{f}" for m, f in FLAGS])
@PROPERTY
@given(value=FLAG_VALUES)
def test_flags_take_booleans_only(make, flag, value):
    size = () if flag == "mask_zero" else (3,)
    if isinstance(value, (bool, np.bool_)) or (type(value) is int and value in (0, 1)):
        layer = make(*size, **{flag: value})
        stored = getattr(layer, flag, None)
        stored = getattr(layer.cell, flag) if stored is None else stored
        assert stored is bool(value)
        return
    with pytest.raises(ArgumentError) as err:
        make(*size, **{flag: value})
    assert_clear(err.value, f"{flag} must be True or False", short(value))


RATES = [(LSTM, "dropout"), (GRU, "recurrent_dropout"), (SimpleRNN, "dropout"), (Dropout, "rate")]


@pytest.mark.parametrize("make, arg", RATES, ids=[f"{m.__name__}.{a}" for m, a in RATES])
@PROPERTY
@given(value=st.one_of(st.floats(), st.integers(-2, 2), st.text(max_size=4), st.booleans(), st.none(),
                       st.floats(0, 0.99).map(np.float32)))
def test_rates_are_numbers_in_zero_one(make, arg, value):
    ok = isinstance(value, (int, float, np.floating)) and not isinstance(value, bool) and 0 <= value < 1
    args = (value,) if arg == "rate" else (3,)
    kwargs = {} if arg == "rate" else {arg: value}
    if ok:
        layer = make(*args, **kwargs)
        kept = layer.rate if arg == "rate" else getattr(layer.cell, arg)
        assert kept == float(value) and type(kept) is float
        return
    with pytest.raises(ArgumentError) as err:
        make(*args, **kwargs)
    assert_clear(err.value, f"{arg} must be in [0, 1)", short(value))


# -- data for the model's entry points ---------------------------------------------------------------------------
@dataclass
class Case:
    kind: str
    x: object
    y: object
    shape: tuple | None = None  # x's shape where it has one


def _values(draw, shape, dtype="float32"):
    arr = np.asarray(draw(st.lists(st.floats(-3, 3, width=32), min_size=int(np.prod(shape)),
                                   max_size=int(np.prod(shape)))), dtype=np.float64).reshape(shape)
    return arr.astype(dtype)


KINDS = ["ok", "list", "ints", "bools", "nan", "rank", "features", "empty", "object", "text", "ragged", "mismatch",
         "y-shape", "scalar"]
# Each property runs once per kind of input (so every kind is drawn), with its sizes and values generated.
PER_KIND = settings(PROPERTY, max_examples=8)


@st.composite
def cases(draw, kind: str, features=F):
    B, T = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    y = _values(draw, (B, 1))
    shape = (B, T, features)
    if kind == "ok":
        return Case(kind, _values(draw, shape, draw(st.sampled_from(["float32", "float64", "float16"]))), y, shape)
    if kind == "list":
        return Case(kind, _values(draw, shape).tolist(), y, shape)
    if kind == "ints":
        return Case(kind, np.asarray(draw(st.lists(st.integers(-5, 5), min_size=B * T * features,
                                                   max_size=B * T * features))).reshape(shape), y, shape)
    if kind == "bools":
        return Case(kind, np.zeros(shape, bool), y, shape)
    if kind == "nan":
        x = _values(draw, shape)
        x.flat[draw(st.integers(0, x.size - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
        return Case(kind, x, y, shape)
    if kind == "rank":
        shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=4).filter(lambda s: len(s) != 3)))
        return Case(kind, _values(draw, shape), _values(draw, (shape[0], 1)), shape)
    if kind == "features":
        shape = (B, T, draw(st.integers(1, 5).filter(lambda f: f != features)))
        return Case(kind, _values(draw, shape), y, shape)
    if kind == "empty":
        shape = draw(st.sampled_from([(0, T, features), (B, 0, features), (B, T, 0)]))
        return Case(kind, np.zeros(shape, np.float32), _values(draw, (shape[0], 1)), shape)
    if kind == "object":
        x = _values(draw, shape).astype(object)
        x.flat[draw(st.integers(0, x.size - 1))] = draw(st.sampled_from([None, {"a": 1}, "7", object()]))
        return Case(kind, x, y, shape)
    if kind == "text":
        return Case(kind, np.full(shape, draw(st.sampled_from(["a", "1.5", ""]))), y, shape)
    if kind == "ragged":
        rows = [[[0.0] * features] * (T + (k % 2)) for k in range(max(B, 2))]
        return Case(kind, rows, _values(draw, (len(rows), 1)))
    if kind == "mismatch":
        return Case(kind, _values(draw, shape), _values(draw, (B + draw(st.sampled_from([-1, 1])) or B + 1, 1)), shape)
    if kind == "y-shape":
        return Case(kind, _values(draw, shape), _values(draw, (B, draw(st.integers(2, 3)))), shape)
    return Case(kind, np.float32(draw(st.floats(-1, 1))), y, ())


def expect(entry: str, case: Case):
    """None for a result, else (error classes, texts the message must hold)."""
    has_y = entry in ("fit", "evaluate", "train_on_batch", "test_on_batch")
    kind, shape = case.kind, case.shape
    if kind in ("ok", "list", "ints", "bools"):
        return None
    if kind == "nan":
        return (ValueError, ["NaN or inf"]) if entry in ("fit", "train_on_batch", "evaluate") else None
    if kind in ("rank", "features", "scalar"):
        return ValueError, [str(shape)]
    if kind == "empty":
        return None if shape[0] == 0 and entry in ("call", "layer") else (ValueError, [str(shape)])
    if kind in ("object", "text"):
        return TypeError, ["Expected numbers"]
    if kind == "ragged":
        return TypeError, ["ragged"]
    if kind == "mismatch":
        if not has_y:
            return None
        return ValueError, [f"x has {len(case.x)} samples but y has {len(case.y)}"]
    if kind == "y-shape":
        return (ValueError, [str(case.y.shape), "cannot match"]) if has_y else None
    raise AssertionError(kind)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    m = Sequential([Input((None, F)), LSTM(3), Dense(1)])
    m.compile("adam", "mse")
    return m


@pytest.fixture(scope="module")
def layer():
    l = GRU(3)
    l(np.zeros((1, 1, F), np.float32))  # built for F features
    return l


def _weights(m):
    return [p.detach().clone() for p in m.parameters()]


ENTRIES = ["call", "layer", "predict", "predict_on_batch", "fit", "evaluate", "train_on_batch", "test_on_batch"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("entry", ENTRIES)
@PER_KIND
@given(data=st.data())
def test_model_entry_points(model, layer, entry, kind, data):
    case = data.draw(cases(kind))
    x, y = case.x, case.y
    run = {"call": lambda: model(x), "layer": lambda: layer(x), "predict": lambda: model.predict(x),
           "predict_on_batch": lambda: model.predict_on_batch(x),
           "fit": lambda: model.fit(x, y, epochs=1, verbose=0, shuffle=False),
           "evaluate": lambda: model.evaluate(x, y), "train_on_batch": lambda: model.train_on_batch(x, y),
           "test_on_batch": lambda: model.test_on_batch(x, y)}[entry]
    before = _weights(model)
    expected = expect(entry, case)
    if expected is None:
        out = run()
        finite = case.kind != "nan"
        if entry in ("call", "layer", "predict", "predict_on_batch"):
            out = out.detach().numpy() if isinstance(out, torch.Tensor) else out
            assert out.shape == (case.shape[0], 1 if entry != "layer" else 3)
            assert not finite or np.isfinite(out).all()
        elif entry == "fit":
            assert np.isfinite(out.history["loss"]).all()
        else:
            assert isinstance(out, float) and (not finite or np.isfinite(out))
        return
    classes, texts = expected
    with pytest.raises(classes) as err:
        run()
    assert_clear(err.value, *texts)
    # a refused call changes no weight
    assert all(torch.equal(a, b) for a, b in zip(before, _weights(model)))


def test_sparse_labels_are_class_ids_in_range():
    m = Sequential([Input((2, F)), SimpleRNN(3), Dense(4, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy")

    @PROPERTY
    # float labels on a grid of quarters: y is float32 at the boundary (Keras's floatx), where 1 + 1e-9 is 1
    @given(labels=st.lists(st.one_of(st.integers(-3, 7), st.integers(-4, 20).map(lambda k: k / 4)),
                           min_size=1, max_size=5))
    def check(labels):
        x = np.zeros((len(labels), 2, F), np.float32)
        y = np.asarray(labels, dtype=np.float64 if any(isinstance(v, float) for v in labels) else np.int64)
        ok = all(float(v).is_integer() and 0 <= v < 4 for v in labels)
        if ok:
            assert np.isfinite(m.train_on_batch(x, y))
            return
        with pytest.raises(ValueError) as err:
            m.train_on_batch(x, y)
        if any(not float(v).is_integer() for v in labels):
            assert_clear(err.value, "sparse_categorical_crossentropy needs whole-number class ids", "received")
        else:
            bad = int(min(labels)) if min(labels) < 0 else int(max(labels))
            assert_clear(err.value, "class ids in [0, 4)", f"received {bad} in y")

    check()


@PROPERTY
@given(kwargs=st.fixed_dictionaries({}, optional={
    "epochs": st.one_of(st.integers(-2, 2), st.floats(), st.text(max_size=2), st.booleans()),
    "batch_size": st.one_of(st.integers(-2, 3), st.floats(), st.text(max_size=2), st.booleans()),
    "verbose": st.one_of(st.integers(-2, 2), st.sampled_from(["auto", "x", "1", 1.0]), st.booleans()),
    "initial_epoch": st.one_of(st.integers(-2, 1), st.floats()),
    "validation_split": st.one_of(st.floats(), st.sampled_from(["0.2", None])),
    "shuffle": st.one_of(st.booleans(), st.sampled_from(["True", "False", None, 2])),
}))
def test_fit_arguments(model, kwargs):
    def ok(name, value):
        is_int = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
        return {"epochs": is_int and value >= 0, "batch_size": is_int and value >= 1,
                "verbose": (is_int and value >= 0) or isinstance(value, bool) or value == "auto",
                "initial_epoch": is_int and value >= 0,
                "validation_split": isinstance(value, float) and 0 <= value < 1 and int(4 * (1 - value)) in (1, 2, 3),
                "shuffle": isinstance(value, bool) or (type(value) is int and value in (0, 1))}[name]
    x, y = np.zeros((4, 2, F), np.float32), np.zeros((4, 1), np.float32)
    bad = [k for k, v in kwargs.items() if not ok(k, v)]
    call = lambda: model.fit(x, y, **{"verbose": 0, **kwargs})
    if not bad:
        history = call()
        assert len(history.history.get("loss", [])) == max(0, kwargs.get("epochs", 1) - kwargs.get("initial_epoch", 0))
        return
    with pytest.raises((ValueError, TypeError)) as err:
        call()
    assert any(k in str(err.value) for k in bad), str(err.value)
    assert_clear(err.value)


# -- generate and Stream -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def seq_model():
    torch.manual_seed(0)
    return Sequential([Input((None, F)), LSTM(3, return_sequences=True), Dense(F)])


HORIZONS = st.one_of(st.integers(1, 4), st.integers(1, 4).map(np.int64), st.integers(-3, 0), st.floats(),
                     st.text(max_size=2), st.booleans(), st.none())


@pytest.mark.parametrize("kind", KINDS)
@PER_KIND
@given(data=st.data(), horizon=HORIZONS)
def test_generate(seq_model, kind, data, horizon):
    case = data.draw(cases(kind))
    good_horizon = isinstance(horizon, (int, np.integer)) and not isinstance(horizon, bool) and horizon >= 1
    if not good_horizon:
        with pytest.raises(ValueError) as err:
            generate(seq_model, case.x, horizon)
        assert_clear(err.value, "horizon", repr(horizon))
        return
    # inference/ says "x has 3" for a feature mismatch, without a fix (todo=False there)
    expected = {"rank": (ValueError, [str(case.shape)]), "scalar": (ValueError, ["()"]),
                "features": (ValueError, [f"x has {case.shape[-1]}"] if case.shape else [])}.get(case.kind)
    if case.kind == "empty":
        expected = None if case.shape[0] == 0 else (
            ValueError, [str(case.shape)] if case.shape[-1] else ["x has 0"])
    elif case.kind in ("object", "text", "ragged"):
        expected = expect("call", case)
    if expected is None:
        out = generate(seq_model, case.x, horizon)
        assert out.shape == (case.shape[0], int(horizon), F)
        assert case.kind == "nan" or np.isfinite(out).all()
        return
    with pytest.raises(expected[0]) as err:
        generate(seq_model, case.x, horizon)
    assert_clear(err.value, *expected[1], todo="x has" not in "".join(expected[1]))


SERIES = 3
ROWS = st.one_of(st.none(), st.lists(st.integers(-2, SERIES + 1), max_size=4),
                 st.lists(st.booleans(), min_size=1, max_size=5), st.lists(st.floats(-1, 4), max_size=2))
RECTANGULAR = ("ok", "list", "ints", "bools", "nan", "rank", "features", "empty", "mismatch", "y-shape", "scalar")


def _rows_ok(rows) -> bool:
    if rows is None:
        return True
    if rows and all(isinstance(r, bool) for r in rows):
        return len(rows) == SERIES
    return all(float(r).is_integer() and 0 <= r < SERIES for r in rows) and len(set(rows)) == len(rows)


@pytest.mark.parametrize("kind", KINDS)
@PER_KIND
@given(data=st.data(), rows=ROWS, action=st.sampled_from(["step", "prime", "reset"]))
def test_stream(seq_model, kind, data, rows, action):
    case = data.draw(cases(kind))
    stream = Stream(seq_model, series=SERIES)
    if not _rows_ok(rows) and action in ("step", "reset"):
        with pytest.raises(ValueError) as err:
            stream.reset(rows) if action == "reset" else stream.step(np.zeros((len(rows), F), np.float32), rows=rows)
        assert_clear(err.value, "rows")
        return
    if action == "reset":
        stream.reset(rows)
        return
    x = case.x
    if action == "step" and case.kind in RECTANGULAR:  # one step: the first of each sequence
        arr = np.asarray(x)
        x = arr[:, 0] if arr.ndim == 3 and arr.shape[1] else arr
        x = x.tolist() if case.kind == "list" else x
    run = (lambda: stream.step(x, rows=rows)) if action == "step" else (lambda: stream.prime(x))
    if case.kind not in RECTANGULAR:
        with pytest.raises(TypeError) as err:
            run()
        assert_clear(err.value)
        return
    shape = np.shape(x)
    n = SERIES if rows is None else (sum(rows) if rows and all(isinstance(r, bool) for r in rows) else len(rows))
    if action == "step":
        fits = shape == (n, F)
    else:
        fits = len(shape) == 3 and shape[0] == SERIES and shape[1] > 0 and shape[2] == F
    if fits:
        out = run()
        assert out.shape == ((n if action == "step" else SERIES), F)
        assert case.kind == "nan" or np.isfinite(out).all()
        return
    with pytest.raises(ValueError) as err:
        run()
    assert_clear(err.value, str(tuple(shape)))


# -- windows --------------------------------------------------------------------------------------------------------
SERIES_KINDS = ["1d", "2d", "nan", "holes", "3d", "object", "text", "empty"]


@st.composite
def series(draw, kind: str):
    T = draw(st.integers(0, 12))
    if kind in ("1d", "nan", "holes"):
        s = _values(draw, (T,), "float64")
        if kind == "nan" and T:
            for k in draw(st.lists(st.integers(0, T - 1), min_size=1, max_size=3)):
                s[k] = np.nan
        if kind == "holes":  # a gap every few steps: nan='drop' may leave no window at all
            s[draw(st.integers(0, 2))::draw(st.integers(2, 4))] = draw(st.sampled_from([np.nan, np.inf]))
        return s
    if kind == "2d":
        return _values(draw, (T, draw(st.integers(1, 3))), "float64")
    if kind == "3d":
        return np.zeros((T, 2, 2))
    if kind == "object":
        return np.array([1.0, "a", None] * 2, dtype=object)
    if kind == "text":
        return np.array(["1", "2", "3", "4"])
    return np.zeros((0,))


@pytest.mark.parametrize("arg", ["look_back", "horizon", "stride"])
@PROPERTY
@given(value=st.one_of(VALID_SIZES, BAD_SIZES, st.none()))
def test_windows_sizes(arg, value):
    s = np.arange(30.0)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1:
        X, _ = windows(s, **{"look_back": 2, arg: value})
        assert len(X) >= 1
        return
    with pytest.raises(ArgumentError) as err:
        windows(s, **{"look_back": 2, arg: value})
    assert_clear(err.value, f"{arg} must be a positive integer", short(value))


@pytest.mark.parametrize("kind", SERIES_KINDS)
@settings(PROPERTY, max_examples=25)
@given(data=st.data(), look_back=st.integers(1, 4), horizon=st.integers(1, 3), stride=st.integers(1, 3),
       nan=st.sampled_from(["raise", "drop", "interpolate", "skip"]))
def test_windows(kind, data, look_back, horizon, stride, nan):
    s = data.draw(series(kind))
    call = lambda: windows(s, look_back, horizon=horizon, stride=stride, nan=nan)
    if nan == "skip":
        with pytest.raises(ValueError, match=r"nan must be one of .* received 'skip'"):
            call()
        return
    if kind in ("3d", "object", "text"):
        with pytest.raises(ValueError) as err:
            call()
        assert_clear(err.value, "received")
        return
    T = len(s)
    arr = s[:, None] if s.ndim == 1 else s
    bad_steps = ~np.isfinite(arr).all(axis=1)
    if bad_steps.any() and nan == "raise":  # the series is checked before it is cut
        with pytest.raises(ValueError) as err:
            call()
        assert_clear(err.value, "NaN or inf")
        return
    if bad_steps.any() and nan == "interpolate" and not np.isfinite(arr).any(axis=0).all():
        with pytest.raises(ValueError, match="no finite value to interpolate from"):
            call()
        return
    n = T - look_back - horizon + 1
    if n < 1:
        with pytest.raises(ValueError) as err:
            call()
        assert_clear(err.value, f"series has {T}")
        return
    starts = list(range(0, n, stride))
    if nan == "drop":
        starts = [i for i in starts if not bad_steps[i:i + look_back + horizon].any()]
        if not starts:
            with pytest.raises(ValueError) as err:
                call()
            assert_clear(err.value, "dropped all", "NaN or inf")
            return
    X, y = call()
    assert X.shape == (len(starts), look_back, arr.shape[1])
    assert np.isfinite(X).all() and np.isfinite(y).all()
    if not bad_steps.any():  # the windows are the series' own slices
        for k, i in enumerate(starts):
            np.testing.assert_array_equal(X[k], arr[i:i + look_back])
            target = arr[i + look_back:i + look_back + horizon]
            np.testing.assert_array_equal(y[k], target[0] if horizon == 1 else target)
