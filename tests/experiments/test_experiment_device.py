"""`rnnkit run NAME --device D` and `rnnkit demo --device D`: the models and data of a run go to D, the
demo says which device it uses, and a device this machine lacks is refused in one line that says how to
fix it. A tiny stand-in experiment keeps these checks to seconds; the eight real ones run on the default
device in test_experiments.py."""

import re
import types

import numpy as np
import pytest
import torch

from rnnkit import Dense, Input, LSTM, Sequential, cli, experiments
from rnnkit.experiments.report import BASELINE, SEED_SETUP, Metric, Result, Row, Scoreboard

no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message for a machine without CUDA")


def _recording_experiment(seen: list) -> types.SimpleNamespace:
    """An experiment with the real ones' interface that records the device it was given and the device
    its model's weights and fit's data were on."""

    def run(out, quick: bool = False, seed: int = 0, device: str = "cpu") -> Result:
        model = Sequential([Input((4, 1)), LSTM(3), Dense(1)]).to(device)
        model.compile("adam", "mse")
        x = np.random.default_rng(seed).normal(size=(8, 4, 1)).astype("float32")
        loss = model.fit(x, x.sum(1), epochs=1, verbose=0).history["loss"][-1]
        seen.append({"given": device, "weights": next(model.parameters()).device,
                     "data": model.convert_x(x).device})
        board = Scoreboard([Metric("loss")], [Row("LSTM(3)", SEED_SETUP, [loss]),
                                              Row("a loss no model gets", BASELINE, [1e9])])
        return Result("tiny", "a tiny stand-in", {"loss": loss}, board, quick)

    return types.SimpleNamespace(NAME="tiny", TITLE="a tiny stand-in", run=run)


@pytest.fixture
def seen(monkeypatch):
    seen: list = []
    monkeypatch.setattr(experiments, "REGISTRY", {"tiny": _recording_experiment(seen)})
    return seen


def test_run_on_the_cpu_puts_models_and_data_there(seen, tmp_path, capsys):
    assert cli.main(["run", "tiny", "--quick", "--device", "cpu", "--out", str(tmp_path)]) == 0
    assert seen == [{"given": "cpu", "weights": torch.device("cpu"), "data": torch.device("cpu")}]
    assert "(quick, 1 seed, cpu)" in capsys.readouterr().out
    assert (tmp_path / "report.md").exists()


def test_the_demo_announces_the_device_it_uses(seen, tmp_path, capsys):
    assert cli.main(["demo", "--out", str(tmp_path)]) == 0  # no --device: the GPU if there is one
    first = capsys.readouterr().out.splitlines()[0]
    announced = re.fullmatch(r"rnnkit demo on (\S+) \((.+)\)", first)
    assert announced, first
    assert announced.group(1) == experiments.default_device() == seen[0]["given"]
    assert seen[0]["weights"].type == seen[0]["data"].type == torch.device(announced.group(1)).type
    if announced.group(1) == "cpu":
        assert announced.group(2) == f"{torch.get_num_threads()} threads"


def test_the_default_device_is_cuda_when_pytorch_sees_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert experiments.default_device() == "cuda" and experiments.check_device(None) == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert experiments.default_device() == "cpu" and experiments.check_device(None) == "cpu"


@no_gpu
@pytest.mark.parametrize("command", [["run", "tiny"], ["demo"]])
@pytest.mark.parametrize("device", ["cuda", "cuda:0"])
def test_cuda_without_a_gpu_is_refused_in_one_line_that_says_how_to_fix_it(seen, tmp_path, capsys, command,
                                                                           device):
    assert cli.main([*command, "--device", device, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert re.search(rf"device '{device}' was asked for, but PyTorch sees no CUDA device \(this PyTorch "
                     r"\S+ is a CPU-only build\)\. Run on the CPU with --device cpu", err)
    assert "install a CUDA build of PyTorch" in err
    assert seen == []  # refused before anything ran


@no_gpu
def test_the_library_call_refuses_cuda_the_same_way(seen, tmp_path):
    with pytest.raises(ValueError, match="device 'cuda' was asked for, but PyTorch sees no CUDA device"):
        experiments.run("tiny", tmp_path, quick=True, device="cuda")


@pytest.mark.parametrize("device", ["gpu", "tpu", "xpu"])
def test_an_unknown_device_is_refused_with_the_valid_ones(seen, tmp_path, capsys, device):
    assert cli.main(["run", "tiny", "--device", device, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert re.search(rf"Unknown device '{device}': experiments run on 'cpu', 'cuda' \(or 'cuda:N' for GPU N\) "
                     r"or 'mps'\. This machine has: cpu", err)


def test_a_device_that_is_not_a_string_is_a_type_error():
    with pytest.raises(TypeError, match="device must be a string such as 'cpu' or 'cuda', received 0"):
        experiments.check_device(0)
