"""rnnkit's counterpart of Keras's `testing.TestCase.run_layer_test`, for the layer ports in this folder.

It checks what Keras's helper checks that applies to a PyTorch module: the output shape, the number of
trainable weights (parameters with gradients) and non-trainable weights (parameters without, and
buffers: BatchNormalization's moving statistics), `supports_masking`, whether weights exist right after construction, that gradients flow
back to the input, and that the config and the state dict rebuild a layer giving the same output.
Keras's symbolic-tensor, mixed-precision, seed-generator and loss checks have no rnnkit counterpart.
"""

from __future__ import annotations

import numpy as np
import torch

from rnnkit.layers.serialize import deserialize, serialize


def run_layer_test(cls, init_kwargs: dict, input_shape: tuple, expected_output_shape: tuple,
                   expected_num_trainable_weights: int = 0, expected_num_non_trainable_weights: int = 0,
                   supports_masking: bool = False, assert_built_after_instantiation: bool = False,
                   call_kwargs: dict | None = None):
    layer = cls(**init_kwargs)
    call_kwargs = call_kwargs or {}
    if assert_built_after_instantiation:
        assert not layer.awaiting_build()
    x = torch.randn(*input_shape, requires_grad=True)
    y = layer(x, **call_kwargs)
    assert tuple(y.shape) == tuple(expected_output_shape)
    assert len([p for p in layer.parameters() if p.requires_grad]) == expected_num_trainable_weights
    frozen = [p for p in layer.parameters() if not p.requires_grad] + list(layer.buffers())
    assert len(frozen) == expected_num_non_trainable_weights
    assert bool(layer.supports_masking) == supports_masking
    y.sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape

    spec = serialize(layer)
    rebuilt = deserialize(spec)
    assert type(rebuilt) is cls
    assert rebuilt.get_config() == layer.get_config()
    rebuilt.load_state_dict(layer.state_dict())
    with torch.no_grad():
        np.testing.assert_allclose(rebuilt(x.detach()).numpy(), layer(x.detach()).numpy(), atol=1e-6, rtol=1e-6)
    if any(p.requires_grad for p in layer.parameters()) and y.requires_grad:
        assert any(p.grad is not None for p in layer.parameters())
    return layer
