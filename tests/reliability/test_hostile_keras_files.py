"""load_keras refuses hostile Keras files with a KerasFileError saying what it expected, what the file
holds and what to do: before it reads weights from another file on disk, and before it allocates the
sizes a file declares.

Every file here starts as a valid fixture (tests/fixtures/keras_models) copied into tmp_path and is then
tampered with through h5py or zipfile. The "secret" files beside it hold distinctive weights that a
hostile file points at; each such test first checks that plain h5py really does read the secret through
the tampered file, so the refusal is the only thing standing between the secret and a model.
"""

from __future__ import annotations

import io
import json
import shutil
import struct
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest

from rnnkit import load_keras
from rnnkit.io.keras import KerasFileError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras_models"
SECRET = 1234.5  # what the secret files hold; no test may find it in a loaded model
# airline's Dense kernel, (4, 1), in each format.
KERNEL = {".keras": "layers/dense/vars/0", ".h5": "model_weights/dense/sequential/dense/kernel"}
SUFFIXES = [".keras", ".h5"]


# -- building hostile files ----------------------------------------------------------------------------
def _zip(path: Path, entries, compression=zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, data in entries:
            z.writestr(name, data)
    return path


def _keras_entries(case: str) -> dict[str, bytes]:
    with zipfile.ZipFile(FIXTURES / f"{case}.keras") as z:
        return {name: z.read(name) for name in z.namelist()}


def _dump(config) -> str:
    return config if isinstance(config, str) else json.dumps(config)


def _model(tmp_path: Path, suffix: str, case: str = "airline", weights=None, config=None) -> Path:
    """A copy of fixture `case` in tmp_path with `weights(h5py.File)` applied to its weights file and
    its config replaced by `config(dict)` (a dict, a list or raw JSON text)."""
    if suffix == ".h5":
        path = tmp_path / f"{case}.h5"
        shutil.copy(FIXTURES / path.name, path)
        with h5py.File(path, "r+") as f:
            if config is not None:
                f.attrs["model_config"] = _dump(config(json.loads(f.attrs["model_config"])))
            if weights is not None:
                weights(f)
        return path
    entries = _keras_entries(case)
    if weights is not None:
        inner = tmp_path / "inner.weights.h5"
        inner.write_bytes(entries["model.weights.h5"])
        with h5py.File(inner, "r+") as f:
            weights(f)
        entries["model.weights.h5"] = inner.read_bytes()
    if config is not None:
        entries["config.json"] = _dump(config(json.loads(entries["config.json"]))).encode()
    return _zip(tmp_path / f"{case}.keras", entries.items())


def _read_as_h5py_would(path: Path, dataset: str) -> np.ndarray:
    """What plain h5py reads at `dataset` in a model file (following every link, as HDF5 does)."""
    if path.suffix == ".keras":
        with zipfile.ZipFile(path) as z, h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as f:
            return f[dataset][()]
    with h5py.File(path, "r") as f:
        return f[dataset][()]


@pytest.fixture
def secret(tmp_path) -> Path:
    """Files beside the model holding a (4, 1) float32 kernel of SECRET: raw bytes, and an HDF5 dataset."""
    data = np.full((4, 1), SECRET, dtype="<f4")
    data.tofile(tmp_path / "secret.bin")
    with h5py.File(tmp_path / "secret.h5", "w") as f:
        f["kernel"] = data
    return tmp_path


def _layer_config(case: str, index: int, **changes):
    def change(config):
        config["config"]["layers"][index]["config"].update(changes)
        return config
    return change


# -- HDF5: nothing is read from another file -----------------------------------------------------------
def _external_storage(f, path, secret):
    f.create_dataset(path, shape=(4, 1), dtype="<f4", external=[(str(secret / "secret.bin"), 0, 16)])


def _external_link(f, path, secret):
    f[path] = h5py.ExternalLink(str(secret / "secret.h5"), "/kernel")


def _virtual_dataset(f, path, secret):
    layout = h5py.VirtualLayout(shape=(4, 1), dtype="<f4")
    layout[:] = h5py.VirtualSource(str(secret / "secret.h5"), "kernel", shape=(4, 1))
    f.create_virtual_dataset(path, layout)


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("make, message", [
    (_external_storage, r"stores its data in another file \(HDF5 external storage:.*secret\.bin"),
    (_external_link, r"external link to .*secret\.h5.*:/kernel"),
    (_virtual_dataset, r"virtual dataset.*reads its data from other datasets"),
], ids=["external-storage", "external-link", "virtual-dataset"])
def test_weights_stored_in_another_file_are_refused(tmp_path, secret, suffix, make, message):
    def tamper(f):
        del f[KERNEL[suffix]]
        make(f, KERNEL[suffix], secret)

    path = _model(tmp_path, suffix, weights=tamper)
    # HDF5 follows these to the secret file, except links and virtual datasets of a .keras file's weights,
    # which h5py opens from memory and resolves back into that same memory (a raw KeyError or zeros today).
    if suffix == ".h5" or make is _external_storage:
        assert (_read_as_h5py_would(path, KERNEL[suffix]) == SECRET).all()
    with pytest.raises(KerasFileError, match=message):
        load_keras(path)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_an_external_link_anywhere_in_the_file_is_refused(tmp_path, secret, suffix):
    path = _model(tmp_path, suffix, weights=lambda f: f.__setitem__(
        "notes", h5py.ExternalLink(str(secret / "secret.h5"), "/kernel")))
    with pytest.raises(KerasFileError, match=r"'/notes' is an external link .*Re-save the model"):
        load_keras(path)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_soft_links_that_dangle_or_leave_the_weights_are_refused(tmp_path, suffix):
    def dangling(f):
        del f[KERNEL[suffix]]
        f[KERNEL[suffix]] = h5py.SoftLink("/no/such/dataset")

    with pytest.raises(KerasFileError, match=r"soft link to '/no/such/dataset', which does not exist"):
        load_keras(_model(tmp_path, suffix, weights=dangling))

    def outside(f):
        f["stolen"] = np.full((4, 1), SECRET, dtype="<f4")
        del f[KERNEL[suffix]]
        f[KERNEL[suffix]] = h5py.SoftLink("/stolen")

    path = _model(tmp_path, suffix, weights=outside)
    assert (_read_as_h5py_would(path, KERNEL[suffix]) == SECRET).all()
    outside_message = r"soft link to '/stolen', outside the weights \('/(layers|model_weights)'\)"
    with pytest.raises(KerasFileError, match=outside_message):
        load_keras(path)


def test_a_soft_link_inside_the_weights_still_loads(tmp_path):
    # Not hostile: HDF5 allows a weight to be a link to a dataset elsewhere in the same weight tree.
    def relink(f):
        f.move(KERNEL[".h5"], "model_weights/dense/kernel_data")
        f[KERNEL[".h5"]] = h5py.SoftLink("/model_weights/dense/kernel_data")

    data = np.load(FIXTURES / "airline.npz")
    model = load_keras(_model(tmp_path, ".h5", weights=relink))
    np.testing.assert_allclose(model.predict(data["x"]), data["y"], atol=1e-5)


@pytest.mark.parametrize("make, message", [
    (lambda f: f.__setitem__("layers/lstm/cell/loop", h5py.SoftLink("/layers/lstm")),
     r"soft link to '/layers/lstm', a group"),
    (lambda f: f.__setitem__("layers/lstm/cell/again", f["layers/lstm"]),
     r"'/layers/lstm/cell/again' links again to a group already seen"),
], ids=["soft-link-loop", "hard-link-loop"])
def test_group_loops_are_refused(tmp_path, make, message):
    with pytest.raises(KerasFileError, match=message):
        load_keras(_model(tmp_path, ".keras", weights=make))


# -- HDF5: the datasets themselves ---------------------------------------------------------------------
def _replace(path, make):
    def tamper(f):
        del f[path]
        make(f, path)
    return tamper


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_a_weight_that_is_not_numbers_is_refused(tmp_path, suffix):
    tamper = _replace(KERNEL[suffix], lambda f, p: f.__setitem__(p, np.array([[b"a"], [b"b"], [b"c"], [b"d"]])))
    with pytest.raises(KerasFileError, match=r"dataset '/.*' holds \|S1 values; weights must be numbers"):
        load_keras(_model(tmp_path, suffix, weights=tamper))


def test_a_weight_needing_an_hdf5_plugin_is_refused(tmp_path):
    # For a filter id it does not know, HDF5 searches its plugin folders for a library to load.
    tamper = _replace(KERNEL[".keras"], lambda f, p: f.create_dataset(
        p, data=np.zeros((4, 1), "<f4"), chunks=(4, 1), compression=32001, allow_unknown_filter=True))
    with pytest.raises(KerasFileError, match=r"compressed with HDF5 filter 32001, which HDF5 would load as a plugin"):
        load_keras(_model(tmp_path, ".keras", weights=tamper))


def test_a_dataset_far_larger_than_its_stored_bytes_is_refused(tmp_path):
    # 64 TiB of fill value in a file of a few KiB: reading it would be a MemoryError.
    tamper = _replace("layers/lstm/cell/vars/0",
                      lambda f, p: f.create_dataset(p, shape=(2**40, 16), dtype="<f4", chunks=(1024, 16)))
    with pytest.raises(KerasFileError, match=r"declares 70368744177664 bytes but stores 0"):
        load_keras(_model(tmp_path, ".keras", weights=tamper))


@pytest.mark.parametrize("suffix, path", [
    (".keras", "layers/embedding/vars/0"), (".h5", "model_weights/embedding/sequential_3/embedding/embeddings"),
])
def test_an_embedding_of_the_wrong_shape_names_both_shapes(tmp_path, suffix, path):
    tamper = _replace(path, lambda f, p: f.__setitem__(p, np.zeros((5, 4), "<f4")))
    with pytest.raises(KerasFileError, match=r"Embedding 'embedding': weight 0 has shape \(5, 4\) in the file, "
                                             r"expected \(12, 4\)"):
        load_keras(_model(tmp_path, suffix, case="embedding", weights=tamper))


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_a_dense_kernel_of_the_wrong_shape_names_both_shapes(tmp_path, suffix):
    tamper = _replace(KERNEL[suffix], lambda f, p: f.__setitem__(p, np.zeros((4, 2), "<f4")))
    with pytest.raises(KerasFileError, match=r"Dense 'dense': weight 0 has shape \(4, 2\) in the file, "
                                             r"expected \(input features, 1\)"):
        load_keras(_model(tmp_path, suffix, weights=tamper))


def test_gaps_in_the_numbered_weights_are_refused(tmp_path):
    tamper = lambda f: f.move("layers/lstm/cell/vars/2", "layers/lstm/cell/vars/7")  # noqa: E731
    with pytest.raises(KerasFileError, match=r"'/layers/lstm/cell/vars' holds weights \['0', '1', '7'\]; "
                                             r"expected them numbered 0 to 2"):
        load_keras(_model(tmp_path, ".keras", weights=tamper))


def test_legacy_weight_names_must_name_datasets_inside_the_layer(tmp_path):
    def missing(f):
        f["model_weights/dense"].attrs["weight_names"] = [b"sequential/dense/kernel", b"no/such/bias"]

    with pytest.raises(KerasFileError, match=r"layer 'dense' lists weight 'no/such/bias', which is not a dataset"):
        load_keras(_model(tmp_path, ".h5", weights=missing))

    def absolute(f):
        f["stolen"] = np.full((4, 1), SECRET, dtype="<f4")
        f["model_weights/dense"].attrs["weight_names"] = [b"/stolen", b"sequential/dense/bias"]

    with pytest.raises(KerasFileError, match=r"layer 'dense' lists weight '/stolen'; weight names are relative"):
        load_keras(_model(tmp_path, ".h5", weights=absolute))


# -- the zip of a .keras file --------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["../evil.txt", "/tmp/evil.txt", "assets/../../evil.txt", "C:\\evil.txt"])
def test_zip_entries_that_would_leave_the_folder_are_refused(tmp_path, name):
    path = _zip(tmp_path / "m.keras", [*_keras_entries("airline").items(), (name, b"x")])
    with pytest.raises(KerasFileError, match=r"unsafe entry name .*evil\.txt.*relative paths without '\.\.'"):
        load_keras(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras"]  # nothing was extracted


def _declare_size(path: Path, entry: str, size: int) -> None:
    # Rewrite the uncompressed size the central directory gives `entry` (a lying header).
    data = bytearray(path.read_bytes())
    end = data.rindex(b"PK\x05\x06")
    count, at = struct.unpack_from("<H", data, end + 10)[0], struct.unpack_from("<I", data, end + 16)[0]
    for _ in range(count):
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, at + 28)
        if data[at + 46:at + 46 + name_len] == entry.encode():
            struct.pack_into("<I", data, at + 24, size)
            path.write_bytes(bytes(data))
            return
        at += 46 + name_len + extra_len + comment_len
    raise AssertionError(f"no {entry} in {path}")


def test_a_zip_entry_declaring_an_absurd_size_is_refused(tmp_path):
    path = _zip(tmp_path / "m.keras", _keras_entries("airline").items())
    _declare_size(path, "config.json", 2**31)
    with pytest.raises(KerasFileError, match=r"'config.json' in .* declares 2147483648 bytes; at most 67108864"):
        load_keras(path)


def test_a_zip_entry_longer_than_it_declares_is_refused(tmp_path):
    path = _zip(tmp_path / "m.keras", _keras_entries("airline").items())
    _declare_size(path, "model.weights.h5", 100)
    with pytest.raises(KerasFileError, match=r"'model.weights.h5' in .* is damaged"):
        load_keras(path)


def test_a_zip_bomb_is_refused(tmp_path):
    entries = {**_keras_entries("airline"), "model.weights.h5": bytes(2**24)}
    path = _zip(tmp_path / "m.keras", entries.items(), zipfile.ZIP_DEFLATED)
    with pytest.raises(KerasFileError, match=r"'model.weights.h5' in .* expands \d+ times"):
        load_keras(path)


def test_a_zip_with_two_configs_is_refused(tmp_path):
    entries = _keras_entries("airline")
    with pytest.warns(UserWarning, match="Duplicate name"):
        path = _zip(tmp_path / "m.keras", [*entries.items(), ("config.json", b'{"class_name": "Sequential"}')])
    with pytest.raises(KerasFileError, match=r"holds 'config.json' 2 times"):
        load_keras(path)


# -- the config ----------------------------------------------------------------------------------------
DEEP = '{"class_name": "Sequential", "config": {"name": ' + "[" * 100_000 + "]" * 100_000 + "}}"


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("config, message", [
    (DEEP, r"config is nested too deeply"),
    ("{oops", r"config is not valid JSON"),
    ("[1, 2]", r"config must be a JSON object .*received a list"),
    ('"Sequential"', r"config must be a JSON object .*received a str"),
    ('{"class_name": "Sequential", "config": {"layers": "all"}}', r"'layers' must be a list .*received a str"),
    ('{"class_name": "Sequential", "config": []}', r"'config' must be a JSON object .*received a list"),
    ('{"class_name": "Sequential", "config": {"layers": ["LSTM"]}}', r"layer 0 must be a JSON object"),
    ('{"class_name": "Sequential", "config": {"layers": [{"class_name": {"a": 1}, "config": {}}]}}',
     r"layer 0: 'class_name' must be a str"),
    ('{"class_name": "Sequential", "config": {"layers": [{"class_name": "Transformer", "config": {}}]}}',
     r"'Transformer' is not supported by load_keras. Supported layers: Activation"),
], ids=["deep", "not-json", "list", "string", "layers-not-list", "config-not-object", "layer-not-object",
        "class-not-string", "unknown-class"])
def test_malformed_configs_are_refused(tmp_path, suffix, config, message):
    with pytest.raises(KerasFileError, match=message):
        load_keras(_model(tmp_path, suffix, config=lambda _: config))


# -- absurd sizes in the config ------------------------------------------------------------------------
@pytest.mark.parametrize("case, index, changes, message", [
    ("airline", 1, {"units": 2**31}, r"LSTM 'lstm': units=2147483648 is out of range; allowed: integers in \[1, "),
    ("airline", 1, {"units": 30_000}, r"LSTM 'lstm': units=30000 means 3600000000 weights in the recurrent kernel"),
    ("airline", 2, {"units": -3}, r"Dense 'dense': units=-3 is out of range; allowed: integers in \[1, "),
    ("airline", 2, {"units": "4"}, r"Dense 'dense': units='4' is out of range; allowed: integers in \[1, "),
    ("airline", 1, {"recurrent_dropout": 3},
     r"LSTM 'lstm': recurrent_dropout=3 is out of range; allowed: numbers in \[0, 1\)"),
    ("airline", 2, {"use_bias": "no"}, r"Dense 'dense': use_bias='no' .*allowed: true or false"),
    ("embedding", 1, {"input_dim": 10**11}, r"Embedding 'embedding': input_dim=100000000000 is out of range"),
    ("embedding", 1, {"input_dim": 2**22, "output_dim": 2**12},
     r"Embedding 'embedding': input_dim \* output_dim = 17179869184 weights; at most"),
    ("repeat", 3, {"n": 10**12}, r"RepeatVector 'repeat_vector': n=1000000000000 is out of range"),
    ("repeat", 1, {"target_shape": [-5, 2]}, r"Reshape 'reshape': target_shape=\[-5, 2\] is out of range"),
    ("frames", 1, {"name": "../../x"}, r"layer name '../../x' .*without '/'"),
], ids=["lstm-units-2**31", "lstm-units-params", "dense-units-negative", "dense-units-string",
        "recurrent-dropout", "use-bias-string", "embedding-input-dim", "embedding-params", "repeat-n", "reshape",
        "name-with-slash"])
def test_absurd_layer_settings_are_refused_before_allocating(tmp_path, case, index, changes, message):
    with pytest.raises(KerasFileError, match=message):
        load_keras(_model(tmp_path, ".keras", case=case, config=_layer_config(case, index, **changes)))


def test_absurd_conv_kernel_size_is_refused(tmp_path):
    def change(config):
        config["config"]["layers"][1]["config"]["layer"]["config"]["kernel_size"] = [10**9, 3]
        return config

    with pytest.raises(KerasFileError, match=r"Conv2D 'conv2d': kernel_size=\[1000000000, 3\] is out of range"):
        load_keras(_model(tmp_path, ".keras", case="frames", config=change))


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("shape, message", [
    ([-1, 3, 1], r"batch_shape=\[-1, 3, 1\] is out of range; allowed: a list of 1 to 8 entries, each null or an "
                 r"integer in \[1, "),
    ([10**12, 3, 1], r"batch_shape=\[1000000000000, 3, 1\] is out of range"),
    ([2**20, 2**10, 2**10], r"batch_shape=\[1048576, 1024, 1024\] means 1099511627776 input values; at most"),
    ("abc", r"batch_shape='abc' is out of range; allowed: a list of 1 to 8"),
], ids=["negative", "huge", "huge-product", "string"])
def test_absurd_input_shapes_are_refused_before_allocating(tmp_path, suffix, shape, message):
    with pytest.raises(KerasFileError, match=message):
        load_keras(_model(tmp_path, suffix, config=_layer_config("airline", 0, batch_shape=shape)))


def test_absurd_keras2_batch_input_shape_is_refused(tmp_path):
    def keras2(config):  # no InputLayer: Keras 2 put the input shape on the first layer
        layers = config["config"]["layers"]
        layers[1]["config"]["batch_input_shape"] = [10**12, 3, 1]
        config["config"]["layers"] = layers[1:]
        return config

    with pytest.raises(KerasFileError, match=r"LSTM 'lstm': batch_input_shape=\[1000000000000, 3, 1\] is out of range"):
        load_keras(_model(tmp_path, ".h5", config=keras2))
