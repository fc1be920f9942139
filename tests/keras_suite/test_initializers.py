"""Keras 3's keras/src/initializers/constant_initializers_test.py and random_initializers_test.py, ported to
rnnkit.initializers with Keras's shapes, statistics and tolerances (Keras's assertAllClose: atol=rtol=1e-6
unless a test gives its own; assertAlmostEqual: 3 decimals). `run_class_serialization_test` is Keras's
check, written below for rnnkit: get_config -> from_config and serialize -> JSON -> deserialize give the
same config and the same attributes.

Ported: all 6 tests of constant_initializers_test.py and 13 of the 14 of random_initializers_test.py.
Where Keras uses its SeedGenerator (a seed that goes on, different values on each call) the port passes
rnnkit's counterpart, a torch.Generator; where Keras draws a backend tensor, a torch tensor.

Not applicable:
- random_initializers_test.py::test_mha_query_projection_variance builds Keras's MultiHeadAttention, which
  rnnkit does not have; the fans it relies on (input_axes/output_axes of VarianceScaling) are tested by
  the ported test_compute_fans_with_axes and test_variance_scaling_with_axes.
- initializer_test.py (two tests) checks Keras's distribution layouts (JAX sharding across devices, run
  only on JAX with several devices); rnnkit's initializers take no layout.

Below the port, rnnkit's own checks: Keras's names, the statistics of every initializer (and Keras's own
statistics on the same shapes when Keras is installed), seeds, Keras's fans and layouts inside rnnkit's
PyTorch-layout weights, and every `*_initializer` argument taking these objects through get_config and
save/load.
"""

import json
import math
import os

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import initializers, utils
from rnnkit.initializers import compute_fans
from rnnkit.layers import (GRU, LSTM, BatchNormalization, Conv1D, Conv2D, ConvLSTM1D, ConvLSTM2D, Dense, Embedding,
                           Input, LayerNormalization, SimpleRNN)
from rnnkit.layers.serialize import deserialize, serialize
from rnnkit.models import Sequential


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def assert_all_close(actual, desired, atol=1e-6, rtol=1e-6):
    np.testing.assert_allclose(_np(actual), _np(desired), atol=atol, rtol=rtol)


def assert_not_all_close(actual, desired, atol=1e-6, rtol=1e-6):
    assert not np.allclose(_np(actual), _np(desired), atol=atol, rtol=rtol)


def run_class_serialization_test(instance):
    """Keras's TestCase.run_class_serialization_test for an rnnkit initializer."""
    cls = type(instance)
    config = instance.get_config()
    config_json = json.dumps(config, sort_keys=True)
    ref_dir = set(dir(instance))
    revived = cls.from_config(config)
    assert json.dumps(revived.get_config(), sort_keys=True) == config_json
    assert set(dir(revived)) == ref_dir
    serialized = json.dumps(initializers.serialize(instance))
    revived = initializers.deserialize(json.loads(serialized))
    assert type(revived) is cls
    assert json.dumps(revived.get_config(), sort_keys=True) == config_json
    assert set(dir(revived)) == ref_dir
    return revived


# ==== constant_initializers_test.py ===========================================================================
# Keras: test_zeros_initializer
def test_zeros_initializer():
    shape = (3, 3)
    initializer = initializers.Zeros()
    values = initializer(shape=shape)
    assert values.shape == shape
    assert_all_close(values, np.zeros(shape=shape))
    run_class_serialization_test(initializer)


# Keras: test_ones_initializer
def test_ones_initializer():
    shape = (3, 3)
    initializer = initializers.Ones()
    values = initializer(shape=shape)
    assert values.shape == shape
    assert_all_close(values, np.ones(shape=shape))
    run_class_serialization_test(initializer)


# Keras: test_constant_initializer
def test_constant_initializer():
    shape = (3, 3)
    constant_value = 6.0
    initializer = initializers.Constant(value=constant_value)
    values = initializer(shape=shape)
    assert values.shape == shape
    assert_all_close(values, np.full(shape=shape, fill_value=constant_value))
    run_class_serialization_test(initializer)


# Keras: test_constant_initializer_array_value
def test_constant_initializer_array_value():
    shape = (3, 3)
    constant_value = np.random.random((3, 3))
    initializer = initializers.Constant(value=constant_value)
    values = initializer(shape=shape)
    assert values.shape == shape
    assert_all_close(values, np.full(shape=shape, fill_value=constant_value))
    run_class_serialization_test(initializer)


# Keras: test_identity_initializer
def test_identity_initializer():
    shape = (3, 3)
    gain = 2
    initializer = initializers.Identity(gain=gain)
    values = initializer(shape=shape)
    assert values.shape == shape
    assert_all_close(values, np.eye(*shape) * gain)
    run_class_serialization_test(initializer)
    # Test compatible class_name
    initializer = initializers.get("IdentityInitializer")
    assert isinstance(initializer, initializers.Identity)


def _numpy_window(name, length, periodic):
    """The Hamming (NumPy's) and Tukey (alpha 0.5, its definition) windows SciPy gives, written without SciPy."""
    m = length + 1 if periodic else length
    if name == "hamming":
        return np.hamming(m)[:length]
    x, alpha = np.arange(m) / (m - 1), 0.5
    w = np.ones(m)
    left, right = x < alpha / 2, x > 1 - alpha / 2
    w[left] = 0.5 * (1 + np.cos(np.pi * (2 * x[left] / alpha - 1)))
    w[right] = 0.5 * (1 + np.cos(np.pi * (2 * x[right] / alpha - 2 / alpha + 1)))
    return w[:length]


def _expected_window(name, length, periodic):
    """scipy.signal.windows.get_window(name, length, periodic), Keras's source of the expected windows; without
    SciPy (not one of rnnkit's dependencies), _numpy_window."""
    try:
        import scipy.signal
    except ImportError:
        return _numpy_window(name, length, periodic)
    return scipy.signal.windows.get_window(name, length, periodic)


# Keras: test_stft_initializer
def test_stft_initializer():
    shape = (256, 1, 513)
    time_range = np.arange(256).reshape((-1, 1, 1))
    freq_range = (np.arange(513) / 1024.0).reshape((1, 1, -1))
    pi = np.arccos(np.float32(-1))
    args = -2 * pi * time_range * freq_range
    tol_kwargs = {"atol": 1e-4, "rtol": 1e-6}

    initializer = initializers.STFT("real", None)
    values = _np(initializer(shape))
    assert_all_close(np.cos(args), values, atol=1e-4)
    run_class_serialization_test(initializer)

    initializer = initializers.STFT("real", "hamming", None, True)
    window = _expected_window("hamming", 256, True)
    window = window.astype("float32").reshape((-1, 1, 1))
    values = _np(initializer(shape, "float32"))
    assert_all_close(np.cos(args) * window, values, **tol_kwargs)
    run_class_serialization_test(initializer)

    initializer = initializers.STFT("imag", "tukey", "density", False)
    window = _expected_window("tukey", 256, False)
    window = window.astype("float32").reshape((-1, 1, 1))
    window = window / np.sqrt(np.sum(window**2))
    values = _np(initializer(shape, "float32"))
    assert_all_close(np.sin(args) * window, values, **tol_kwargs)
    run_class_serialization_test(initializer)

    initializer = initializers.STFT("imag", list(range(1, 257)), "spectrum")
    window = np.arange(1, 257)
    window = window.astype("float32").reshape((-1, 1, 1))
    window = window / np.sum(window)
    values = _np(initializer(shape, "float32"))
    assert_all_close(np.sin(args) * window, values, **tol_kwargs)
    run_class_serialization_test(initializer)

    with pytest.raises(ValueError):
        initializers.STFT("imaginary")
    with pytest.raises(ValueError):
        initializers.STFT("real", scaling="l2")
    with pytest.raises(ValueError):
        initializers.STFT("real", window="unknown")

    # Test compatible class_name
    initializer = initializers.get("STFTInitializer")
    assert isinstance(initializer, initializers.STFT)


# ==== random_initializers_test.py =============================================================================
# Keras: test_random_normal
def test_random_normal():
    utils.set_random_seed(1337)
    shape = (25, 20)
    mean = 0.0
    stddev = 1.0
    seed = 1234
    initializer = initializers.RandomNormal(mean=mean, stddev=stddev, seed=seed)
    values = initializer(shape=shape)
    assert initializer.mean == mean
    assert initializer.stddev == stddev
    assert initializer.seed == seed
    assert values.shape == shape
    assert_all_close(np.std(_np(values)), stddev, atol=1e-1)

    run_class_serialization_test(initializer)

    # Test that a fixed seed yields the same results each call.
    initializer = initializers.RandomNormal(mean=mean, stddev=stddev, seed=1337)
    values = initializer(shape=shape)
    next_values = initializer(shape=shape)
    assert_all_close(values, next_values)

    # Test that a SeedGenerator (rnnkit: a torch.Generator) yields different results each call.
    initializer = initializers.RandomNormal(mean=mean, stddev=stddev, seed=torch.Generator().manual_seed(1337))
    values = initializer(shape=shape)
    next_values = initializer(shape=shape)
    assert_not_all_close(values, next_values)

    # Test serialization with SeedGenerator
    initializer = initializers.RandomNormal(mean=mean, stddev=stddev, seed=torch.Generator().manual_seed(1337))
    values = initializer(shape=shape)

    # Test that unseeded generator gets different results after cloning
    initializer = initializers.RandomNormal(mean=mean, stddev=stddev, seed=None)
    values = initializer(shape=shape)
    cloned_initializer = initializers.RandomNormal.from_config(initializer.get_config())
    new_values = cloned_initializer(shape=shape)
    assert_not_all_close(values, new_values)

    # Test that seeded generator gets same results after cloning
    initializer = initializers.RandomNormal(mean=mean, stddev=stddev, seed=1337)
    values = initializer(shape=shape)
    cloned_initializer = initializers.RandomNormal.from_config(initializer.get_config())
    new_values = cloned_initializer(shape=shape)
    assert_all_close(values, new_values)


# Keras: test_random_uniform
def test_random_uniform():
    shape = (5, 5)
    minval = -1.0
    maxval = 1.0
    seed = 1234
    initializer = initializers.RandomUniform(minval=minval, maxval=maxval, seed=seed)
    values = initializer(shape=shape)
    assert initializer.minval == minval
    assert initializer.maxval == maxval
    assert initializer.seed == seed
    assert values.shape == shape
    values = _np(values)
    assert np.min(values) >= minval
    assert np.max(values) < maxval
    run_class_serialization_test(initializer)


# Keras: test_variance_scaling
def test_variance_scaling():
    utils.set_random_seed(1337)
    shape = (25, 20)
    scale = 2.0
    seed = 1234
    initializer = initializers.VarianceScaling(scale=scale, seed=seed, mode="fan_in")
    values = initializer(shape=shape)
    assert initializer.scale == scale
    assert initializer.seed == seed
    assert values.shape == shape
    assert_all_close(np.std(_np(values)), np.sqrt(scale / 25), atol=1e-1)
    run_class_serialization_test(initializer)

    initializer = initializers.VarianceScaling(scale=scale, seed=seed, mode="fan_out")
    values = initializer(shape=shape)
    assert initializer.scale == scale
    assert initializer.seed == seed
    assert values.shape == shape
    assert_all_close(np.std(_np(values)), np.sqrt(scale / 20), atol=1e-1)
    run_class_serialization_test(initializer)


# Keras: test_orthogonal
def test_orthogonal():
    shape = (5, 5)
    gain = 2.0
    seed = 1234
    initializer = initializers.Orthogonal(gain=gain, seed=seed)
    values = initializer(shape=shape)
    assert initializer.seed == seed
    assert initializer.gain == gain
    assert values.shape == shape
    array = _np(values)
    # Making sure that the columns have gain * unit norm value
    for column in array.T:
        np.testing.assert_almost_equal(np.linalg.norm(column), gain * 1.0, decimal=3)
    # Making sure that each column is orthonormal to the other column
    for i in range(array.shape[-1]):
        for j in range(i + 1, array.shape[-1]):
            np.testing.assert_almost_equal(np.dot(array[..., i], array[..., j]), 0.0, decimal=3)
    run_class_serialization_test(initializer)
    # Test compatible class_name
    initializer = initializers.get("OrthogonalInitializer")
    assert isinstance(initializer, initializers.Orthogonal)


# Keras: test_get_method
def test_get_method():
    obj = initializers.get("glorot_normal")
    assert obj, initializers.GlorotNormal
    obj = initializers.get(None)
    assert obj is None
    with pytest.raises(ValueError):
        initializers.get("typo")


# Keras: test_get_method_with_tensor
def test_get_method_with_tensor():
    shape = (5, 5)
    # Test backend tensor
    tensor = torch.rand(shape)
    initializer = initializers.get(tensor)
    values = initializer(shape=shape)
    assert_all_close(values, tensor)
    # Test numpy array
    tensor = np.random.uniform(size=shape).astype("float32")
    initializer = initializers.get(tensor)
    values = initializer(shape=shape)
    assert_all_close(values, tensor)
    # Test bad `shape` argument
    with pytest.raises(ValueError, match=r"Expected `shape` to be"):
        initializer(shape=(10, 10))


# Keras: test_variance_scaling_invalid_scale
def test_variance_scaling_invalid_scale():
    seed = 1234
    with pytest.raises(ValueError, match="Argument `scale` must be positive float."):
        initializers.VarianceScaling(scale=-1.0, seed=seed, mode="fan_in")


# Keras: test_variance_scaling_invalid_mode
def test_variance_scaling_invalid_mode():
    scale = 2.0
    seed = 1234
    with pytest.raises(ValueError, match="Invalid `mode` argument:"):
        initializers.VarianceScaling(scale=scale, seed=seed, mode="invalid_mode")


# Keras: test_variance_scaling_invalid_distribution
def test_variance_scaling_invalid_distribution():
    scale = 2.0
    seed = 1234
    with pytest.raises(ValueError, match="Invalid `distribution` argument:"):
        initializers.VarianceScaling(scale=scale, seed=seed, mode="fan_in", distribution="invalid_dist")


# Keras: test_serialization_with_seed_generator (Keras's random.SeedGenerator(): a torch.Generator())
def test_serialization_with_seed_generator():
    initializer = initializers.Orthogonal(seed=torch.Generator())
    run_class_serialization_test(initializer)
    initializer = initializers.VarianceScaling(seed=torch.Generator())
    run_class_serialization_test(initializer)
    initializer = initializers.RandomUniform(seed=torch.Generator())
    run_class_serialization_test(initializer)
    initializer = initializers.RandomNormal(seed=torch.Generator())
    run_class_serialization_test(initializer)


# Keras: test_compute_fans_with_axes
def test_compute_fans_with_axes():
    shape = (512, 8, 64)
    # Test with explicit axes (e.g. Query projection)
    fan_in, fan_out = compute_fans(shape, input_axes=[0], output_axes=[1, 2])
    assert fan_in == 512
    assert fan_out == 512
    # Test with another combination (e.g. Output projection)
    fan_in, fan_out = compute_fans(shape, input_axes=[0, 1], output_axes=[2])
    assert fan_in == 512 * 8
    assert fan_out == 64


# Keras: test_variance_scaling_with_axes
def test_variance_scaling_with_axes():
    utils.set_random_seed(1337)
    shape = (32, 4, 16)
    scale = 2.0
    seed = 1234
    # Testing standard deviation with given axes
    initializer = initializers.VarianceScaling(scale=scale, seed=seed, mode="fan_in", input_axes=[0],
                                               output_axes=[1, 2])
    values = initializer(shape=shape)
    assert values.shape == shape
    assert_all_close(np.std(_np(values)), np.sqrt(scale / 32), atol=1e-1)
    # Test output standard deviation without axes
    initializer = initializers.VarianceScaling(scale=scale, seed=seed, mode="fan_in")
    values = initializer(shape=shape)
    assert_all_close(np.std(_np(values)), np.sqrt(scale / 128), atol=1e-1)


# Keras: test_variance_scaling_serialization_with_axes
def test_variance_scaling_serialization_with_axes():
    initializer = initializers.VarianceScaling(input_axes=[0], output_axes=[1, 2])
    run_class_serialization_test(initializer)


# ==== rnnkit: Keras's names ===================================================================================
KERAS_NAMES = ["Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity",
               "IdentityInitializer", "Initializer", "LecunNormal", "LecunUniform", "Ones", "Orthogonal",
               "OrthogonalInitializer", "RandomNormal", "RandomUniform", "STFT", "STFTInitializer", "TruncatedNormal",
               "VarianceScaling", "Zeros", "constant", "deserialize", "get", "glorot_normal", "glorot_uniform",
               "he_normal", "he_uniform", "identity", "lecun_normal", "lecun_uniform", "ones", "orthogonal",
               "random_normal", "random_uniform", "serialize", "stft", "truncated_normal", "variance_scaling",
               "zeros"]  # dir(keras.initializers) in Keras 3.15.1


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


def test_every_keras_name_is_here():
    assert [n for n in KERAS_NAMES if not hasattr(initializers, n)] == []
    assert initializers.glorot_uniform is initializers.GlorotUniform
    assert initializers.OrthogonalInitializer is initializers.Orthogonal


def test_the_names_are_keras_names(keras):
    assert {n for n in dir(keras.initializers) if not n.startswith("_")} == set(KERAS_NAMES)


# ("constant" is left out: Keras's get("constant") fails with KeyError 'value'; rnnkit's gives Constant(0.0).)
@pytest.mark.parametrize("name", ["zeros", "zero", "ones", "one", "identity", "stft", "random_normal",
                                  "normal", "random_uniform", "uniform", "truncated_normal", "variance_scaling",
                                  "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "lecun_normal",
                                  "lecun_uniform", "orthogonal", "GlorotUniform", "OrthogonalInitializer"])
def test_get_takes_keras_names(keras, name):
    ours, theirs = initializers.get(name), keras.initializers.get(name)
    assert type(ours).__name__ == type(theirs).__name__
    config = theirs.get_config()
    config.pop("seed", None)  # Keras draws a seed for an unseeded initializer; rnnkit keeps None
    # (Keras's Identity writes no config, losing its gain; rnnkit's writes {"gain": ...}.)
    assert {k: v for k, v in ours.get_config().items() if k in config} == config


def test_a_keras_config_is_read(keras):
    config = keras.initializers.serialize(keras.initializers.VarianceScaling(scale=3.0, mode="fan_out", seed=5))
    config = json.loads(json.dumps(config))  # as a file holds it: with Keras's module and registered_name
    init = initializers.get(config)
    assert isinstance(init, initializers.VarianceScaling)
    assert (init.scale, init.mode, init.distribution, init.seed) == (3.0, "fan_out", "truncated_normal", 5)


# ==== rnnkit: statistics ======================================================================================
SHAPE = (300, 400)  # fan_in 300, fan_out 400 (Keras's fans of a (300, 400) kernel)


def _stats(values):
    v = _np(values).astype(np.float64)
    return v.mean(), v.std(), v.min(), v.max()


@pytest.mark.parametrize("init, std, bound", [
    (initializers.RandomNormal(mean=0.0, stddev=0.05), 0.05, None),
    (initializers.RandomNormal(mean=1.0, stddev=2.0), 2.0, None),
    (initializers.RandomUniform(), 0.1 / math.sqrt(12), 0.05),
    (initializers.TruncatedNormal(stddev=1.0), 0.87962566103423978, 2.0),
    (initializers.VarianceScaling(), math.sqrt(1 / 300), 2 * math.sqrt(1 / 300) / 0.87962566103423978),
    (initializers.VarianceScaling(2.0, "fan_out", "untruncated_normal"), math.sqrt(2 / 400), None),
    (initializers.VarianceScaling(3.0, "fan_avg", "uniform"), math.sqrt(3 / 350), math.sqrt(9 / 350)),
    (initializers.GlorotUniform(), math.sqrt(1 / 350), math.sqrt(3 / 350)),
    (initializers.GlorotNormal(), math.sqrt(1 / 350), 2 * math.sqrt(1 / 350) / 0.87962566103423978),
    (initializers.HeUniform(), math.sqrt(2 / 300), math.sqrt(6 / 300)),
    (initializers.HeNormal(), math.sqrt(2 / 300), 2 * math.sqrt(2 / 300) / 0.87962566103423978),
    (initializers.LecunUniform(), math.sqrt(1 / 300), math.sqrt(3 / 300)),
    (initializers.LecunNormal(), math.sqrt(1 / 300), 2 * math.sqrt(1 / 300) / 0.87962566103423978),
], ids=lambda v: type(v).__name__ if isinstance(v, initializers.Initializer) else "")
def test_statistics(init, std, bound):
    mean = getattr(init, "mean", 0.0)
    got_mean, got_std, low, high = _stats(init(SHAPE))
    assert abs(got_mean - mean) < 4 * std / math.sqrt(SHAPE[0] * SHAPE[1])
    assert got_std == pytest.approx(std, rel=0.01)
    if bound is not None:  # uniform: [-limit, limit); truncated normal: within two of its stddev argument
        assert mean - bound <= low and high <= mean + bound
        assert low < mean - 0.95 * bound and high > mean + 0.95 * bound


@pytest.mark.parametrize("cls", ["RandomNormal", "RandomUniform", "TruncatedNormal", "VarianceScaling",
                                 "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "LecunUniform",
                                 "LecunNormal"])
@pytest.mark.parametrize("shape", [SHAPE, (3, 3, 40, 60)], ids=["matrix", "conv_kernel"])
def test_statistics_equal_keras(keras, cls, shape):
    # Keras's own draw of the same shape: means within 6 standard errors, standard deviations within 2%
    # (about 4 standard errors of the smaller sample), and for the bounded distributions (all but
    # RandomNormal) the same extremes, which lie next to the bounds.
    ours = _stats(getattr(initializers, cls)()(shape))
    theirs = _stats(keras.ops.convert_to_numpy(getattr(keras.initializers, cls)(seed=3)(shape)))
    scale, n = theirs[1], math.prod(shape)
    assert ours[0] == pytest.approx(theirs[0], abs=6 * scale / math.sqrt(n))
    assert ours[1] == pytest.approx(theirs[1], rel=0.02)
    if cls != "RandomNormal":
        assert ours[2] == pytest.approx(theirs[2], abs=0.02 * scale)
        assert ours[3] == pytest.approx(theirs[3], abs=0.02 * scale)


@pytest.mark.parametrize("shape", [(30, 20), (20, 30), (3, 3, 4, 8), (2, 5)])
def test_orthogonal_is_orthogonal(shape):
    gain = 1.5
    flat = _np(initializers.Orthogonal(gain=gain)(shape)).reshape(-1, shape[-1]).astype(np.float64)
    gram = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T  # columns, or rows when wider
    np.testing.assert_allclose(gram, gain**2 * np.eye(len(gram)), atol=1e-5)


def test_fixed_values_and_their_errors():
    assert_all_close(initializers.Identity()((2, 3)), np.eye(2, 3))
    with pytest.raises(ValueError, match="Identity matrix initializer can only be used for 2D matrices"):
        initializers.Identity()((2, 3, 4))
    with pytest.raises(ValueError, match="at least two-dimensional"):
        initializers.Orthogonal()((5,))
    assert initializers.Zeros()((2,), "int32").dtype == torch.int32
    assert initializers.Ones()((2,), "float64").dtype == torch.float64
    assert_all_close(initializers.Constant([1.0, 2.0])((3, 2)), [[1, 2]] * 3)


@pytest.mark.parametrize("window", ["boxcar", "triang", "bartlett", "hann", "hamming", "blackman", "cosine", "tukey"])
@pytest.mark.parametrize("length", [1, 2, 7, 64])
@pytest.mark.parametrize("periodic", [False, True])
def test_stft_windows_equal_scipy(window, length, periodic):
    scipy_signal = pytest.importorskip("scipy.signal")
    from rnnkit.initializers.spectral import get_window
    np.testing.assert_allclose(get_window(window, length, periodic),
                               scipy_signal.get_window(window, length, fftbins=periodic), atol=1e-12)


@pytest.mark.parametrize("window", ["hamming", "tukey"])
@pytest.mark.parametrize("length", [2, 7, 256])
@pytest.mark.parametrize("periodic", [False, True])
def test_the_expected_windows_without_scipy_are_scipys(window, length, periodic):
    scipy_signal = pytest.importorskip("scipy.signal")
    np.testing.assert_allclose(_numpy_window(window, length, periodic),
                               scipy_signal.get_window(window, length, fftbins=periodic), atol=1e-12)


# ==== rnnkit: seeds ===========================================================================================
def test_int_seed_same_values_every_call_generator_seed_goes_on():
    init = initializers.HeNormal(seed=7)
    assert torch.equal(init((4, 5)), init((4, 5)))
    assert not torch.equal(init((4, 5)), initializers.HeNormal(seed=8)((4, 5)))
    gen = initializers.HeNormal(seed=torch.Generator().manual_seed(7))
    first, second = gen((4, 5)), gen((4, 5))
    assert not torch.equal(first, second)
    again = initializers.HeNormal(seed=torch.Generator().manual_seed(7))
    assert torch.equal(again((4, 5)), first)


def test_unseeded_values_follow_torch_manual_seed():
    torch.manual_seed(3)
    a = initializers.GlorotUniform()((6, 4))
    torch.manual_seed(3)
    assert torch.equal(initializers.GlorotUniform()((6, 4)), a)
    with pytest.raises(ValueError, match="`seed` argument should be"):
        initializers.RandomNormal(seed="1")


# ==== rnnkit: inside layers (PyTorch's layouts, Keras's fans and values) =====================================
def test_a_seeded_initializer_gives_a_layer_its_keras_shaped_values():
    # The same values as init(keras_shape), in the layer's Keras weights: the kernel turned around for Dense,
    # the gate blocks reordered for GRU, GRU's two biases one (2, 3H) draw, a conv kernel's axes moved.
    assert_all_close(Dense(4, kernel_initializer=initializers.GlorotUniform(seed=1), input_size=3).keras_weights()[0],
                     initializers.GlorotUniform(seed=1)((3, 4)))
    lstm = LSTM(4, kernel_initializer=initializers.HeUniform(seed=1), recurrent_initializer=initializers.Orthogonal(
        seed=2), bias_initializer=initializers.RandomNormal(seed=3), unit_forget_bias=False, input_size=3)
    kernel, recurrent, bias = lstm.keras_weights()
    assert_all_close(kernel, initializers.HeUniform(seed=1)((3, 16)))
    assert_all_close(recurrent, initializers.Orthogonal(seed=2)((4, 16)))
    assert_all_close(bias, initializers.RandomNormal(seed=3)((16,)))
    gru = GRU(4, kernel_initializer=initializers.Identity(), recurrent_initializer=initializers.Orthogonal(seed=2),
              bias_initializer=initializers.RandomNormal(seed=3), input_size=3)
    kernel, recurrent, bias = gru.keras_weights()
    assert_all_close(kernel, np.eye(3, 12))  # Keras's eye: the ones in the first (update gate) block
    assert_all_close(recurrent, initializers.Orthogonal(seed=2)((4, 12)))
    assert_all_close(bias, initializers.RandomNormal(seed=3)((2, 12)))
    conv = Conv1D(5, 3, kernel_initializer=initializers.LecunNormal(seed=4), in_channels=2)
    assert_all_close(conv.keras_weights()[0], initializers.LecunNormal(seed=4)((3, 2, 5)))
    convlstm = ConvLSTM1D(2, 3, kernel_initializer=initializers.Orthogonal(seed=5), input_shape=(4, 6, 3))
    keras_kernel = convlstm.cell.keras_weights()[0]
    assert_all_close(keras_kernel, initializers.Orthogonal(seed=5)((3, 3, 8)), atol=1e-6)


def test_layer_weights_have_keras_fans():
    # Dense(units=1000) on 10 features: Keras's fan_in is 10 (the kernel (10, 1000)), PyTorch's weight (1000, 10)
    weight = Dense(1000, kernel_initializer="he_normal", input_size=10).weight
    assert _np(weight).std() == pytest.approx(math.sqrt(2 / 10), rel=0.03)
    # LSTM(50) on 8 features: kernel (8, 200), glorot limit sqrt(6 / 208)
    kernel = _np(LSTM(50, input_size=8).cell.weight_ih)
    assert np.abs(kernel).max() <= math.sqrt(6 / 208) and np.abs(kernel).max() > 0.97 * math.sqrt(6 / 208)
    # Conv1D(16, 5) on 4 channels: kernel (5, 4, 16): fan_in 20
    weight = Conv1D(16, 5, kernel_initializer=initializers.HeUniform(), in_channels=4).weight
    assert np.abs(_np(weight)).max() <= math.sqrt(6 / 20)


def _builders():
    x3 = dict(kernel_initializer=initializers.GlorotNormal(seed=1), bias_initializer=initializers.Constant(0.1))
    rec = dict(kernel_initializer=initializers.HeNormal(seed=1), recurrent_initializer=initializers.Orthogonal(
        gain=0.5, seed=2), bias_initializer=initializers.RandomUniform(seed=3))
    builders = {
        "Dense": lambda: Dense(3, input_size=2, **x3),
        "Conv1D": lambda: Conv1D(3, 2, in_channels=2, **x3),
        "Conv2D": lambda: Conv2D(3, 2, kernel_initializer=initializers.LecunUniform(seed=1), in_channels=2),
        "Embedding": lambda: Embedding(5, 3, embeddings_initializer=initializers.RandomNormal(seed=1)),
        "LayerNormalization": lambda: LayerNormalization(beta_initializer=initializers.Constant(0.5),
                                                         gamma_initializer=initializers.RandomNormal(1.0, 0.1, seed=1),
                                                         input_shape=(4,)),
        "BatchNormalization": lambda: BatchNormalization(
            beta_initializer=initializers.Zeros(), gamma_initializer=initializers.Ones(),
            moving_mean_initializer=initializers.Constant(0.25), moving_variance_initializer="ones",
            input_shape=(4,)),
        "LSTM": lambda: LSTM(3, input_size=2, **rec), "GRU": lambda: GRU(3, input_size=2, **rec),
        "SimpleRNN": lambda: SimpleRNN(3, input_size=2, **rec),
        "LSTMCell": lambda: rnnkit.cells.LSTMCell(3, input_size=2, **rec),
        "GRUCell": lambda: rnnkit.cells.GRUCell(3, input_size=2, **rec),
        "SimpleRNNCell": lambda: rnnkit.cells.SimpleRNNCell(3, input_size=2, **rec),
        "ConvLSTM1D": lambda: ConvLSTM1D(2, 3, input_shape=(4, 6, 3), **rec),
        "ConvLSTM2D": lambda: ConvLSTM2D(2, 3, input_shape=(4, 6, 6, 3), **rec),
        "ConvLSTM3D": lambda: rnnkit.layers.ConvLSTM3D(2, 2, input_shape=(2, 3, 3, 3, 1), **rec),
        "ConvLSTMCell": lambda: rnnkit.cells.ConvLSTMCell(2, 2, 3, input_size=2, **rec),
        "Conv3D": lambda: rnnkit.layers.Conv3D(2, 2, kernel_initializer=initializers.HeUniform(seed=1),
                                               in_channels=2),
        "PReLU": lambda: rnnkit.layers.PReLU(alpha_initializer=initializers.RandomUniform(seed=4), input_shape=(3, 2)),
    }
    return builders


def _with_initializer_arguments():
    import inspect

    from rnnkit.registry import registered
    found = []
    for name, cls in sorted(registered().items()):
        try:
            params = inspect.signature(cls.__init__).parameters
        except (TypeError, ValueError):
            continue
        if any(p.endswith("_initializer") for p in params) and cls.__module__.startswith("rnnkit."):
            found.append(name)
    return found


def test_every_class_with_initializer_arguments_is_checked_here():
    missing = sorted(set(_with_initializer_arguments()) - set(_builders()))
    assert not missing, f"add a builder for {missing} to _builders() in this file"


@pytest.mark.parametrize("name", sorted(_builders()))
def test_every_initializer_argument_takes_objects_and_round_trips(name):
    if name not in _with_initializer_arguments():
        pytest.skip(f"rnnkit has no {name} here")
    layer = _builders()[name]()
    config = layer.get_config()
    json.dumps(config)  # a file can hold it
    again = deserialize(json.loads(json.dumps(serialize(layer))))
    assert again.get_config() == config
    for key, value in config.items():
        if key.endswith("_initializer") and isinstance(value, dict):  # objects are saved as Keras's dicts
            assert isinstance(initializers.get(value), initializers.Initializer)
            saved = getattr(layer, key, None) or getattr(getattr(layer, "cell", None), key, None)
            assert type(initializers.get(value)) is type(saved)


def test_a_model_with_initializer_objects_saves_and_loads(tmp_path):
    model = Sequential([Input((5, 2)),
                        LSTM(4, kernel_initializer=initializers.GlorotUniform(seed=1),
                             recurrent_initializer=initializers.Orthogonal(gain=0.9, seed=2),
                             bias_initializer=initializers.TruncatedNormal(stddev=0.1, seed=3), return_sequences=True),
                        GRU(3, kernel_initializer=initializers.VarianceScaling(2.0, "fan_avg", "uniform", seed=4)),
                        Dense(2, kernel_initializer=initializers.HeNormal(seed=5), bias_initializer=0.1)])
    config = model.layers[0].get_config()
    assert config["kernel_initializer"] == {"class_name": "GlorotUniform",
                                            "config": {"seed": 1, "input_axes": None, "output_axes": None}}
    assert config["recurrent_initializer"] == {"class_name": "Orthogonal", "config": {"seed": 2, "gain": 0.9}}
    x = np.random.default_rng(0).normal(size=(3, 5, 2)).astype("float32")
    before = model.predict(x)
    model.save(tmp_path / "m.rnnkit")
    again = rnnkit.load(tmp_path / "m.rnnkit")
    np.testing.assert_allclose(again.predict(x), before, atol=1e-6)
    assert again.layers[0].get_config() == config
    assert again.layers[1].cell.kernel_initializer.get_config()["scale"] == 2.0
    # a model built again from the configs draws the same seeded weights
    for ours, theirs in zip([deserialize(serialize(layer)) for layer in model.layers], model.layers):
        for a, b in zip(ours.keras_weights()[:1], theirs.keras_weights()[:1]):
            assert_all_close(a, b)


def test_names_numbers_and_functions_still_work():
    calls = []

    def fill_ones(w):  # rnnkit's torch-style initializer: fills the PyTorch-layout weight in place
        calls.append(tuple(w.shape))
        return torch.nn.init.ones_(w)

    layer = LSTM(2, kernel_initializer=fill_ones, recurrent_initializer="orthogonal", bias_initializer=0.5,
                 unit_forget_bias=False, input_size=3)
    assert calls == [(8, 3)]
    assert_all_close(layer.cell.weight_ih, np.ones((8, 3)))
    assert_all_close(layer.cell.bias_ih, np.full(8, 0.5))
    config = layer.get_config()
    assert config["recurrent_initializer"] == "orthogonal" and config["bias_initializer"] == 0.5
    assert "kernel_initializer" not in config  # a function is kept by the layer, not by its config
    assert isinstance(initializers.get("he_normal"), initializers.HeNormal)
    assert_all_close(initializers.glorot_uniform_(torch.empty(3, 4)).abs().max() <= math.sqrt(6 / 7), True)


def test_keras_style_custom_initializers_fill_layers():
    class Halves(initializers.Initializer):  # written as for Keras: __call__(shape, dtype) returns the values
        def __call__(self, shape, dtype=None):
            return torch.full(shape, 0.5) * torch.arange(shape[-1])

    def keras_function(shape, dtype=None):
        return np.arange(np.prod(shape), dtype="float32").reshape(shape)

    dense = Dense(3, kernel_initializer=Halves(), bias_initializer=keras_function, input_size=2)
    assert_all_close(dense.keras_weights()[0], [[0, 0.5, 1.0]] * 2)
    assert_all_close(dense.keras_weights()[1], [0, 1, 2])
    assert_all_close(Halves()((2, 3)), [[0, 0.5, 1.0]] * 2)
    lstm = LSTM(1, kernel_initializer=Halves(), input_size=2)
    assert_all_close(lstm.keras_weights()[0], [[0, 0.5, 1.0, 1.5]] * 2)


def test_serialize_keras_object_round_trips_initializers():
    from rnnkit.utils import deserialize_keras_object, serialize_keras_object
    for init in (initializers.GlorotUniform(seed=1), initializers.Constant(np.arange(3.0)),
                 initializers.VarianceScaling(2.0, "fan_out", seed=torch.Generator().manual_seed(4))):
        config = json.loads(json.dumps(serialize_keras_object(init)))
        assert config["module"] == "rnnkit.initializers"
        again = deserialize_keras_object(config)
        assert type(again) is type(init) and json.dumps(again.get_config()) == json.dumps(init.get_config())
    keras_written = {"module": "keras.initializers", "class_name": "HeNormal", "config": {"seed": 3},
                     "registered_name": None}
    assert deserialize_keras_object(keras_written).get_config()["seed"] == 3
