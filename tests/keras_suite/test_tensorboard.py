"""Keras 3's TensorBoard callback (keras/src/callbacks/tensorboard.py), written through PyTorch's
SummaryWriter and read back with TensorBoard's own EventAccumulator: Keras's directories and tags
(train/epoch_<log>, validation/epoch_<log> without val_, batch_<log> every update_freq batches at the
global batch number, evaluation_<log>_vs_iterations, <layer>/<weight>/histogram), each value equal to what
History recorded. Keras's own tensorboard_test.py reads TensorFlow summaries, which need TensorFlow; its
cases for profiling and embeddings are refused as Keras refuses profiling on torch (tested)."""

import numpy as np
import pytest
import torch

from rnnkit import LSTM, Dense, Input, Sequential
from rnnkit.callbacks import TensorBoard

accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def _read(folder):
    events = accumulator.EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0})
    events.Reload()
    scalars = {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}
    return scalars, events.Tags()["histograms"]


def _fit(tmp_path, **kwargs):
    torch.manual_seed(0)
    model = Sequential([Input((4, 2)), LSTM(3, name="lstm"), Dense(1, name="dense")])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 4, 2)).astype("float32"), rng.normal(size=(40, 1)).astype("float32")
    history = model.fit(x, y, batch_size=10, epochs=3, validation_data=(x[:20], y[:20]), verbose=0,
                        callbacks=[TensorBoard(tmp_path, **kwargs)])
    return history.history


def test_epoch_logs_go_where_keras_puts_them_with_the_values_history_has(tmp_path):
    history = _fit(tmp_path)
    train, _ = _read(tmp_path / "train")
    validation, _ = _read(tmp_path / "validation")
    for name in ("loss", "mae"):
        assert [s for s, _ in train[f"epoch_{name}"]] == [0, 1, 2]
        np.testing.assert_allclose([v for _, v in train[f"epoch_{name}"]], history[name], rtol=1e-6)
        np.testing.assert_allclose([v for _, v in validation[f"epoch_{name}"]], history[f"val_{name}"], rtol=1e-6)
    np.testing.assert_allclose([v for _, v in train["epoch_learning_rate"]], [0.001] * 3, rtol=1e-6)
    # after each validation run: evaluation_<log>_vs_iterations at the optimizer's step (4 batches an epoch)
    assert [s for s, _ in validation["evaluation_loss_vs_iterations"]] == [4, 8, 12]
    np.testing.assert_allclose([v for _, v in validation["evaluation_loss_vs_iterations"]], history["val_loss"],
                               rtol=1e-6)
    assert not any(tag.startswith("batch_") for tag in train)  # update_freq="epoch": no batch logs


def test_batch_logs_every_update_freq_batches_at_the_global_batch(tmp_path):
    _fit(tmp_path, update_freq=3)
    train, _ = _read(tmp_path / "train")
    assert [s for s, _ in train["batch_loss"]] == [3, 6, 9, 12]  # 12 batches over 3 epochs
    _fit(tmp_path / "every", update_freq="batch", write_steps_per_second=True)
    train, _ = _read(tmp_path / "every" / "train")
    assert [s for s, _ in train["batch_loss"]] == list(range(1, 13))
    assert all(v > 0 for _, v in train["batch_steps_per_second"]) and len(train["epoch_steps_per_second"]) == 3


def test_weight_histograms_every_histogram_freq_epochs(tmp_path):
    _fit(tmp_path, histogram_freq=2)
    events = accumulator.EventAccumulator(str(tmp_path / "train"), size_guidance={"histograms": 0})
    events.Reload()
    tags = events.Tags()["histograms"]
    assert "dense/weight/histogram" in tags and any(t.startswith("lstm/") for t in tags)
    assert [e.step for e in events.Histograms("dense/weight/histogram")] == [0, 2]


@pytest.mark.parametrize("kwargs,message", [
    ({"profile_batch": 2}, "Profiling is not available with the PyTorch backend"),
    ({"embeddings_freq": 1}, "embeddings_freq=1"),
    ({"update_freq": 0}, "update_freq must be 'epoch', 'batch' or a positive integer"),
    ({"histogram_freq": -1}, "histogram_freq must be an integer >= 0"),
])
def test_bad_arguments_say_what_to_pass(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        TensorBoard(tmp_path, **kwargs)
