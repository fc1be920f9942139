"""Keras 3's keras/src/layers/merging/merging_test.py, the cases of Average, Subtract, Maximum, Minimum
and Dot, and test_errors for Add and Multiply too, ported to rnnkit with Keras's numbers and tolerances
(Multiply's other cases are in test_multiply.py).

Keras attaches masks to tensors; rnnkit's merge layers take them as `mask=[mask_1, mask_2]` (Maximum,
Minimum) or through `compute_mask` (the output mask), so the *_with_mask cases pass
Masking().compute_mask(x) explicitly. Not applicable: test_correctness_dynamic's mask check on
backend.Variable masks; test_sparse.
"""

import inspect

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import Model
from rnnkit.layers import (Add, Average, Dot, Input, Masking, Maximum, Minimum, Multiply, Subtract, average, dot,
                           maximum, minimum, subtract)


def np_dot(a, b, axes):
    if isinstance(axes, int):
        axes = (axes, axes)
    axes = [axis if axis < 0 else axis - 1 for axis in axes]
    res = np.stack([np.tensordot(a[i], b[i], axes) for i in range(a.shape[0])])
    if len(res.shape) == 1:
        res = np.expand_dims(res, axis=1)
    return res


TEST_PARAMETERS = {
    "subtract": dict(layer_class=Subtract, np_op=np.subtract),
    "minimum": dict(layer_class=Minimum, np_op=np.minimum),
    "maximum": dict(layer_class=Maximum, np_op=np.maximum),
    "average": dict(layer_class=Average, np_op=lambda a, b: np.multiply(np.add(a, b), 0.5)),
    "dot_2d": dict(layer_class=Dot, np_op=np_dot, init_kwargs={"axes": -1}, input_shape=(2, 4),
                   expected_output_shape=(2, 1), skip_mask_test=True),
    "dot_3d": dict(layer_class=Dot, np_op=np_dot, init_kwargs={"axes": -1}, expected_output_shape=(2, 4, 4),
                   skip_mask_test=True),
}
CASES = pytest.mark.parametrize("case", list(TEST_PARAMETERS))


def _case(name):
    return {"init_kwargs": {}, "input_shape": (2, 4, 5), "expected_output_shape": (2, 4, 5), "skip_mask_test": False,
            **TEST_PARAMETERS[name]}


# Keras: test_basic
@CASES
def test_basic(case):
    c = _case(case)
    layer = c["layer_class"](**c["init_kwargs"])
    x = [torch.randn(*c["input_shape"], requires_grad=True), torch.randn(*c["input_shape"], requires_grad=True)]
    y = layer(x)
    assert tuple(y.shape) == c["expected_output_shape"] and layer.supports_masking
    assert len(list(layer.parameters())) == 0
    y.sum().backward()
    assert all(t.grad is not None for t in x)
    rebuilt = type(layer).from_config(layer.get_config())
    np.testing.assert_allclose(rebuilt([t.detach() for t in x]).numpy(), y.detach().numpy(), atol=1e-6)


# Keras: test_correctness_static and test_correctness_dynamic
@CASES
@pytest.mark.parametrize("static", [True, False], ids=["static", "dynamic"])
def test_correctness(case, static):
    c = _case(case)
    input_shape = c["input_shape"]
    x1, x2 = np.random.rand(*input_shape), np.random.rand(*input_shape)
    x3 = c["np_op"](x1, x2, **c["init_kwargs"])
    batch_size = input_shape[0] if static else None
    input_1, input_2 = Input(input_shape[1:], batch_size=batch_size), Input(input_shape[1:], batch_size=batch_size)
    layer = c["layer_class"](**c["init_kwargs"])
    model = Model([input_1, input_2], layer([input_1, input_2]))
    res = model([x1, x2])
    assert tuple(res.shape) == c["expected_output_shape"]
    np.testing.assert_allclose(res.detach().numpy(), x3, atol=1e-4, rtol=1e-6)
    assert layer.compute_mask([x1, x2], [None, None]) is None
    if not c["skip_mask_test"]:
        mask1, mask2 = np.ones(input_shape[:-1], dtype=np.bool_), np.ones(input_shape[:-1], dtype=np.bool_)
        assert bool(layer.compute_mask([x1, x2], [mask1, mask2]).all())


# Keras: test_errors (with Add's and Multiply's cases)
@pytest.mark.parametrize("layer_class", [Add, Multiply] + [_case(c)["layer_class"] for c in TEST_PARAMETERS
                                                           if not _case(c)["skip_mask_test"]])
def test_errors(layer_class):
    x1 = np.random.rand(2, 4, 5)
    layer = layer_class()
    with pytest.raises(ValueError, match="`mask` should be a list."):
        layer.compute_mask([x1, x1], x1)
    with pytest.raises(ValueError, match="`inputs` should be a list."):
        layer.compute_mask(x1, [None, None])
    with pytest.raises(ValueError, match=" should have the same length."):
        layer.compute_mask([x1, x1], [None])


# Keras: test_subtract_layer_inputs_length_errors
def test_subtract_layer_inputs_length_errors():
    input_1, input_2, input_3 = Input((4, 5)), Input((4, 5)), Input((4, 5))
    with pytest.raises(ValueError, match="layer should be called on exactly 2 inputs"):
        Subtract()([input_1, input_2, input_3])
    with pytest.raises(ValueError, match="layer should be called on exactly 2 inputs"):
        Subtract()([input_1])


# Keras: test_dot_higher_dim
def test_dot_higher_dim():
    a_shape, b_shape = (1, 3, 2), (1, 1, 2, 3)
    c = Dot(axes=(-2, -1))([Input(batch_shape=a_shape), Input(batch_shape=b_shape)])
    assert c.shape == (1, 2, 1, 2)
    c = Dot(axes=(-2, -1))([np.random.random(a_shape), np.random.random(b_shape)])
    assert tuple(c.shape) == (1, 2, 1, 2)


def _masked(values):
    x = torch.tensor(values, dtype=torch.float32)
    return Masking()(x), Masking().compute_mask(x, None)


def _check_with_mask(layer_class, first, second, expected_one_mask, expected_two_masks):
    x1, m1 = _masked(first)
    x2 = torch.tensor(second, dtype=torch.float32)
    layer = layer_class()
    np.testing.assert_allclose(layer([x1, x2], **_mask_kwarg(layer, [m1, None])).numpy(), expected_one_mask,
                               atol=1e-6)
    assert layer.compute_mask([x1, x2], [m1, None]) is None
    x2, m2 = _masked(second)
    np.testing.assert_allclose(layer([x1, x2], **_mask_kwarg(layer, [m1, m2])).numpy(), expected_two_masks,
                               atol=1e-6)
    np.testing.assert_allclose(layer.compute_mask([x1, x2], [m1, m2]).numpy(), [[0, 1, 1, 1]])


def _mask_kwarg(layer, masks):
    # the masks a functional model hands the layer: only to a forward that takes them (Keras: `call(mask=)`)
    return {"mask": masks} if "mask" in inspect.signature(layer.forward).parameters else {}


# Keras: test_subtract_with_mask
def test_subtract_with_mask():
    _check_with_mask(Subtract, [[[0, 0], [1, 2], [0, 0], [3, 4]]], [[[0, 0], [0, 0], [1, 2], [3, 4]]],
                     [[[0, 0], [1, 2], [-1, -2], [0, 0]]], [[[0, 0], [1, 2], [-1, -2], [0, 0]]])


# Keras: test_average_with_mask
def test_average_with_mask():
    _check_with_mask(Average, [[[0, 0], [1, 2], [0, 0], [3, 4]]], [[[0, 0], [0, 0], [1, 2], [3, 4]]],
                     [[[0, 0], [0.5, 1], [0.5, 1], [3, 4]]], [[[0, 0], [0.5, 1], [0.5, 1], [3, 4]]])


# Keras: test_maximum_with_mask
def test_maximum_with_mask():
    _check_with_mask(Maximum, [[[0, 0], [-1, -2], [0, 0], [-3, -4]]], [[[0, 0], [0, 0], [-1, -2], [-3, -4]]],
                     [[[0, 0], [0, 0], [-1, -2], [-3, -4]]], [[[0, 0], [-1, -2], [-1, -2], [-3, -4]]])


# Keras: test_minimum_with_mask
def test_minimum_with_mask():
    _check_with_mask(Minimum, [[[0, 0], [1, 2], [0, 0], [3, 4]]], [[[0, 0], [0, 0], [1, 2], [3, 4]]],
                     [[[0, 0], [0, 0], [1, 2], [3, 4]]], [[[0, 0], [1, 2], [1, 2], [3, 4]]])


# -- beyond Keras's file ---------------------------------------------------------------------------------
def test_functional_forms_save_and_load(tmp_path):
    a, b = Input((3, 4)), Input((3, 4))
    outputs = [average([a, b]), subtract([a, b]), maximum([a, b]), minimum([a, b]), dot([a, b], axes=2),
               dot([a, b], axes=(1, 1), normalize=True)]
    model = Model([a, b], outputs)
    xs = [np.random.default_rng(k).normal(size=(2, 3, 4)).astype("float32") for k in range(2)]
    got = model.predict(xs, verbose=0)
    expected = [(xs[0] + xs[1]) / 2, xs[0] - xs[1], np.maximum(*xs), np.minimum(*xs), np_dot(xs[0], xs[1], 2)]
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, atol=1e-5)
    unit = [x / np.linalg.norm(x, axis=1, keepdims=True) for x in xs]
    np.testing.assert_allclose(got[5], np_dot(unit[0], unit[1], (1, 1)), atol=1e-5)
    model.save(tmp_path / "m.rnnkit")
    for g, e in zip(rnnkit.load(tmp_path / "m.rnnkit").predict(xs, verbose=0), got):
        np.testing.assert_allclose(g, e, atol=1e-6)


def test_maximum_masks_in_a_functional_model():
    a, b = Input((4, 2)), Input((4, 2))
    model = Model([a, b], Maximum()([Masking(0.0)(a), Masking(0.0)(b)]))
    x1 = np.array([[[0, 0], [-1, -2], [0, 0], [-3, -4]]], "float32")
    x2 = np.array([[[0, 0], [0, 0], [-1, -2], [-3, -4]]], "float32")
    np.testing.assert_allclose(model.predict([x1, x2], verbose=0), [[[0, 0], [-1, -2], [-1, -2], [-3, -4]]])


@pytest.mark.parametrize("axes, error, message", [
    ("x", TypeError, "Invalid type for argument `axes`: it should be a list or an int. Received: axes='x'"),
    ((1, 2, 3), ValueError, "Invalid format for argument `axes`: it should contain two elements"),
    ((1, "2"), ValueError, "Invalid format for argument `axes`: list elements should be integers")])
def test_dot_axes_are_checked(axes, error, message):
    with pytest.raises(error, match=message):
        Dot(axes=axes)


def test_dot_refuses_axes_of_different_sizes_and_the_batch_axis():
    with pytest.raises(ValueError, match=r"Incompatible input shapes: axis values 3 \(at axis 1\) != 4"):
        Dot(axes=1)([torch.ones(2, 3), torch.ones(2, 4)])
    with pytest.raises(ValueError, match="must name a non-batch axis"):
        Dot(axes=0)([torch.ones(2, 3), torch.ones(2, 3)])


def test_dot_output_has_no_mask():
    m = torch.ones(2, 3, dtype=torch.bool)
    assert Dot(axes=2).compute_mask([torch.ones(2, 3, 4)] * 2, [m, m]) is None
