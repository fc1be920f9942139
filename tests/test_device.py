"""Device placement the PyTorch way: kept states follow the model, checkpoints load onto a device."""

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import LSTM, Dense, Input, Sequential

RNG = np.random.default_rng(0)
CUDA = torch.cuda.is_available()


def _stateful():
    torch.manual_seed(0)
    model = Sequential([Input((None, 2), batch_size=2), LSTM(3, stateful=True, name="enc"), Dense(1)])
    model.compile("adam", "mse")
    return model


def test_kept_states_follow_the_model_to_another_device():
    model = _stateful()
    model.predict(RNG.normal(size=(2, 4, 2)).astype(np.float32))
    model.to("meta")  # a device without data: enough to see what moved
    assert {p.device.type for p in model.parameters()} == {"meta"}
    assert [s.device.type for s in model.get_states()["enc"]] == ["meta", "meta"]


def test_load_puts_weights_states_and_optimizer_on_the_device_asked(tmp_path):
    model = _stateful()
    x, y = RNG.normal(size=(2, 4, 2)).astype(np.float32), RNG.normal(size=(2, 1)).astype(np.float32)
    model.fit(x, y, batch_size=2, epochs=1, shuffle=False, verbose=0)
    model.save(tmp_path / "m.rnnkit")
    expected = model.predict(x)  # continues from the saved states
    for kwargs in ({"device": "cpu"}, {"map_location": torch.device("cpu")}):
        loaded = rnnkit.load(tmp_path / "m.rnnkit", **kwargs)
        assert loaded.optimizer_built and all(
            s.device == p.device for p in loaded.parameters() for s in loaded.optimizer.state[p].values()
            if isinstance(s, torch.Tensor) and s.dim())
        np.testing.assert_allclose(loaded.predict(x), expected, atol=1e-6)
    with pytest.raises(ValueError, match="device must be a torch device.*received 'gpu-please'"):
        rnnkit.load(tmp_path / "m.rnnkit", device="gpu-please")
    with pytest.raises(ValueError, match="disagree"):
        rnnkit.load(tmp_path / "m.rnnkit", device="cpu", map_location="meta")


@pytest.mark.skipif(CUDA, reason="checks the message given when no CUDA device exists")
def test_asking_for_cuda_without_one_says_so(tmp_path):
    _stateful().save(tmp_path / "m.rnnkit")
    with pytest.raises(ValueError, match="sees no CUDA device"):
        rnnkit.load(tmp_path / "m.rnnkit", device="cuda")


@pytest.mark.skipif(not CUDA, reason="needs a CUDA device")
def test_a_checkpoint_loads_onto_cuda_and_continues_as_on_the_cpu(tmp_path):
    model = _stateful()
    x = RNG.normal(size=(2, 6, 2)).astype(np.float32)
    model.predict(x[:, :3])
    model.save(tmp_path / "m.rnnkit")
    on_gpu = rnnkit.load(tmp_path / "m.rnnkit", device="cuda")
    assert {p.device.type for p in on_gpu.parameters()} == {"cuda"}
    assert {s.device.type for s in on_gpu.get_states()["enc"]} == {"cuda"}
    np.testing.assert_allclose(on_gpu.predict(x[:, 3:]), model.predict(x[:, 3:]), atol=1e-3)


@pytest.mark.skipif(not CUDA, reason="needs a CUDA device")
def test_generate_and_stream_run_on_cuda_as_on_the_cpu():
    torch.manual_seed(0)
    model = Sequential([Input((None, 2)), LSTM(8, return_sequences=True), Dense(2)])
    x = RNG.normal(size=(3, 5, 2)).astype(np.float32)
    on_cpu = rnnkit.generate(model, x, horizon=4)
    model.to("cuda")
    np.testing.assert_allclose(rnnkit.generate(model, x, horizon=4), on_cpu, atol=1e-3)
    stream = rnnkit.Stream(model, series=3)
    np.testing.assert_allclose(stream.prime(x), model.predict(x)[:, -1], atol=1e-3)
