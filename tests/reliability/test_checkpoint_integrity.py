"""Checkpoints are tamper-evident and written safely: any changed byte is refused, a planted symlink is
never followed, a re-saved file keeps its mode, killed saves leave no temporary files behind."""

import json
import os
import re
import signal
import stat
import struct
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest
import torch
from safetensors.torch import save as st_save

import rnnkit
from rnnkit import GRU, LSTM, CheckpointError, Dense, Input, Sequential, TimeDistributed
from rnnkit.data import Scaler
from rnnkit.io import checkpoint


def _trained_stateful_model():
    """A stateful model with kept states, a scaler and optimizer state: every part of the header."""
    torch.manual_seed(0)
    model = Sequential([Input(batch_shape=(2, None, 2)), LSTM(3, return_sequences=True, stateful=True),
                        GRU(2, return_sequences=True, stateful=True), TimeDistributed(Dense(1))])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x = np.random.default_rng(0).normal(size=(2, 4, 2)).astype("float32")
    model.train_on_batch(x, x[..., :1])
    model.scaler = Scaler().fit(np.arange(10.0).reshape(-1, 1))
    return model


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "m.rnnkit"
    _trained_stateful_model().save(path)
    return path.read_bytes()


def _header_size(data: bytes) -> int:
    return struct.unpack("<Q", data[:8])[0]


def test_the_saved_file_is_plain_safetensors_with_a_digest(saved):
    # What the flip test below relies on: the digest is in the header and the header holds every part.
    header = json.loads(saved[8:8 + _header_size(saved)])["__metadata__"]
    assert re.fullmatch("[0-9a-f]{64}", header[checkpoint.DIGEST_KEY])
    rn = json.loads(header["rnnkit"])
    assert rn["format_version"] == checkpoint.FORMAT_VERSION and rn["scaler"] and rn["optimizer"]
    assert rn["state_keys"]


def test_every_single_byte_flip_is_refused(saved, tmp_path):
    # All bytes of the file, the 8-byte length, the safetensors JSON, rnnkit's header (scaler, optimizer,
    # input spec) and the tensor data: one flipped bit anywhere must be refused, never loaded changed.
    # Header bytes also get a second flip that turns a space into a tab/newline-like byte or a digit into
    # another digit, the changes a JSON parser reads without complaint.
    rng = np.random.default_rng(1)
    size = 8 + _header_size(saved)
    positions = list(range(len(saved)))
    path = tmp_path / "m.rnnkit"
    accepted = []
    for i in positions:
        masks = [0x01] if i >= size else [0x01, int(rng.integers(2, 256))]
        for mask in masks:
            damaged = bytearray(saved)
            damaged[i] ^= mask
            path.write_bytes(bytes(damaged))
            try:
                rnnkit.load(path)
            except CheckpointError:
                continue
            accepted.append((i, mask))
    assert accepted == [], f"{len(accepted)} flips loaded without an error, first {accepted[:5]}"
    assert len(positions) > 4000  # the header alone is several kilobytes


def test_the_untouched_file_loads(saved, tmp_path):
    path = tmp_path / "m.rnnkit"
    path.write_bytes(saved)
    model = rnnkit.load(path)
    assert model.scaler is not None and model.optimizer_built


def _sealed_file(path, rnnkit_header: str, tensors=None, digest: bool = True):
    """A file with a correct digest over hand-made content: the integrity check passes, the content is hostile."""
    tensors = tensors if tensors is not None else {"weights/x": torch.zeros(1)}
    meta = {"rnnkit": rnnkit_header}
    if digest:
        meta[checkpoint.DIGEST_KEY] = "0" * 64
    data = st_save(tensors, meta)
    path.write_bytes(checkpoint._sealed(data) if digest else data)


@pytest.mark.parametrize("header,message", [
    ("[1, 2, 3]", "not an rnnkit checkpoint"),
    ('"just a string"', "not an rnnkit checkpoint"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    (json.dumps({"format": "rnnkit", "format_version": 3}), "'model' should be an object"),
    (json.dumps({"format": "rnnkit", "format_version": 3, "model": {"class_name": 7}}), "class_name"),
    (json.dumps({"format": "rnnkit", "format_version": 3, "model": {"class_name": "Sequential", "config": []}}),
     "'model.config' should be an object"),
    (json.dumps({"format": "rnnkit", "format_version": 3, "model": {"class_name": "Sequential", "config": {}},
                 "scaler": [1]}), "'scaler' should be an object"),
    (json.dumps({"format": "rnnkit", "format_version": 3,
                 "model": {"class_name": "Sequential", "config": {"layers": [{"class_name": "LSTM"}]}}}),
     "cannot be rebuilt"),
    (json.dumps({"format": "rnnkit", "format_version": True, "model": {}}), "no valid rnnkit format header"),
], ids=["list", "string", "nested-100000", "no-model", "class-name-int", "config-list", "scaler-list",
        "layer-without-config", "version-bool"])
def test_hand_made_headers_with_a_valid_digest_get_clear_errors(tmp_path, header, message):
    path = tmp_path / "m.rnnkit"
    _sealed_file(path, header)
    with pytest.raises(CheckpointError, match=message):
        rnnkit.load(path)


def test_an_outer_header_nested_100000_deep_is_refused_clearly(tmp_path):
    head = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    path = tmp_path / "m.rnnkit"
    path.write_bytes(struct.pack("<Q", len(head)) + head)
    with pytest.raises(CheckpointError, match="nested too deeply"):
        rnnkit.load(path)


def test_a_format_3_file_without_its_digest_is_refused(tmp_path):
    model = Sequential([Input((3, 1)), LSTM(2)])
    header = json.dumps({"format": "rnnkit", "format_version": 3, "model": checkpoint.model_config(model)})
    path = tmp_path / "m.rnnkit"
    _sealed_file(path, header, {f"weights/{k}": v.clone() for k, v in model.state_dict().items()}, digest=False)
    with pytest.raises(CheckpointError, match="digest"):
        rnnkit.load(path)


def test_files_of_format_2_still_load_and_are_checked_by_their_tensor_checksum(tmp_path):
    model = Sequential([Input((3, 1)), LSTM(2), Dense(1)])
    tensors = {f"weights/{k}": v.detach().clone() for k, v in model.state_dict().items()}
    header = {"format": "rnnkit", "format_version": 2, "model": checkpoint.model_config(model), "compile": None,
              "scaler": None, "state_keys": {}, "checksum": checkpoint._checksum(tensors)}
    path = tmp_path / "old.rnnkit"
    _sealed_file(path, json.dumps(header), tensors, digest=False)
    x = np.ones((2, 3, 1), "float32")
    np.testing.assert_allclose(rnnkit.load(path).predict(x), model.predict(x), atol=1e-6)
    data = bytearray(path.read_bytes())
    data[-2] ^= 0x10
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="checksum"):
        rnnkit.load(path)


# -- safe writes -------------------------------------------------------------------------------------
def test_save_never_follows_a_symlink_planted_at_the_temporary_name(tmp_path, monkeypatch):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    path = tmp_path / "m.rnnkit"
    guesses = iter(["0123456789abcdef", "fedcba9876543210"])
    monkeypatch.setattr(checkpoint.secrets, "token_hex", lambda n: next(guesses))
    planted = tmp_path / f".m.rnnkit.{os.getpid()}.0123456789abcdef.tmp"
    planted.symlink_to(victim)
    old_name = tmp_path / f".m.rnnkit.{os.getpid()}.tmp"  # the name earlier versions used
    old_name.symlink_to(victim)
    model = Sequential([Input((3, 1)), LSTM(2)])
    model.save(path)
    assert victim.read_text() == "precious"
    assert planted.is_symlink() and old_name.is_symlink()  # left alone: this process is alive
    x = np.ones((1, 3, 1), "float32")
    np.testing.assert_allclose(rnnkit.load(path).predict(x), model.predict(x))


def test_saving_replaces_a_symlink_at_the_target_instead_of_writing_through_it(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    path = tmp_path / "m.rnnkit"
    path.symlink_to(victim)
    Sequential([Input((3, 1)), LSTM(2)]).save(path)
    assert victim.read_text() == "precious" and not path.is_symlink()


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
def test_re_saving_keeps_the_file_mode_and_a_new_file_gets_the_umask_mode(tmp_path):
    path = tmp_path / "m.rnnkit"
    model = Sequential([Input((3, 1)), LSTM(2)])
    old = os.umask(0o022)
    try:
        model.save(path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o644  # like open(): 0o666 less the umask
        path.chmod(0o600)
        model.save(path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        path.chmod(0o640)
        model.save_weights(path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    finally:
        os.umask(old)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_temporary_files_of_dead_saves_are_removed_and_live_ones_kept(tmp_path):
    path = tmp_path / "m.rnnkit"
    dead = tmp_path / f".m.rnnkit.{_dead_pid()}.00112233aabbccdd.tmp"
    dead.write_bytes(b"x" * 1000)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = tmp_path / f".m.rnnkit.{sleeper.pid}.00112233aabbccdd.tmp"
        live.write_bytes(b"y")
        other = tmp_path / f".other.rnnkit.{_dead_pid()}.00112233aabbccdd.tmp"  # another file's temp: not ours
        other.write_bytes(b"z")
        Sequential([Input((3, 1)), LSTM(2)]).save(path)
        assert not dead.exists()
        assert live.exists() and other.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.mark.parametrize("bad,error,message", [
    ("", ValueError, "path is empty"),
    (".", IsADirectoryError, "is a folder"),
    (None, TypeError, "must be a str or a pathlib.Path"),
])
def test_saving_onto_a_folder_or_an_empty_path_says_so(tmp_path, monkeypatch, bad, error, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error, match=message):
        Sequential([Input((3, 1)), LSTM(2)]).save(bad)
    assert list(tmp_path.iterdir()) == []


def test_loading_a_folder_says_so(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder"):
        rnnkit.load(tmp_path)


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="root reads and writes everything")
def test_unwritable_folder_and_unreadable_file_name_the_target_not_a_hidden_temp(tmp_path):
    model = Sequential([Input((3, 1)), LSTM(2)])
    path = tmp_path / "m.rnnkit"
    model.save(path)
    path.chmod(0)
    with pytest.raises(PermissionError, match=r"Cannot read '.*m\.rnnkit'"):
        rnnkit.load(path)
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(PermissionError) as info:
            model.save(folder / "m.rnnkit")
        assert ".tmp" not in str(info.value) and "m.rnnkit" in str(info.value)
    finally:
        folder.chmod(0o700)


@pytest.mark.slow
def test_sigkill_at_random_moments_never_tears_a_checkpoint_and_leaves_no_temp_behind(tmp_path):
    # A process saving a 16 MB model in a loop is killed with SIGKILL 12 times: at random moments, and
    # (every third kill) at the moment its temporary file is complete but not yet renamed, so a kill
    # mid-write happens however fast the machine's disk is. The file at the path is always one complete
    # checkpoint (version k for some k), and the next save removes every temporary file the killed ones left.
    path = tmp_path / "m.rnnkit"
    code = textwrap.dedent(f"""
        import os, time, torch, rnnkit
        from rnnkit import Sequential, Input, Dense
        real_replace = os.replace
        def slow_replace(src, dst):
            print("mid-write", flush=True)
            time.sleep(0.05)
            real_replace(src, dst)
        os.replace = slow_replace
        model = Sequential([Input((1000,)), Dense(4000)])
        k = 0
        while True:
            with torch.no_grad():
                model.layers[0].bias.fill_(k)
            model.save({str(path)!r})
            print(k, flush=True)
            k += 1
    """)
    rng = np.random.default_rng(0)
    leftovers = 0
    for kill in range(12):
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        while proc.stdout.readline().strip() != "0":
            pass  # one save done: the loop is running
        if kill % 3 == 2:
            while proc.stdout.readline().strip() != "mid-write":
                pass
        else:
            time.sleep(float(rng.uniform(0.0, 0.4)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        bias = rnnkit.load(path).layers[0].bias.detach()
        assert torch.all(bias == bias[0]) and bias[0] >= 0
        leftovers += len([p for p in tmp_path.iterdir() if p.name.endswith(".tmp")])
    assert leftovers >= 4  # the kills at "mid-write" left their temporary files, so the clean-up is exercised
    Sequential([Input((1000,)), Dense(4000)]).save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["m.rnnkit"]


@pytest.mark.parametrize("name", ["m.keras", "m.h5", "m.weights.h5", "M.HDF5"])
def test_saving_under_a_keras_file_name_writes_keras_format_that_reads_back(tmp_path, name):
    # Keras scripts (seed 002's ModelCheckpoint("model.h5")) run with only the imports changed, and the
    # file under Keras's name is Keras's format (io/keras_files.py), so nothing to warn about.
    model = Sequential([Input((3, 1)), LSTM(2)])
    x = np.ones((1, 3, 1), "float32")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.save(tmp_path / name)
        np.testing.assert_allclose(rnnkit.load(tmp_path / name).predict(x), model.predict(x))
        if not name.endswith(".keras"):  # a .keras name holds a whole model (save_weights says so, as Keras)
            model.save_weights(tmp_path / name)
            other = Sequential([Input((3, 1)), LSTM(2)])
            other.load_weights(tmp_path / name)
            np.testing.assert_allclose(other.predict(x), model.predict(x))
        rnnkit.ModelCheckpoint(str(tmp_path / name))
    # rnnkit's own writer under a Keras name still says what the file is.
    stem = name.split(".")[0]
    with pytest.warns(UserWarning, match=rf"Keras's '\.[a-z0-9]+' suffix.*Keras cannot open.*'.*{stem}\.rnnkit'"):
        checkpoint.save(model, tmp_path / name)
