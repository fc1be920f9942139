"""save/load: one file with config, weights, kept states, scaler and optimizer; atomic; corrupt files refused."""

import json
import os
import signal
import struct
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import (GRU, LSTM, Bidirectional, CheckpointError, Conv2D, Dense, Dropout, Embedding, Flatten,
                    Input, MaxPooling2D, ModelCheckpoint, RepeatVector, Sequential, SimpleRNN, TimeDistributed)
from rnnkit.data import Scaler
from rnnkit.models import Autoencoder, ManyToMany, ManyToOne, OneToMany, Seq2Seq


def _stateful_model():
    return Sequential([Input(batch_shape=(3, None, 2)), LSTM(5, return_sequences=True, stateful=True),
                       GRU(4, return_sequences=True, stateful=True), TimeDistributed(Dense(1))])


def test_stateful_model_resumes_in_a_new_process_exactly(tmp_path):
    model = _stateful_model()
    x = np.random.default_rng(0).normal(size=(3, 20, 2)).astype("float32")
    whole = model.predict(x[:, :20])
    model.reset_states()
    model.predict(x[:, :12])  # stop in the middle of the sequences, then save
    model.save(tmp_path / "m.rnnkit")
    np.save(tmp_path / "rest.npy", x[:, 12:])
    code = textwrap.dedent(f"""
        import numpy as np, rnnkit
        model = rnnkit.load({str(tmp_path / 'm.rnnkit')!r})
        np.save({str(tmp_path / 'out.npy')!r}, model.predict(np.load({str(tmp_path / 'rest.npy')!r})))
    """)
    subprocess.run([sys.executable, "-c", code], check=True)
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), whole[:, 12:], atol=1e-6)


_RNG = np.random.default_rng(1)
_TOKENS = np.array([[3, 1, 4, 1, 0, 0], [2, 7, 1, 8, 2, 8]])
_CASES = {
    "bidi-td": (lambda: Sequential([Input((6, 3)), Bidirectional(LSTM(4, return_sequences=True), merge_mode="ave"),
                                    SimpleRNN(3, return_sequences=True, activation="relu"), Dropout(0.2),
                                    TimeDistributed(Dense(2, activation="softmax"))]), _RNG.normal(size=(2, 6, 3))),
    "embedding-mask": (lambda: Sequential([Input((6,)), Embedding(10, 4, mask_zero=True), GRU(3, reset_after=False),
                                           Dense(1)]), _TOKENS),
    "conv-frames": (lambda: Sequential([Input((4, 8, 8, 1)), TimeDistributed(Conv2D(2, (3, 3), padding="same")),
                                        TimeDistributed(MaxPooling2D()), TimeDistributed(Flatten()), LSTM(3),
                                        Dense(2)]), _RNG.normal(size=(2, 4, 8, 8, 1))),
    "repeat": (lambda: Sequential([Input((5,)), RepeatVector(4), LSTM(3, return_sequences=True)]),
               _RNG.normal(size=(2, 5))),
    "many-to-one": (lambda: ManyToOne(features=3, units=[4, 3]), _RNG.normal(size=(2, 6, 3))),
    "many-to-many": (lambda: ManyToMany(features=3, units=4, outputs=2), _RNG.normal(size=(2, 6, 3))),
    "one-to-many": (lambda: OneToMany(features=3, horizon=4, units=5, outputs=3, mode="feedback"),
                    _RNG.normal(size=(2, 3))),
    "seq2seq": (lambda: Seq2Seq(features=3, horizon=4, units=[5, 5]), _RNG.normal(size=(2, 6, 3))),
    "autoencoder": (lambda: Autoencoder(features=3, time_steps=6, latent=2, units=[4]), _RNG.normal(size=(2, 6, 3))),
}


@pytest.mark.parametrize("case", list(_CASES))
def test_round_trip_predicts_the_same(tmp_path, case):
    make, x = _CASES[case]
    model = make()
    model.save(tmp_path / "m.rnnkit")
    loaded = rnnkit.load(tmp_path / "m.rnnkit")
    assert type(loaded) is type(model)
    assert loaded.count_params() == model.count_params()
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), atol=1e-6)


def test_optimizer_state_round_trip_continues_training_identically(tmp_path):
    x = np.random.default_rng(0).normal(size=(16, 5, 2)).astype("float32")
    y = x.sum(axis=(1, 2))[:, None]
    model = ManyToOne(features=2, units=6)
    model.compile(optimizer=rnnkit.optimizers.Adam(learning_rate=0.01), loss="mse", metrics=["mae"])
    model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    model.save(tmp_path / "m.rnnkit")
    loaded = rnnkit.load(tmp_path / "m.rnnkit")
    assert loaded.optimizer is not None and loaded.loss_name == model.loss_name == "mean_squared_error"
    a = model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0).history["loss"]
    b = loaded.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(a, b, rtol=1e-6)
    fresh_optimizer = rnnkit.load(tmp_path / "m.rnnkit")
    fresh_optimizer.compile(optimizer=rnnkit.optimizers.Adam(learning_rate=0.01), loss="mse")
    c = fresh_optimizer.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0).history["loss"]
    assert abs(c[-1] - a[-1]) > 1e-6  # Adam's moments matter, so the restored ones were used


def test_scaler_travels_with_the_model(tmp_path):
    scaler = Scaler().fit(np.array([[10.0], [30.0]]))
    ManyToOne(features=1, units=2).save(tmp_path / "m.rnnkit", scaler=scaler)
    loaded = rnnkit.load(tmp_path / "m.rnnkit")
    np.testing.assert_allclose(loaded.scaler.transform(np.array([[20.0]])), [[0.5]])


def test_a_failed_write_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "m.rnnkit"
    model = ManyToOne(features=1, units=3)
    model.save(path)
    before = path.read_bytes()
    with torch.no_grad():
        model.layers[0].cell.weight_ih.add_(1.0)

    def crash(*args):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.rnnkit"]  # no temporary file left behind


def test_kill_during_save_keeps_a_loadable_checkpoint(tmp_path):
    # A process saving a 16 MB model in a loop is killed with SIGKILL at an arbitrary moment: the file
    # at the path is always one complete checkpoint (version k for some k), never a torn one.
    path = tmp_path / "m.rnnkit"
    code = textwrap.dedent(f"""
        import torch, rnnkit, sys
        from rnnkit import Sequential, Input, Dense
        model = Sequential([Input((1000,)), Dense(4000)])
        for k in range(10000):
            with torch.no_grad():
                model.layers[0].bias.fill_(k)
            model.save({str(path)!r})
            if k == 0:
                print("first", flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "first"
    time.sleep(0.7)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    loaded = rnnkit.load(path)
    bias = loaded.layers[0].bias.detach()
    assert torch.all(bias == bias[0]) and bias[0] >= 0


def _corrupt(data: bytes, where: str) -> bytes:
    if where == "truncated-header":
        return data[:5]
    if where == "truncated-body":
        return data[: len(data) - 40]
    if where == "flipped-byte":
        b = bytearray(data)
        b[-3] ^= 0xFF
        return bytes(b)
    if where == "newer-version":
        (n,) = struct.unpack("<Q", data[:8])
        head = json.loads(data[8:8 + n])
        rn = json.loads(head["__metadata__"]["rnnkit"])
        rn["format_version"] = 99
        head["__metadata__"]["rnnkit"] = json.dumps(rn)
        new = json.dumps(head).encode()
        new += b" " * ((8 - len(new) % 8) % 8)
        return struct.pack("<Q", len(new)) + new + data[8 + n:]
    return b"PK\x03\x04 this is a zip, not a checkpoint" * 10


@pytest.mark.parametrize("where,message", [
    ("truncated-header", "truncated"), ("truncated-body", "truncated or corrupt"),
    ("flipped-byte", "corrupt"), ("newer-version", "format 99.*Upgrade rnnkit"),
    ("foreign", "truncated or not a safetensors"),
])
def test_damaged_files_are_refused_and_change_nothing(tmp_path, where, message):
    path = tmp_path / "m.rnnkit"
    ManyToOne(features=2, units=3).save(path)
    path.write_bytes(_corrupt(path.read_bytes(), where))
    with pytest.raises(CheckpointError, match=message):
        rnnkit.load(path)
    target = ManyToOne(features=2, units=3)
    before = {k: v.clone() for k, v in target.state_dict().items()}
    with pytest.raises(CheckpointError):
        target.load_weights(path)
    assert all(torch.equal(before[k], v) for k, v in target.state_dict().items())


def test_load_weights_of_another_shape_changes_nothing(tmp_path):
    ManyToOne(features=2, units=3).save(tmp_path / "small.rnnkit")
    target = ManyToOne(features=2, units=5)
    before = {k: v.clone() for k, v in target.state_dict().items()}
    with pytest.raises(ValueError, match="do not fit this model.*nothing was changed"):
        target.load_weights(tmp_path / "small.rnnkit")
    assert all(torch.equal(before[k], v) for k, v in target.state_dict().items())


def test_custom_activation_needs_custom_objects(tmp_path):
    def my_mish(x):  # not "mish", which is a Keras activation (saved and loaded by name, as in Keras)
        return x * torch.tanh(torch.nn.functional.softplus(x))
    model = Sequential([Input((3, 1)), LSTM(2), Dense(1, activation=my_mish)])
    model.save(tmp_path / "m.rnnkit")
    with pytest.raises(ValueError, match="custom_objects=\\{'my_mish': fn\\}"):
        rnnkit.load(tmp_path / "m.rnnkit")
    x = np.ones((1, 3, 1))
    loaded = rnnkit.load(tmp_path / "m.rnnkit", custom_objects={"my_mish": my_mish})
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), atol=1e-6)


def test_save_into_a_missing_folder_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ManyToOne(features=1, units=2).save(tmp_path / "nope" / "m.rnnkit")


# -- states as values ------------------------------------------------------------------------------
def test_select_states_continues_the_chosen_rows():
    model = _stateful_model()
    x = np.random.default_rng(2).normal(size=(3, 10, 2)).astype("float32")
    full = model.predict(x)
    model.reset_states()
    model.predict(x[:, :6])
    model.select_states([2, 0])
    part = model.predict(x[[2, 0], 6:])  # batch of 2 now, on a model declared with batch 3
    np.testing.assert_allclose(part, full[[2, 0], 6:], atol=1e-6)


def test_select_states_errors():
    model = _stateful_model()
    with pytest.raises(ValueError, match="no states are kept yet"):
        model.select_states([0])
    model.predict(np.zeros((3, 2, 2)))
    with pytest.raises(ValueError, match="out of range.*0..2"):
        model.select_states([5])


def test_resize_states_predicts_one_series_step_by_step_like_the_whole_sequence():
    # Trained (here: built) with batch 3; forecast one series one step at a time with batch 1.
    model = _stateful_model()
    x = np.random.default_rng(3).normal(size=(1, 8, 2)).astype("float32")
    model.resize_states(1)
    steps = np.concatenate([model.predict(x[:, t:t + 1]) for t in range(8)], axis=1)
    model.reset_states()
    np.testing.assert_allclose(steps, model.predict(x), atol=1e-6)
    assert model._fixed_batch_size() == 1


def test_preserve_states_peeks_without_advancing():
    model = _stateful_model()
    x = np.random.default_rng(4).normal(size=(3, 6, 2)).astype("float32")
    model.predict(x[:, :3])
    with model.preserve_states():
        model.predict(x[:, 3:])  # a peek at the future
    after_peek = model.predict(x[:, 3:])
    model.reset_states()
    np.testing.assert_allclose(after_peek, model.predict(x)[:, 3:], atol=1e-6)


def test_model_checkpoint_saves_only_improvements_and_the_best_file_scores_best(tmp_path):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(64, 5, 1)).astype("float32")
    y = x.sum(axis=1)
    model = ManyToOne(features=1, units=4)
    model.compile(optimizer=rnnkit.optimizers.Adam(learning_rate=0.05), loss="mse")
    ckpt = ModelCheckpoint(tmp_path / "best-{epoch:02d}.rnnkit", monitor="val_loss", save_best_only=True)
    history = model.fit(x[:48], y[:48], epochs=8, batch_size=16, validation_data=(x[48:], y[48:]),
                        callbacks=[ckpt], verbose=0, shuffle=False)
    val = history.history["val_loss"]
    improved = [e for e in range(len(val)) if val[e] < min(val[:e], default=np.inf)]
    assert [os.path.basename(p) for p in ckpt.saved] == [f"best-{e + 1:02d}.rnnkit" for e in improved]
    best = rnnkit.load(ckpt.saved[-1])
    assert best.evaluate(x[48:], y[48:]) == pytest.approx(min(val), rel=1e-5)


def test_model_checkpoint_names_missing_fields(tmp_path):
    model = ManyToOne(features=1, units=2)
    model.compile(loss="mse")
    with pytest.raises(ValueError, match="names a field fit does not log"):
        model.fit(np.zeros((4, 3, 1)), np.zeros((4, 1)), epochs=1, verbose=0,
                  callbacks=[ModelCheckpoint(tmp_path / "{val_acc}.rnnkit")])
