"""The fused optimizer step rnnkit picks must do the same arithmetic as torch's per-tensor step."""

import numpy as np
import pytest
import torch

from rnnkit import LSTM, Dense, Input, Sequential, optimizers


def _params(seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(s, generator=g, requires_grad=True) for s in [(8, 3), (8,), (16, 4), (1,)]]


def _run(spec, fused: bool, steps=5):
    params = _params()
    opt = spec.build(params)
    if not fused:  # the same optimizer built the per-tensor way
        opt = type(opt)(params, **{k: v for k, v in opt.defaults.items() if k not in ("fused", "foreach")},
                        foreach=False)
    g = torch.Generator().manual_seed(1)
    for _ in range(steps):
        for p in params:
            p.grad = torch.randn(p.shape, generator=g)
        opt.step()
    return opt, [p.detach().clone() for p in params]


@pytest.mark.parametrize("spec", [optimizers.Adam(), optimizers.Adam(amsgrad=True), optimizers.SGD(momentum=0.9),
                                  optimizers.SGD(momentum=0.9, nesterov=True), optimizers.Adagrad()],
                         ids=["adam", "amsgrad", "momentum", "nesterov", "adagrad"])
def test_fused_step_equals_per_tensor_step(spec):
    fused_opt, fused = _run(spec, fused=True)
    plain_opt, plain = _run(spec, fused=False)
    assert fused_opt.defaults.get("fused") is True and not plain_opt.defaults.get("fused")
    moved = max(float((a - b).abs().max()) for a, b in zip(plain, [p.detach() for p in _params()]))
    assert moved > 1e-3  # the steps did change the weights
    for a, b in zip(fused, plain):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


def test_compiled_model_trains_with_the_fused_step():
    model = Sequential([Input((4, 1)), LSTM(3), Dense(1)])
    model.compile("adam", "mse")
    model.fit(np.zeros((4, 4, 1), np.float32), np.ones((4, 1), np.float32), epochs=1, verbose=0)
    assert model.optimizer.defaults["fused"] is True


def test_no_fusion_for_mixed_or_empty_parameter_lists():
    assert not optimizers.can_fuse([])
    assert not optimizers.can_fuse([torch.zeros(2, dtype=torch.long)])
    assert optimizers.can_fuse([torch.zeros(2), torch.zeros(3, dtype=torch.float64)])
