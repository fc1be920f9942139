"""Distributed fit: 2 real processes under torchrun (gloo, 1 thread each) train exactly as 1 process with
the same global batch, each on its half of every batch; stateful rows stay on their rank; checkpoints
move between world sizes. The job itself is tests/training/distributed_job.py."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch.distributed as dist

from rnnkit.training import distributed

JOB = Path(__file__).with_name("distributed_job.py")
pytestmark = pytest.mark.skipif(not dist.is_available() or sys.platform == "win32",
                                reason="torch.distributed with gloo")


def _run(args, nproc: int | None, timeout: float = 600):
    """Run the job as one plain process (nproc None) or under torchrun; fail with its stderr if it fails."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    # torchrun --standalone binds its ports itself (port 0): no port chosen here that another process could
    # take before torchrun binds it.
    command = [*([sys.executable] if nproc is None else distributed.torchrun_command(nproc)), str(JOB),
               *map(str, args)]
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            # SIGTERM, not SIGKILL: torchrun then stops its ranks, which run in sessions of their own and would
            # outlive a killed torchrun, taking the CPU from the tests after this one.
            proc.terminate()
            try:
                _, err = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
            pytest.fail(f"{' '.join(command)} did not finish in {timeout:.0f} s; stderr ends:\n{err[-6000:]}")
    assert proc.returncode == 0, f"{' '.join(command)} exited with {proc.returncode}; stderr ends:\n{err[-6000:]}"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    _run([out], None)                                   # 1 process: the reference, and half-1.rnnkit
    _run([out, out / "half-1.rnnkit"], 2)               # 2 ranks, resuming the 1-process checkpoint
    second = out / "from-2"
    second.mkdir()
    _run([second, out / "half-2.rnnkit"], None)         # 1 process resuming the 2-rank checkpoint
    load = lambda p: dict(np.load(p))
    return {"one": load(out / "result-1-rank0.npz"), "rank0": load(out / "result-2-rank0.npz"),
            "rank1": load(out / "result-2-rank1.npz"), "one_from_two": load(second / "result-1-rank0.npz")}


def _keys(result, prefix):
    return sorted(k for k in result if k.startswith(prefix + "/") and "/rows" not in k)


@pytest.mark.parametrize("case", ["stateless", "shuffled", "stateful", "generator"])
def test_two_ranks_train_as_one_process_with_the_same_global_batch(runs, case):
    # Weights after 50 steps; for arrays also History's loss, metrics (R2Score: the ranks' summed states) and
    # val_loss per epoch (the stateful model validates from the whole stateful batch) and the kept states.
    one, r0, r1 = runs["one"], runs["rank0"], runs["rank1"]
    keys = _keys(one, case)
    assert any("/weights/" in k for k in keys)
    if case != "generator":
        assert all(any(f"/{name}/" in k for k in keys) for name in ("loss", "val_loss", "mae", "r2", "val_r2"))
    for k in keys:  # weights after 50 steps, the History's losses, a stateful model's kept states
        np.testing.assert_allclose(r0[k], one[k], rtol=1e-5, atol=1e-6, err_msg=k)
        np.testing.assert_array_equal(r0[k], r1[k], err_msg=k)  # the ranks agree exactly


@pytest.mark.parametrize("case", ["stateless", "shuffled", "stateful"])
def test_each_rank_trains_on_its_half_of_every_batch(runs, case):
    one, r0, r1 = runs["one"][f"{case}/rows"], runs["rank0"][f"{case}/rows"], runs["rank1"][f"{case}/rows"]
    assert len(r0) == len(r1) == len(one) // 2  # 16 of each batch of 32, not the whole data
    batches = one.reshape(-1, 32)
    np.testing.assert_array_equal(r0.reshape(-1, 16), batches[:, :16])
    np.testing.assert_array_equal(r1.reshape(-1, 16), batches[:, 16:])
    if case == "stateful":  # rank r owns the same rows of the stateful layout in every batch
        assert set(r0 % 32) == set(range(16)) and set(r1 % 32) == set(range(16, 32))


def test_checkpoints_move_between_world_sizes_and_training_continues_exactly(runs):
    straight = runs["one"]
    for resumed in (runs["rank0"], runs["one_from_two"]):  # 1 -> 2 ranks, and 2 ranks -> 1
        keys = _keys(resumed, "resume")
        assert len(keys) == 7  # 5 weights, h and c
        for k in keys:
            np.testing.assert_allclose(resumed[k], straight[k.replace("resume/", "straight/")], rtol=1e-5,
                                       atol=1e-6, err_msg=k)


def test_without_a_process_group_fit_is_not_distributed():
    assert not distributed.active() and distributed.rank() == 0 and distributed.world_size() == 1
    assert not distributed.wanted(None) and not distributed.wanted(False)
    with pytest.raises(TypeError, match="DataParallel"):
        distributed.wanted("yes")


def test_rnnkit_run_nproc_launches_torchrun_and_relays_a_ranks_error_in_one_line(tmp_path):
    # airline's seed setup is stateful at batch 1, which cannot be split over 2 ranks: every rank
    # refuses, and the CLI prints that once, without torchrun's traceback, and writes nothing.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        env.pop(key, None)
    done = subprocess.run([sys.executable, "-m", "rnnkit.cli", "run", "airline", "--quick", "--nproc", "2",
                           "--out", str(tmp_path / "out")], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    lines = [l for l in done.stderr.splitlines() if l.strip()]
    assert lines == ["rnnkit run: fit: a stateful model trained on 2 ranks needs a batch_size that 2 divides "
                     "(each rank keeps the same rows of every batch: a series never changes rank), received "
                     "batch_size=1. Use a multiple of 2 such as 2 (series in parallel), or train on fewer processes."]
    assert "Traceback" not in done.stdout and not (tmp_path / "out" / "report.md").exists()
