"""`compile(..., jit_compile=True)` on a model whose output carries a Keras mask (Embedding(mask_zero=True)
or Masking upstream): the compiled step traces the masked recurrence and trains exactly as the eager one.

It used to fall back to the eager step with "Cannot access data pointer of Tensor that doesn't have
storage": value-dependent branches in the forward (the RNN's `bool(mask.all())`, Embedding's id range
check) cannot be traced inside torch.func.grad_and_value, so torch.compile ran the whole step eagerly
under the gradient transform, where the RNN took the fused kernel on packed sequences, whose C++ code
reads the storage of functorch's wrapper tensors. torch.compile also runs the step eagerly under the
transform once a process has used up dynamo's recompile limit for it (8 variants: batch shapes, dtypes, models), so the
masked recurrence must differentiate under torch.func too.
"""

import shutil

import numpy as np
import pytest
import torch
from torch.func import functional_call, grad_and_value

import rnnkit
from rnnkit.cells import penalties as penalties_module
from rnnkit import losses
from rnnkit.layers import GRU, LSTM, Dense, Embedding, Masking, TimeDistributed

needs_compiler = pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None,
                                    reason="torch.compile needs a C++ compiler on CPU")

LENGTHS = [6, 5, 4, 3, 2, 1, 6, 3]  # 8 rows: two batches of 4, one batch shape, one compile


def _embedding_lstm():
    return rnnkit.Sequential([rnnkit.Input((6,)), Embedding(10, 4, mask_zero=True), LSTM(8, return_sequences=True),
                              TimeDistributed(Dense(3, activation="softmax"))])


def _masking_gru():
    return rnnkit.Sequential([rnnkit.Input((6, 3)), Masking(0.0), GRU(4, return_sequences=True),
                              Dense(3, activation="softmax")])


def _data():
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 10, size=(len(LENGTHS), 6))
    for i, n in enumerate(LENGTHS):
        ids[i, n:] = 0  # right-padded with 0, the padding id
    frames = rng.normal(size=(len(LENGTHS), 6, 3)).astype("float32") * (ids[..., None] != 0)
    return {"ids": ids, "frames": frames, "y": rng.integers(0, 3, size=(len(LENGTHS), 6)),
            "sample_weight": rng.uniform(0.2, 2.0, size=len(LENGTHS)).astype("float32")}


MODELS = {"embedding_lstm_timedistributed": (_embedding_lstm, "ids"), "masking_gru": (_masking_gru, "frames")}


def _fit_and_evaluate(build, x, y, sample_weight, jit: bool):
    torch.manual_seed(0)
    model = build()
    model.compile(rnnkit.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"],
                  weighted_metrics=["accuracy"], jit_compile=jit)
    history = model.fit(x, y, sample_weight=sample_weight, epochs=2, batch_size=4, shuffle=False, verbose=0).history
    logs = model.evaluate(x, y, sample_weight=sample_weight, batch_size=4, verbose=0, return_dict=True)
    return model, history, logs


@needs_compiler
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "per_sample_weights"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_masked_model_trains_compiled_as_eager(name, weighted):
    build, x_key = MODELS[name]
    d = _data()
    x, sw = d[x_key], (d["sample_weight"] if weighted else None)
    _, h_eager, e_eager = _fit_and_evaluate(build, x, d["y"], sw, jit=False)
    model, h_jit, e_jit = _fit_and_evaluate(build, x, d["y"], sw, jit=True)
    step = model._train_function
    assert step.fallback is None, step.fallback  # compiled, not the eager step's numbers again
    assert step.compiled_calls == 4  # 2 epochs of 2 batches
    assert set(h_jit) == set(h_eager) and len(h_jit["loss"]) == 2
    for key in h_eager:
        np.testing.assert_allclose(h_jit[key], h_eager[key], rtol=1e-5, err_msg=key)
    assert set(e_jit) == set(e_eager)
    for key in e_eager:
        np.testing.assert_allclose(e_jit[key], e_eager[key], rtol=1e-5, err_msg=key)


def test_per_sample_weights_weigh_every_valid_step_of_their_sample():
    # 3 samples of 3 steps: a (B,) weight must not be broadcast against the time axis
    mask = torch.tensor([[True, True, False], [True, False, False], [True, True, True]])
    weights = torch.tensor([1.0, 2.0, 3.0])
    per_valid = mask.numel() / mask.sum()  # "sum_over_batch_size": a valid step weighs total / valid
    expected = weights[:, None] * mask * per_valid
    torch.testing.assert_close(losses.apply_mask(weights, mask), expected)
    torch.testing.assert_close(losses.apply_mask(weights, mask, "sum"), weights[:, None] * mask)


def _model_and_loss(name):
    """A masked model and its training loss as a function of its weights, at those weights."""
    build, x_key = MODELS[name]
    d = _data()
    torch.manual_seed(0)
    model = build()
    model.compile("sgd", "sparse_categorical_crossentropy")
    x, y = torch.as_tensor(d[x_key]), torch.as_tensor(d["y"])

    def loss(p):
        return model.compute_loss(x, y, functional_call(model, p, (x,), {"training": True}))

    return model, x, y, loss, {k: p.detach() for k, p in model.named_parameters()}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_masked_model_differentiates_under_torch_func_as_under_autograd(name):
    model, x, y, loss, params = _model_and_loss(name)
    grads, value = grad_and_value(loss)(params)  # raised "Cannot access data pointer ..." (packed kernel)
    expected = model.compute_loss(x, y, model(x, training=True))
    expected.backward()
    torch.testing.assert_close(value, expected.detach())
    for k, p in model.named_parameters():
        torch.testing.assert_close(grads[k], p.grad, rtol=1e-5, atol=1e-6, msg=k)


@pytest.mark.parametrize("penalties", [False, True], ids=["no-penalties", "penalties-in-process"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_masked_models_gradient_traces_as_one_graph(name, penalties, monkeypatch):
    # no value-dependent branch (a graph break) in the masked forward and loss: fullgraph refuses one. Once any
    # layer in the process had a regularizer, the loss also walks the model's layers for activity penalties
    # (CI failed there: max(genexpr, default=None) does not trace), so both process states are checked
    monkeypatch.setattr(penalties_module, "_IN_USE", [penalties])
    _, _, _, loss, params = _model_and_loss(name)
    traced = torch.compile(lambda p: grad_and_value(loss)(p), fullgraph=True, backend="eager")
    grads, value = traced(params)
    expected_grads, expected = grad_and_value(loss)(params)
    torch.testing.assert_close(value, expected)
    for k in params:
        torch.testing.assert_close(grads[k], expected_grads[k], rtol=1e-5, atol=1e-6, msg=k)


@needs_compiler
@pytest.mark.parametrize("bad_id, error", [(12, "ids must be in"), (3.5, "expects integer ids")])
def test_a_bad_id_in_a_compiled_step_raises_the_eager_error(bad_id, error):
    # Embedding checks its ids inside the graph (an assert, not a branch on their values); its failure sends
    # the batch to the eager step, whose check raises
    ids = _data()["ids"].astype("float32")
    ids[1, 2] = bad_id
    model = _embedding_lstm()
    model.compile("adam", "sparse_categorical_crossentropy", jit_compile=True)
    with pytest.warns(RuntimeWarning, match="trains eagerly instead"), pytest.raises(ValueError, match=error):
        model.fit(ids, _data()["y"], batch_size=4, epochs=1, shuffle=False, verbose=0)
