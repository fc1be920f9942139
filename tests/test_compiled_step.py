"""`compile(..., jit_compile=True)`: the compiled train step must train exactly as the eager one."""

import shutil

import numpy as np
import pytest
import torch

from rnnkit import GRU, LSTM, Dense, Input, ResetStates, Sequential, TimeDistributed, optimizers
from rnnkit.training import compiled as compiled_step

needs_compiler = pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None,
                                    reason="torch.compile needs a C++ compiler on CPU")


def _fit(build, x, y, jit: bool, **fit_kwargs):
    torch.manual_seed(0)
    model = build()
    model.compile(optimizers.Adam(learning_rate=0.01, clipnorm=fit_kwargs.pop("clipnorm", None)), "mse",
                  metrics=fit_kwargs.pop("metrics", None), jit_compile=jit)
    history = model.fit(x, y, verbose=0, shuffle=False, **fit_kwargs)
    return model, history.history


def _airline():
    return Sequential([Input((3, 1), batch_size=1), LSTM(4, stateful=True), Dense(1)])


@needs_compiler
def test_stateful_batch_one_trains_as_eager_and_carries_the_states():
    rng = np.random.default_rng(0)
    x, y = rng.random((12, 3, 1), dtype=np.float32), rng.random((12, 1), dtype=np.float32)
    eager, h_eager = _fit(_airline, x, y, jit=False, batch_size=1, epochs=3, callbacks=[ResetStates()])
    jit, h_jit = _fit(_airline, x, y, jit=True, batch_size=1, epochs=2)  # no reset: states run on
    assert jit._train_function.compiled_calls == 24 and jit._train_function.fallback is None
    # the same two epochs without the reset, eagerly
    _, h_eager2 = _fit(_airline, x, y, jit=False, batch_size=1, epochs=2)
    np.testing.assert_allclose(h_jit["loss"], h_eager2["loss"], rtol=1e-5)
    assert abs(h_eager2["loss"][1] - h_eager["loss"][1]) > 1e-6  # the states carried over epoch 1 matter
    eager2, _ = _fit(_airline, x, y, jit=False, batch_size=1, epochs=2)
    for a, b in zip(jit.parameters(), eager2.parameters()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-6)
    for a, b in zip(jit.layers[0].states, eager2.layers[0].states):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)
    assert not jit.layers[0].states[0].requires_grad
    # Adam's update ran inside the graph, and left torch's own optimizer state: moments and step count
    assert all(p.grad is None for p in jit.parameters())
    state_jit, state_eager = jit.optimizer.state_dict()["state"], eager2.optimizer.state_dict()["state"]
    assert state_jit.keys() == state_eager.keys()
    for k in state_jit:
        for key in ("step", "exp_avg", "exp_avg_sq"):
            want = state_eager[k][key].numpy()
            np.testing.assert_allclose(state_jit[k][key].numpy(), want, rtol=1e-4, atol=1e-4 * np.abs(want).max())
    # so the eager step carries on from it exactly as from its own
    jit.compile(jit.optimizer, "mse")
    more_jit = jit.fit(x, y, batch_size=1, epochs=1, shuffle=False, verbose=0).history["loss"]
    more_eager = eager2.fit(x, y, batch_size=1, epochs=1, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(more_jit, more_eager, rtol=1e-5)


def _stack():
    return Sequential([Input((6, 2)), TimeDistributed(Dense(5)), GRU(6, return_sequences=True), LSTM(3), Dense(2)])


@needs_compiler
def test_stateless_stack_with_a_short_last_batch_metrics_and_clipnorm_equals_eager():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(10, 6, 2)).astype(np.float32), rng.normal(size=(10, 2)).astype(np.float32)
    kwargs = dict(batch_size=4, epochs=2, metrics=["mae"], clipnorm=0.5)  # batches of 4, 4 and 2
    eager, h_eager = _fit(_stack, x, y, jit=False, **dict(kwargs))
    jit, h_jit = _fit(_stack, x, y, jit=True, **dict(kwargs))
    assert jit._train_function.compiled_calls == 6
    for key in ("loss", "mae"):
        np.testing.assert_allclose(h_jit[key], h_eager[key], rtol=1e-5)
    for a, b in zip(jit.parameters(), eager.parameters()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(jit.predict(x), eager.predict(x), atol=1e-5)


def test_long_sequences_fall_back_to_the_eager_step_with_a_warning(monkeypatch):
    monkeypatch.setattr(compiled_step, "MAX_UNROLL", 2)
    rng = np.random.default_rng(2)
    x, y = rng.random((4, 3, 1), dtype=np.float32), rng.random((4, 1), dtype=np.float32)
    _, h_eager = _fit(_airline, x, y, jit=False, batch_size=1, epochs=1)
    with pytest.warns(RuntimeWarning, match="3 time steps.*unrolls at most 2"):
        jit, h_jit = _fit(_airline, x, y, jit=True, batch_size=1, epochs=1)
    assert jit._train_function.compiled_calls == 0
    np.testing.assert_allclose(h_jit["loss"], h_eager["loss"], rtol=1e-6)


def test_jit_compile_takes_true_false_or_auto():
    model = _airline()
    with pytest.raises(ValueError, match="jit_compile must be True, False or 'auto', received 'yes'"):
        model.compile("adam", "mse", jit_compile="yes")
    model.compile("adam", "mse", jit_compile="auto")
    assert model.jit_compile is False


@pytest.mark.parametrize("jit", [True, False])
def test_jit_compile_is_saved_with_the_compile_settings(tmp_path, jit):
    import rnnkit
    model = _airline()
    model.compile("adam", "mse", jit_compile=jit)
    model.save(tmp_path / "m.rnnkit")
    assert rnnkit.load(tmp_path / "m.rnnkit").jit_compile is jit


def test_a_stateful_layer_inside_a_wrapper_trains_eagerly_with_a_warning():
    from rnnkit import Bidirectional
    rng = np.random.default_rng(3)
    x, y = rng.random((4, 3, 1), dtype=np.float32), rng.random((4, 1), dtype=np.float32)

    def build():
        return Sequential([Input((3, 1), batch_size=2), Bidirectional(LSTM(2, stateful=True)), Dense(1)])

    _, h_eager = _fit(build, x, y, jit=False, batch_size=2, epochs=1)
    with pytest.warns(RuntimeWarning, match="stateful layers are not top-level layers of a Sequential"):
        jit, h_jit = _fit(build, x, y, jit=True, batch_size=2, epochs=1)
    assert jit._train_function.compiled_calls == 0
    np.testing.assert_allclose(h_jit["loss"], h_eager["loss"], rtol=1e-6)


@needs_compiler
def test_a_functional_model_with_two_inputs_trains_as_eager():
    from rnnkit import Model, concatenate
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(8, 4, 2)).astype(np.float32), rng.normal(size=(8, 3, 1)).astype(np.float32)
    y = rng.normal(size=(8, 1)).astype(np.float32)

    def build():
        ia, ib = Input((4, 2)), Input((3, 1))
        return Model([ia, ib], Dense(1)(concatenate([LSTM(5)(ia), LSTM(3)(ib)])))

    eager, h_eager = _fit(build, [a, b], y, jit=False, batch_size=4, epochs=2)
    jit, h_jit = _fit(build, [a, b], y, jit=True, batch_size=4, epochs=2)
    assert jit._train_function.compiled_calls == 4
    np.testing.assert_allclose(h_jit["loss"], h_eager["loss"], rtol=1e-5)
    np.testing.assert_allclose(jit.predict([a, b]), eager.predict([a, b]), atol=1e-5)
