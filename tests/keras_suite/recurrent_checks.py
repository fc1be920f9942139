"""What Keras's `run_layer_test` checks of LSTM, GRU and SimpleRNN (their `test_basics`), for rnnkit.

Checked: the output shape; the trainable weights as Keras counts them (`keras_weights()`: kernel,
recurrent_kernel, bias; a GRU with reset_after keeps Keras's one (2, 3H) bias as PyTorch's two
parameters), all of them trainable, no non-trainable ones; `supports_masking`; the number of
`losses` after a call; gradients reaching the input; the config and the weights rebuilding a layer with
the same output; and Keras's training check: a model holding the layer trains, with a loss that is
the compiled loss plus `sum(model.losses)`.

Not applicable: Keras's symbolic-call, mixed-precision and seed-generator checks
(`expected_num_non_trainable_variables=1` of SimpleRNN counts Keras's SeedGenerator state; rnnkit
draws dropout masks from torch's generator).
"""

from __future__ import annotations

import numpy as np
import torch

from rnnkit.layers import Input
from rnnkit.models import Sequential

CONST = dict(kernel_initializer=0.01, recurrent_initializer=0.02, bias_initializer=0.03)
TOL = dict(atol=1e-6, rtol=1e-6)  # Keras's assertAllClose defaults
DATA_FORMATS = ["channels_last", "channels_first"]  # the conv-recurrent ports run every case under both


def by_format(channels_last: bool, last: tuple, first: tuple) -> tuple:
    """A shape as Keras's conv-recurrent tests write it for each image_data_format."""
    return last if channels_last else first
TOL5 = dict(atol=1e-5, rtol=1e-5)


def close(actual, expected, tol=TOL):
    np.testing.assert_allclose(np.asarray(actual.detach() if isinstance(actual, torch.Tensor) else actual),
                               np.asarray(expected), **tol)


def run_layer_test(cls, init_kwargs: dict, input_shape: tuple, expected_output_shape: tuple,
                   expected_num_trainable_weights: int, expected_num_non_trainable_weights: int = 0,
                   expected_num_losses: int | None = None, supports_masking: bool = False,
                   call_kwargs: dict | None = None):
    torch.manual_seed(0)
    layer = cls(**init_kwargs)
    x = torch.randn(*input_shape, requires_grad=True)
    y = layer(x, **(call_kwargs or {}))
    assert tuple(y.shape) == tuple(expected_output_shape)
    assert len(layer.keras_weights()) == expected_num_trainable_weights
    assert all(p.requires_grad for p in layer.parameters())
    assert len(list(layer.buffers())) == expected_num_non_trainable_weights
    assert bool(layer.supports_masking) == supports_masking
    if expected_num_losses is not None:
        assert len(layer.losses) == expected_num_losses
    y.sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape

    config = layer.get_config()
    rebuilt = cls.from_config(config)
    assert rebuilt.get_config() == config
    rebuilt.set_keras_weights(layer.keras_weights())
    with torch.no_grad():
        close(rebuilt(x.detach()), layer(x.detach()))

    # Keras's run_training_step: the layer trains inside a model, and the loss fit minimises includes
    # the layer's regularization losses.
    model = Sequential([Input(input_shape[1:]), cls.from_config({**config, "name": f"{layer.name}_trained"})])
    model.compile(optimizer="sgd", loss="mse")
    data = np.random.default_rng(0).standard_normal(input_shape).astype("float32")
    target = np.zeros(expected_output_shape, "float32")
    history = model.fit(data, target, epochs=1, batch_size=input_shape[0], verbose=0, shuffle=False)
    assert np.isfinite(history.history["loss"][0])
    with torch.no_grad():
        mse = float(((model(torch.tensor(data)) - torch.tensor(target)) ** 2).mean())
        penalties = float(sum(model.losses)) if model.losses else 0.0
    assert len(model.losses) == (expected_num_losses or 0)
    np.testing.assert_allclose(model.evaluate(data, target, verbose=0), mse + penalties, rtol=1e-5)
    return layer
