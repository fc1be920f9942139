"""Which Keras layers rnnkit reads and writes, the config keys each carries, and how a file's values are checked.

One table serves both directions: `io/keras.py` builds rnnkit layers from a Keras config with the keys
in `_KEYS` (the other keys, initializers, regularizers, dtype..., do not change what a loaded model
computes) and `io/keras_export.py` writes the same keys from a layer's `get_config()`. `_plan` gives the
shapes of the weights each layer takes in Keras's order, so a file's weights are checked before they
are read; `_WEIGHT_CHILDREN` says in which sub-groups of model.weights.h5 Keras keeps them.
"""

from __future__ import annotations

import math

from ..layers.serialize import builtin_layers
from .keras_safety import RESAVE, KerasFileError, show

_RNN_KEYS = ("units", "activation", "recurrent_activation", "use_bias", "return_sequences", "return_state",
             "go_backwards", "stateful", "dropout", "recurrent_dropout", "zero_output_for_mask")
_CONV_KEYS = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate")
# ConvLSTM's masked steps repeat the last output (Keras's default); zero_output_for_mask=True is refused.
_CONV_LSTM_KEYS = (*_CONV_KEYS, "activation", "recurrent_activation", "use_bias", "unit_forget_bias",
                   "return_sequences", "return_state", "go_backwards", "stateful", "dropout",
                   "recurrent_dropout", "seed")
_POOL_KEYS = ("pool_size", "strides", "padding", "data_format")
_KEYS = {
    "LSTM": (*_RNN_KEYS, "unit_forget_bias"),
    "GRU": (*_RNN_KEYS, "reset_after"),
    "SimpleRNN": tuple(k for k in _RNN_KEYS if k != "recurrent_activation"),
    "Dense": ("units", "activation", "use_bias"),
    "Embedding": ("input_dim", "output_dim", "mask_zero"),
    "Dropout": ("rate",),
    "Activation": ("activation",),
    "Flatten": (),
    "Reshape": ("target_shape",),
    "Conv2D": ("filters", "kernel_size", "strides", "padding", "activation", "use_bias"),
    "MaxPooling2D": ("pool_size", "strides", "padding"),
    "RepeatVector": ("n",),
    "TimeDistributed": (),
    "Bidirectional": ("merge_mode",),
    "Masking": ("mask_value",),
    "Conv1D": (*_CONV_KEYS, "groups", "activation", "use_bias"),
    "Conv3D": (*_CONV_KEYS, "groups", "activation", "use_bias"),
    "MaxPooling1D": _POOL_KEYS,
    "AveragePooling1D": _POOL_KEYS,
    "GlobalAveragePooling1D": ("data_format", "keepdims"),
    "GlobalMaxPooling1D": ("data_format", "keepdims"),
    "BatchNormalization": ("axis", "momentum", "epsilon", "center", "scale"),
    "LayerNormalization": ("axis", "epsilon", "center", "scale", "rms_scaling"),
    "ReLU": ("max_value", "negative_slope", "threshold"),
    "SpatialDropout1D": ("rate", "seed"),
    "Permute": ("dims",),
    "ConvLSTM1D": _CONV_LSTM_KEYS,
    "ConvLSTM2D": _CONV_LSTM_KEYS,
    "ConvLSTM3D": _CONV_LSTM_KEYS,
    # functional models only: they join or relate several tensors
    "Concatenate": ("axis",),
    "Add": (),
    "Multiply": (),
    "Attention": ("use_scale", "score_mode", "dropout", "seed"),
    "AdditiveAttention": ("use_scale", "dropout", "seed"),
    "Average": (),
    "Subtract": (),
    "Maximum": (),
    "Minimum": (),
    "Dot": ("axes", "normalize"),
    # activations as layers ("alpha": Keras 2's name of LeakyReLU's negative_slope)
    "LeakyReLU": ("negative_slope", "alpha"),
    "ELU": ("alpha",),
    "Softmax": ("axis",),
    "PReLU": ("shared_axes",),
    "GaussianNoise": ("stddev", "seed"),
    "GaussianDropout": ("rate", "seed"),
    "AlphaDropout": ("rate", "noise_shape", "seed"),
    "UpSampling1D": ("size",),
    "ZeroPadding1D": ("padding", "data_format"),
    "Cropping1D": ("cropping",),
    "Identity": (),
    "UnitNormalization": ("axis",),
}
_CLASSES = {name: builtin_layers()[name] for name in _KEYS}
_ALIASES = {"Convolution2D": "Conv2D", "MaxPool2D": "MaxPooling2D", "CuDNNLSTM": "LSTM", "CuDNNGRU": "GRU",
            "Convolution1D": "Conv1D", "MaxPool1D": "MaxPooling1D", "AvgPool1D": "AveragePooling1D",
            "GlobalAvgPool1D": "GlobalAveragePooling1D", "GlobalMaxPool1D": "GlobalMaxPooling1D",
            "Convolution3D": "Conv3D"}
SUPPORTED = sorted([*_CLASSES, "InputLayer"])
MULTI_INPUT = ("Concatenate", "Add", "Multiply", "Attention", "AdditiveAttention", "Average", "Subtract", "Maximum",
               "Minimum", "Dot")
_GATES = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}
_CONV_LSTM_RANK = {"ConvLSTM1D": 1, "ConvLSTM2D": 2, "ConvLSTM3D": 3}
# Sub-groups that hold a layer's weights inside its group of model.weights.h5 (keras_export writes
# them; the reader walks whatever sub-groups a file has, in the order Keras lists them).
_WEIGHT_CHILDREN = {**{kind: ("cell",) for kind in (*_GATES, *_CONV_LSTM_RANK)}, "TimeDistributed": ("layer",),
                    "Bidirectional": ("forward_layer", "backward_layer")}

# What a file may declare, far above any real Keras model; checked before anything is allocated.
_MAX_LAYERS = 10_000
_MAX_WRAPPING = 8  # TimeDistributed(Bidirectional(LSTM)) is 2
_MAX_SIZE = 2**24  # any one size: units, vocabulary, features, time steps, batch
_MAX_WINDOW = 2**12  # kernel and pool sizes, strides, dilation
_MAX_WEIGHTS = 2**31  # values in one weight array (8 GiB of float32)
_MAX_RANK = 8  # axes of an input
_MAX_INPUT_VALUES = 2**28  # values in the example input rnnkit allocates for a declared batch shape
_FEATURES, _CHANNELS = "input features", "input channels"  # weight axes the config does not fix
ANY_SHAPE = None  # a weight whose rank the config does not fix either (PReLU's alpha: the input's, less the batch)

_SIZES = ("units", "input_dim", "output_dim", "filters", "n", "groups")
_WINDOWS = ("kernel_size", "strides", "pool_size", "dilation_rate", "size")
_FRACTIONS = ("dropout", "recurrent_dropout", "rate")
_NUMBERS = ("mask_value", "momentum", "epsilon", "negative_slope", "threshold", "max_value", "alpha", "stddev")
_STRINGS = ("padding", "merge_mode", "data_format", "score_mode")


def _is_int(value, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _out_of_range(owner: str, key: str, value, allowed: str) -> KerasFileError:
    return KerasFileError(f"{owner}: {key}={show(value)} is out of range; allowed: {allowed}. The file was not "
                          f"written by Keras or was altered.{RESAVE}")


def _checked(owner: str, key: str, value):
    """`value` of config key `key`, or a KerasFileError naming the layer, the key, the value and the range."""
    if key in _SIZES:
        fits, allowed = _is_int(value, 1, _MAX_SIZE), f"integers in [1, {_MAX_SIZE}]"
    elif key in _FRACTIONS:
        fits, allowed = _is_number(value) and 0 <= value < 1, "numbers in [0, 1)"
    elif key in _WINDOWS:
        fits = (_is_int(value, 1, _MAX_WINDOW) or (key == "strides" and value is None)
                or (isinstance(value, list) and 1 <= len(value) <= 3
                    and all(_is_int(d, 1, _MAX_WINDOW) for d in value)))
        allowed = (f"an integer or a list of 1 to 3 integers in [1, {_MAX_WINDOW}]"
                   + (" (or null)" if key == "strides" else ""))
    elif key == "target_shape":
        fits = (isinstance(value, list) and 1 <= len(value) <= _MAX_RANK and value.count(-1) <= 1
                and all(d == -1 or _is_int(d, 1, _MAX_SIZE) for d in value))
        allowed = f"a list of 1 to {_MAX_RANK} integers in [1, {_MAX_SIZE}], one of which may be -1"
    elif key == "dims":
        fits = isinstance(value, list) and 1 <= len(value) <= _MAX_RANK and all(_is_int(d, 1, _MAX_RANK)
                                                                                 for d in value)
        allowed = f"a list of 1 to {_MAX_RANK} axis numbers in [1, {_MAX_RANK}]"
    elif key == "axis":
        fits = (_is_int(value, -_MAX_RANK, _MAX_RANK) or (isinstance(value, list) and 1 <= len(value) <= _MAX_RANK
                                                           and all(_is_int(a, -_MAX_RANK, _MAX_RANK) for a in value)))
        allowed = f"an axis or a list of axes, integers in [-{_MAX_RANK}, {_MAX_RANK}]"
    elif key in ("padding", "cropping") and not isinstance(value, str):  # ZeroPadding1D's, Cropping1D's
        fits = _is_int(value, 0, _MAX_SIZE) or (isinstance(value, list) and len(value) == 2
                                                and all(_is_int(d, 0, _MAX_SIZE) for d in value))
        allowed = f"an integer or a list of 2 integers in [0, {_MAX_SIZE}]" + (" (or a string)" if key == "padding"
                                                                              else "")
    elif key == "shared_axes":
        fits = (value is None or _is_int(value, 1, _MAX_RANK)
                or (isinstance(value, list) and 1 <= len(value) <= _MAX_RANK
                    and all(_is_int(a, 1, _MAX_RANK) for a in value)))
        allowed = f"null, an axis or a list of axes, integers in [1, {_MAX_RANK}]"
    elif key == "noise_shape":
        fits = value is None or (isinstance(value, list) and 1 <= len(value) <= _MAX_RANK
                                 and all(d is None or _is_int(d, 1, _MAX_SIZE) for d in value))
        allowed = f"null or a list of 1 to {_MAX_RANK} entries, each null or an integer in [1, {_MAX_SIZE}]"
    elif key == "axes":
        fits = _is_int(value, -_MAX_RANK, _MAX_RANK) or (isinstance(value, list) and len(value) == 2 and all(
            _is_int(a, -_MAX_RANK, _MAX_RANK) for a in value))
        allowed = f"an axis or a list of 2 axes, integers in [-{_MAX_RANK}, {_MAX_RANK}]"
    elif key == "seed":
        fits, allowed = value is None or _is_int(value, 0, 2**63 - 1), "null or an integer in [0, 2**63)"
    elif key in _NUMBERS:
        fits = _is_number(value) or (key == "max_value" and value is None)
        allowed = "finite numbers" + (" (or null)" if key == "max_value" else "")
    elif key in ("activation", "recurrent_activation"):
        if isinstance(value, dict):
            raise KerasFileError(f"Keras layer {owner} uses a custom {key} ({show(value.get('class_name'))}); "
                                 "load_keras handles activations given by name.")
        fits, allowed = value is None or isinstance(value, str), "an activation name such as 'tanh'"
    elif key in _STRINGS:
        fits, allowed = isinstance(value, str) or (key == "merge_mode" and value is None), "a string"
    else:  # use_bias, return_sequences, stateful, mask_zero, keepdims, center, use_scale...
        fits, allowed = isinstance(value, bool), "true or false"
    if not fits:
        raise _out_of_range(owner, key, value, allowed)
    return value


def _window(value, rank: int) -> tuple[int, ...]:
    return (value,) * rank if isinstance(value, int) else tuple(value)


def _check_weight_count(owner: str, kind: str, kwargs: dict) -> None:
    # The weights the config alone sizes; the other axes are checked against the file's shapes.
    if kind in _GATES and "units" in kwargs:
        count, why = _GATES[kind] * kwargs["units"] ** 2, f"units={kwargs['units']} means"
        what = "weights in the recurrent kernel"
    elif kind == "Embedding" and "input_dim" in kwargs and "output_dim" in kwargs:
        count, why, what = kwargs["input_dim"] * kwargs["output_dim"], "input_dim * output_dim =", "weights"
    elif kind in _CONV_LSTM_RANK and "filters" in kwargs:
        window = math.prod(_window(kwargs.get("kernel_size", 1), _CONV_LSTM_RANK[kind]))
        count = 4 * window * kwargs["filters"] ** 2
        why = f"filters={kwargs['filters']} and kernel_size={show(kwargs.get('kernel_size'))} mean"
        what = "weights in the recurrent kernel"
    else:
        return
    if count > _MAX_WEIGHTS:
        raise KerasFileError(f"{owner}: {why} {count} {what}; at most {_MAX_WEIGHTS} are accepted in one "
                             f"weight array.{RESAVE}")


def _plan(kind: str, kw: dict, inner: list) -> list[tuple]:
    """The shapes of the Keras weights of a layer, in Keras's order (an axis the config does not fix is
    named, e.g. "input features")."""
    bias = kw.get("use_bias", True)
    if kind in _GATES:
        H = kw["units"]
        GH = _GATES[kind] * H
        return [(_FEATURES, GH), (H, GH)] + ([(2, GH) if kind == "GRU" and kw.get("reset_after", True) else (GH,)]
                                             if bias else [])
    if kind == "Dense":
        return [(_FEATURES, kw["units"])] + ([(kw["units"],)] if bias else [])
    if kind == "Embedding":
        return [(kw["input_dim"], kw["output_dim"])]
    if kind in ("Conv1D", "Conv2D"):
        size = _window(kw["kernel_size"], 1 if kind == "Conv1D" else 2)
        size = size * 2 if kind == "Conv2D" and len(size) == 1 else size
        return [(*size, _CHANNELS, kw["filters"])] + ([(kw["filters"],)] if bias else [])
    if kind == "Conv3D":  # (k1, k2, k3, channels // groups, filters)
        size = _window(kw["kernel_size"], 3)
        return [(*size, _CHANNELS, kw["filters"])] + ([(kw["filters"],)] if bias else [])
    if kind in _CONV_LSTM_RANK:
        size, F = _window(kw["kernel_size"], _CONV_LSTM_RANK[kind]), kw["filters"]
        return [(*size, _CHANNELS, 4 * F), (*size, F, 4 * F)] + ([(4 * F,)] if bias else [])
    if kind == "BatchNormalization":
        return [(_FEATURES,)] * (kw.get("scale", True) + kw.get("center", True) + 2)
    if kind == "LayerNormalization":
        axes = kw.get("axis", -1)
        shape = (_FEATURES,) * (len(axes) if isinstance(axes, list) else 1)
        rms = kw.get("rms_scaling", False)
        return [shape] * ((kw.get("scale", True) or rms) + (kw.get("center", True) and not rms))
    if kind == "Attention":
        return [()] * (kw.get("use_scale", False) + (kw.get("score_mode", "dot") == "concat"))
    if kind == "AdditiveAttention":
        return [(_FEATURES,)] if kw.get("use_scale", True) else []
    if kind == "PReLU":
        return [ANY_SHAPE]
    return inner * 2 if kind == "Bidirectional" else inner  # TimeDistributed: its layer's; others: none


def _batch_shape(value, owner: str, key: str) -> tuple | None:
    """An input's declared batch shape (None: not declared), its sizes checked before anything is allocated."""
    if value is None:
        return None
    fits = (isinstance(value, list) and 1 <= len(value) <= _MAX_RANK
            and all(d is None or _is_int(d, 1, _MAX_SIZE) for d in value))
    if not fits:
        raise _out_of_range(owner, key, value, f"a list of 1 to {_MAX_RANK} entries, each null or an integer in "
                                               f"[1, {_MAX_SIZE}]")
    values = math.prod(d or 1 for d in value)
    if values > _MAX_INPUT_VALUES:
        raise KerasFileError(f"{owner}: {key}={show(value)} means {values} input values; at most "
                             f"{_MAX_INPUT_VALUES}, as rnnkit allocates an example input of that shape.{RESAVE}")
    return tuple(value)
