"""How fit calls callbacks, as Keras 3's trainer and CallbackList do (keras/src/backend/torch/trainer.py
`fit`, keras/src/callbacks/callback_list.py): every hook gets a logs dict, the user's callbacks run
before History (so History records what they add to the logs), `set_params` comes first, on_train_end
gets the last epoch's logs, and a callback that stops training mid-epoch ends that epoch there."""

import numpy as np

from rnnkit import Dense, Input, Sequential, optimizers
from rnnkit.callbacks import Callback


class Recorder(Callback):
    def __init__(self):
        self.calls = []

    def on_train_begin(self, logs=None):
        self.calls.append(("train_begin", logs))

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(("epoch_begin", epoch, logs))

    def on_train_batch_begin(self, batch, logs=None):
        self.calls.append(("batch_begin", batch, logs))

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(("batch_end", batch, dict(logs)))

    def on_epoch_end(self, epoch, logs=None):
        logs["extra"] = 10.0 + epoch  # History, called after, records it
        self.calls.append(("epoch_end", epoch, dict(logs)))

    def on_train_end(self, logs=None):
        self.calls.append(("train_end", dict(logs)))


def _model():
    model = Sequential([Input((2,)), Dense(1)])
    model.compile(optimizer=optimizers.SGD(0.01), loss="mse")
    return model


def test_hooks_get_keras_arguments_and_history_records_what_callbacks_log():
    recorder = Recorder()
    history = _model().fit(np.ones((4, 2)), np.ones((4, 1)), batch_size=2, epochs=2, callbacks=[recorder],
                           verbose=0)
    kinds = [c[0] for c in recorder.calls]
    assert kinds == ["train_begin"] + ["epoch_begin", "batch_begin", "batch_end", "batch_begin", "batch_end",
                                       "epoch_end"] * 2 + ["train_end"]
    assert recorder.calls[0] == ("train_begin", {}) and recorder.calls[1] == ("epoch_begin", 0, {})
    assert set(recorder.calls[3][2]) == {"loss"}
    assert history.history["extra"] == [10.0, 11.0]
    assert recorder.calls[-1][1] == recorder.calls[-2][2]  # on_train_end: the last epoch's logs
    assert recorder.params == {"epochs": 2, "steps": 2, "batch_size": 2, "verbose": 0}
    assert history.epoch == [0, 1]


def test_stop_training_in_a_batch_ends_the_epoch_there():
    class StopAtSecondBatch(Callback):
        batches = 0

        def on_train_batch_end(self, batch, logs=None):
            self.batches += 1
            if batch == 1:
                self.model.stop_training = True

    stopper = StopAtSecondBatch()
    history = _model().fit(np.ones((8, 2)), np.ones((8, 1)), batch_size=2, epochs=3, callbacks=[stopper], verbose=0)
    assert stopper.batches == 2 and len(history.history["loss"]) == 1
