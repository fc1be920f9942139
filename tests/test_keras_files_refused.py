"""What load_keras refuses in a functional config or in the settings of the layers read since Conv1D,
ConvLSTM and the merge layers: a KerasFileError (a ValueError) that names the layer and says what was
expected, what the file holds and what to do. Each file is a Keras-written fixture
(tests/fixtures/keras_models) with its config.json changed."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import h5py
import pytest

from rnnkit import load_keras
from rnnkit.io.keras_safety import KerasFileError

FIXTURES = Path(__file__).parent / "fixtures" / "keras_models"


def _changed(tmp_path: Path, case: str, change) -> Path:
    """A copy of fixture `case` whose config is `change(config)` (which edits it in place)."""
    with zipfile.ZipFile(FIXTURES / f"{case}.keras") as z:
        entries = {name: z.read(name) for name in z.namelist()}
    config = json.loads(entries["config.json"])
    change(config)
    entries["config.json"] = json.dumps(config).encode()
    path = tmp_path / f"{case}.keras"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return path


def _layer(config: dict, name: str) -> dict:
    return next(spec for spec in config["config"]["layers"] if spec["config"].get("name") == name)


def _set(name: str, **changes):
    def change(config):
        _layer(config, name)["config"].update(changes)
    return change


# -- functional graphs -----------------------------------------------------------------------------------
# seq2seq: InputLayer, InputLayer, LSTM (the encoder), LSTM (the decoder, initial_state=[h, c]), Dense
def _nth(config: dict, kind: str, k: int = 0) -> dict:
    return [spec for spec in config["config"]["layers"] if spec["class_name"] == kind][k]


def _first_tensor(config: dict, kind: str, k: int = 0) -> dict:
    return _nth(config, kind, k)["inbound_nodes"][0]["args"][0]["config"]


def _lambda(config):
    spec = _nth(config, "Add")
    spec["class_name"] = "Lambda"
    spec["config"]["function"] = {"class_name": "__lambda__", "config": {"code": "b64 bytecode"}}


def _keras2_nodes(config):
    _nth(config, "LSTM", 1)["inbound_nodes"] = [[[_nth(config, "InputLayer", 1)["name"], 0, 0, {}]]]


def _unknown_tensor(config):
    _first_tensor(config, "Dense")["keras_history"] = ["nowhere", 0, 0]


def _later_call(config):
    _first_tensor(config, "Dense")["keras_history"] = [_nth(config, "LSTM", 1)["name"], 3, 0]


def _loop(config):  # the encoder reads the decoder's output, which reads the encoder's states
    _first_tensor(config, "LSTM", 0)["keras_history"] = [_nth(config, "LSTM", 1)["name"], 0, 0]


def _object_argument(config):
    _nth(config, "Dense")["inbound_nodes"][0]["kwargs"] = {"extra": {"class_name": "__numpy__", "config": {}}}


def _dict_outputs(config):
    config["config"]["output_layers"] = {"probabilities": [_nth(config, "Dense")["name"], 0, 0]}


def _duplicate_names(config):
    _nth(config, "LSTM", 1)["name"] = _nth(config, "LSTM", 0)["name"]


def _sparse_input(config):
    _nth(config, "InputLayer")["config"]["sparse"] = True


def _sixth_output(config):
    config["config"]["output_layers"] = [_nth(config, "LSTM", 0)["name"], 0, 5]


def _class_not_string(config):
    _nth(config, "Dense")["class_name"] = {"module": "evil"}


def _subclassed(config):
    config["class_name"] = "MyModel"


@pytest.mark.parametrize("change, message", [
    (_lambda, r"'Lambda' is not supported by load_keras: it holds Python code, and load_keras never runs code "
              r"from a file.*rnnkit\.layers\.Lambda"),
    (_keras2_nodes, r"layer 'lstm_\d+': its calls are in Keras 2's format.*save it again"),
    (_unknown_tensor, r"layer 'dense_\d+' reads call 0 of layer 'nowhere', which the config does not hold"),
    (_later_call, r"layer 'dense_\d+' reads call 3 of layer 'lstm_\d+', which the config does not hold \(it lists "
                  r"1 call\(s\)"),
    (_loop, r"calls read one another in a loop \(the graph has a loop through \('lstm_\d+', 0\)\)"),
    (_object_argument, r"layer 'dense_\d+' is called with a saved object of class '__numpy__'; load_keras builds "
                       r"no objects"),
    (_dict_outputs, r"'output_layers' must be \[layer, node, tensor\] or a list of them.*A dict"),
    (_duplicate_names, r"its name 'lstm_\d+' must be a string of 1 to 256 characters no other layer has"),
    (_sparse_input, r"InputLayer 'input_layer_\d+': load_keras reads dense inputs.*sparse=True"),
    (_sixth_output, r"the model's outputs name output 5 of layer 'lstm_\d+', which makes 3"),
    (_class_not_string, r"layer 4 \('dense_\d+'\): 'class_name' must be a str naming a Keras layer, received "
                        r"\{'module': 'evil'\}"),
    (_subclassed, r"load_keras reads Sequential and functional models; this file holds a 'MyModel' model"),
], ids=["lambda", "keras2-nodes", "unknown-layer", "missing-call", "loop", "object-argument", "dict-outputs",
        "duplicate-names", "sparse-input", "missing-output", "class-not-string", "subclassed"])
def test_functional_configs_refused_with_what_to_do(tmp_path, change, message):
    case = "attention" if change is _lambda else "seq2seq"
    with pytest.raises(KerasFileError, match=message):
        load_keras(_changed(tmp_path, case, change))


def test_a_keras_ops_computation_is_refused_where_it_is_not_a_mask(tmp_path):
    # masked_graph's mask computations (keras.ops calls) load; the last LSTM reading one as data does not
    def change(config):
        ops = [spec["name"] for spec in config["config"]["layers"] if spec["class_name"] == "Any"]
        _first_tensor(config, "LSTM", 1)["keras_history"] = [ops[0], 0, 0]

    with pytest.raises(KerasFileError, match=r"layer 'lstm_\d+' reads the result of Any 'any_\d+', a keras.ops "
                                             r"computation in the model; load_keras rebuilds Keras layers"):
        load_keras(_changed(tmp_path, "masked_graph", change))


def test_a_merge_layer_in_a_sequential_is_refused(tmp_path):
    def change(config):
        config["config"]["layers"].insert(2, {"module": "keras.layers", "class_name": "Concatenate",
                                              "config": {"name": "concatenate", "axis": -1}})

    with pytest.raises(KerasFileError, match=r"layer 2: Keras layer 'Concatenate' joins several tensors, which a "
                                             r"Sequential cannot pass it; it belongs in a functional model"):
        load_keras(_changed(tmp_path, "masking", change))


# -- settings rnnkit's layers do not have, and absurd sizes ----------------------------------------------
@pytest.mark.parametrize("case, name, changes, message", [
    ("conv1d", "batch_normalization", {"renorm": True},
     r"BatchNormalization 'batch_normalization': batch renormalization \(renorm=True\) is not supported"),
    ("conv1d", "batch_normalization", {"axis": [1, 2]},
     r"BatchNormalization 'batch_normalization': axis=\[1, 2\] normalizes over several axes"),
    ("convlstm", "conv_lstm2d", {"zero_output_for_mask": True},
     r"ConvLSTM2D 'conv_lstm2d': zero_output_for_mask=True is not supported"),
    ("convlstm", "conv_lstm2d", {"filters": 2**15},
     r"ConvLSTM2D 'conv_lstm2d': filters=32768 and kernel_size=\[3, 3\] mean 38654705664 weights in the "
     r"recurrent kernel; at most 2147483648"),
    ("convlstm", "conv_lstm1d", {"kernel_size": [3, 3, 3, 3]},
     r"ConvLSTM1D 'conv_lstm1d': kernel_size=\[3, 3, 3, 3\] is out of range; allowed: an integer or a list of "
     r"1 to 3 integers"),
    ("conv1d", "conv1d", {"kernel_size": [10**9]}, r"Conv1D 'conv1d': kernel_size=\[1000000000\] is out of range"),
    ("conv1d", "conv1d", {"groups": 0}, r"Conv1D 'conv1d': groups=0 is out of range; allowed: integers in \[1, "),
    ("conv1d", "permute", {"dims": [2, 99]}, r"Permute 'permute': dims=\[2, 99\] is out of range"),
    ("conv1d", "permute", {"dims": [1, 1]}, r"Permute 'permute': Invalid permutation argument `dims`"),
    ("conv1d", "re_lu", {"max_value": float("inf")}, r"ReLU 're_lu': max_value=inf is out of range; allowed: "
                                                       r"finite numbers \(or null\)"),
    ("conv1d", "spatial_dropout1d", {"seed": -1}, r"SpatialDropout1D 'spatial_dropout1d': seed=-1 is out of range"),
    ("conv1d", "layer_normalization", {"axis": "last"},
     r"LayerNormalization 'layer_normalization': axis='last' is out of range"),
    ("masking", "masking", {"mask_value": "pad"}, r"Masking 'masking': mask_value='pad' is out of range"),
    ("attention", "attention", {"score_mode": "cosine"},
     r"Attention 'attention': Invalid value for argument score_mode.*Received: score_mode=cosine"),
], ids=["bn-renorm", "bn-axes", "convlstm-zero-output", "convlstm-filters", "convlstm-kernel", "conv1d-kernel",
        "conv1d-groups", "permute-range", "permute-repeat", "relu-inf", "seed", "layernorm-axis", "mask-value",
        "score-mode"])
def test_layer_settings_refused_before_anything_is_built(tmp_path, case, name, changes, message):
    with pytest.raises(KerasFileError, match=message):
        load_keras(_changed(tmp_path, case, _set(name, **changes)))


def test_a_batch_normalization_weight_of_another_size_names_both_shapes(tmp_path):
    path = _changed(tmp_path, "conv1d", lambda config: None)
    with zipfile.ZipFile(path) as z:
        entries = {name: z.read(name) for name in z.namelist()}
    inner = tmp_path / "w.h5"
    inner.write_bytes(entries["model.weights.h5"])
    with h5py.File(inner, "r+") as f:
        del f["layers/batch_normalization/vars/3"]
        f["layers/batch_normalization/vars/3"] = [1.0, 2.0]  # moving_variance: 2 values for 4 features
    entries["model.weights.h5"] = inner.read_bytes()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    with pytest.raises(KerasFileError, match=r"BatchNormalization 'batch_normalization': the file's weights do not "
                                             r"fit the layer"):
        load_keras(path)
