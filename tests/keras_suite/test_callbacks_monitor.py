"""EarlyStopping and ModelCheckpoint (the monitor, mode, baseline and save_best_only logic they share,
keras/src/callbacks/monitor_callback.py), ported from Keras 3's keras/src/callbacks/early_stopping_test.py
and model_checkpoint_test.py (github.com/keras-team/keras).
"""

import os

import numpy as np
import pytest

from rnnkit import Dense, Sequential, optimizers
from rnnkit.callbacks import EarlyStopping, LambdaCallback, ModelCheckpoint


# -- early_stopping_test.py ---------------------------------------------------------------------------------
def _two_relu(metrics=("mse",), optimizer="sgd"):
    model = Sequential([Dense(1, activation="relu"), Dense(1, activation="relu")])
    model.compile(loss="mae", optimizer=optimizer, metrics=list(metrics))
    return model


@pytest.mark.parametrize("mode, monitor, expected_mode", [
    ("max", "val_mse", "max"), ("min", "val_loss", "min"), ("auto", "val_mse", "min"), ("auto", "loss", "min"),
    ("auto", "acc", "max"), ("auto", "val_accuracy", "max"),
])  # Keras's "hinge" and "f1_score" cases: rnnkit has no such metrics
def test_early_stopping_mode(mode, monitor, expected_mode):
    rng = np.random.default_rng(0)
    model = _two_relu(metrics=("mse", "acc", "accuracy"), optimizer="adam")
    stopper = EarlyStopping(patience=0, monitor=monitor, mode=mode)
    model.fit(rng.random((10, 5)), rng.random((10, 1)), batch_size=5,
              validation_data=(rng.random((10, 5)), rng.random((10, 1))), callbacks=[stopper], epochs=2, verbose=0)
    assert stopper.monitor_op(1, 0) is (expected_mode == "max")


def test_early_stopping_unknown_monitor():
    rng = np.random.default_rng(0)
    model = _two_relu(optimizer="adam")
    with pytest.raises(ValueError, match="isn't able to automatically determine"):
        model.fit(rng.random((10, 5)), rng.random((10, 1)), batch_size=5, callbacks=[EarlyStopping(monitor="unknown")],
                  validation_data=(rng.random((10, 5)), rng.random((10, 1))), epochs=2, verbose=0)


class _Model:  # what EarlyStopping touches of a model
    metric_fns: list = []

    def __init__(self):
        self.stop_training = False
        self.weights = -1

    def get_weights(self):
        return self.weights

    def set_weights(self, weights):
        self.weights = weights


@pytest.mark.parametrize("patience", [0, 1, 2, 3])
def test_early_stopping_patience(patience):
    losses = [10.0, 9.0, 8.0, 9.0, 8.9, 8.8, 8.7, 8.6, 8.5]
    stopper = EarlyStopping(monitor="loss", patience=patience)
    stopper.set_model(_Model())
    stopper.on_train_begin()
    for epoch, loss in enumerate(losses):
        stopper.on_epoch_end(epoch=epoch, logs={"loss": loss})
        if stopper.model.stop_training:
            break
    assert stopper.stopped_epoch == max(patience, 1) + 2


def test_early_stopping_reuse():
    rng = np.random.default_rng(0)
    data = rng.random((100, 1))
    labels = np.where(data > 0.5, 1, 0)
    model = _two_relu()
    stopper = EarlyStopping(monitor="mse", patience=3)
    assert len(model.fit(data, labels, callbacks=[stopper], verbose=0, epochs=20).epoch) >= 3
    assert len(model.fit(data, labels, callbacks=[stopper], verbose=0, epochs=20).epoch) >= 3


def test_early_stopping_state_reset_across_fit_calls():
    stopper = EarlyStopping(monitor="loss", patience=3)
    stopper.set_model(_Model())
    stopper.on_train_begin()
    stopper.best, stopper.wait, stopper.stopped_epoch, stopper.best_epoch, stopper.best_weights = 0.1, 3, 5, 5, object()
    stopper.on_train_begin()
    assert stopper.best is None and stopper.wait == 0 and stopper.stopped_epoch == 0
    assert stopper.best_epoch == 0 and stopper.best_weights is None


def test_early_stopping_with_baseline():
    rng = np.random.default_rng(0)
    stopper = EarlyStopping(monitor="mse", patience=3, baseline=0.6)
    hist = _two_relu().fit(rng.random((10, 5)), rng.random((10, 1)), callbacks=[stopper], verbose=0, epochs=20)
    assert len(hist.epoch) >= 3


def _run_restoring(stopper, losses, stop_at=None) -> int:
    stopper.set_model(_Model())
    stopper.on_train_begin()
    trained = 0
    for epoch, loss in enumerate(losses):
        trained += 1
        stopper.model.weights = epoch
        stopper.on_epoch_end(epoch, logs={"val_loss": loss})
        if epoch == stop_at:
            stopper.model.stop_training = True
        if stopper.model.stop_training:
            break
    stopper.on_train_end()
    return trained


def test_early_stopping_final_weights_when_restoring_model_weights():
    stopper = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    _run_restoring(stopper, [0.2, 0.15, 0.1, 0.11, 0.12])
    assert stopper.model.get_weights() == 2  # the best epoch
    # no epoch beats the baseline: patience runs out after 5 epochs, and the best of them comes back
    stopper = EarlyStopping(monitor="val_loss", patience=5, baseline=0.5, restore_best_weights=True)
    assert _run_restoring(stopper, [0.9, 0.8, 0.7, 0.71, 0.72, 0.73]) == 5
    assert stopper.model.get_weights() == 2
    # another callback stops training: still restored
    stopper = EarlyStopping(monitor="val_loss", patience=5, baseline=0.5, restore_best_weights=True)
    assert _run_restoring(stopper, [0.9, 0.8, 0.7, 0.71, 0.72, 0.73], stop_at=3) == 4
    assert stopper.model.get_weights() == 2


def test_early_stopping_with_start_from_epoch():
    rng = np.random.default_rng(0)
    x, y = rng.random((10, 5)), rng.random((10, 1))
    model = _two_relu()
    history = model.fit(x, y, callbacks=[EarlyStopping(monitor="mse", patience=3, start_from_epoch=2)], verbose=0,
                        epochs=20)
    assert len(history.epoch) >= 3 + 2
    history = model.fit(x, y, callbacks=[EarlyStopping(monitor="mse", patience=0, start_from_epoch=2)], verbose=0,
                        epochs=20)
    assert len(history.epoch) >= 2


def test_early_stopping_restores_a_real_models_weights():  # beyond Keras's file: an rnnkit model
    rng = np.random.default_rng(0)
    x, y = rng.random((16, 5)), rng.random((16, 1))
    model = _two_relu(optimizer=optimizers.SGD(0.5))
    snapshots = []
    record = LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.append(
        [p.detach().clone() for p in model.parameters()]))
    # the loss that rises is "best" in max mode, so the weights restored are not the last ones
    stopper = EarlyStopping(monitor="loss", patience=10, mode="max", restore_best_weights=True)
    history = model.fit(x, y, epochs=4, callbacks=[record, stopper], verbose=0, shuffle=False)
    best = int(np.argmax(history.history["loss"]))
    assert stopper.best_epoch == best
    for restored, kept in zip(model.parameters(), snapshots[best]):
        np.testing.assert_array_equal(restored.detach().numpy(), kept.numpy())


# -- model_checkpoint_test.py (the monitor / mode / save_best_only cases) ----------------------------------
@pytest.mark.parametrize("mode, monitor", [("min", "val_loss"), ("max", "val_loss"), ("auto", "val_loss"),
                                           ("auto", "loss"), ("max", "val_mse")])
def test_model_checkpoint_save_best_only(tmp_path, mode, monitor):
    rng = np.random.default_rng(0)
    x, y = rng.random((20, 3)), rng.random((20, 1))
    model = Sequential([Dense(2, activation="relu"), Dense(1)])
    model.compile(loss="mse", optimizer=optimizers.SGD(0.1), metrics=["mse"])
    ckpt = ModelCheckpoint(tmp_path / "m-{epoch}.rnnkit", monitor=monitor, mode=mode, save_best_only=True)
    history = model.fit(x[:12], y[:12], validation_data=(x[12:], y[12:]), epochs=6, callbacks=[ckpt], verbose=0,
                        shuffle=False)
    values = history.history[monitor]
    better = np.less if mode != "max" else np.greater
    best, expected = None, []
    for epoch, value in enumerate(values):
        if best is None or better(value, best):
            best = value
            expected.append(str(tmp_path / f"m-{epoch + 1}.rnnkit"))
    assert ckpt.saved == expected and all(os.path.exists(p) for p in expected)


def test_model_checkpoint_initial_value_threshold(tmp_path):
    rng = np.random.default_rng(0)
    model = Sequential([Dense(1)])
    model.compile(loss="mse", optimizer="sgd")
    ckpt = ModelCheckpoint(tmp_path / "m.rnnkit", monitor="loss", save_best_only=True, initial_value_threshold=0.0)
    model.fit(rng.random((8, 3)), rng.random((8, 1)), epochs=3, callbacks=[ckpt], verbose=0)
    assert ckpt.saved == []  # no loss beats 0


def test_model_checkpoint_save_freq_in_batches(tmp_path):
    model = Sequential([Dense(1)])
    model.compile(loss="mse", optimizer="sgd")
    ckpt = ModelCheckpoint(tmp_path / "m-{epoch}-{batch}.rnnkit", monitor="loss", save_freq=3)
    model.fit(np.ones((10, 3)), np.ones((10, 1)), batch_size=2, epochs=2, callbacks=[ckpt], verbose=0)
    # batches seen: 5 per epoch; a save every 3rd -> after batch 3 of epoch 1, 1 and 4 of epoch 2
    assert [os.path.basename(p) for p in ckpt.saved] == ["m-1-3.rnnkit", "m-2-1.rnnkit", "m-2-4.rnnkit"]
    with pytest.raises(ValueError, match="Unrecognized save_freq"):
        ModelCheckpoint(tmp_path / "m.rnnkit", save_freq="often")
