"""Data-parallel `fit` over torch.distributed: the same training on 1 or N processes.

Under ``torchrun --nproc_per_node N script.py`` (or with a process group the script made, or with
``fit(distribute=DataParallel())``), `fit` trains on N ranks: gloo on the CPU, NCCL on CUDA.

- ``batch_size`` is the global batch, as in Keras's distribution API: every rank draws the same batch
  (one shuffling seed, broadcast from rank 0) and takes its contiguous share of the rows, so a script
  gives the same training on 1 or N processes.
- Gradients are averaged as DistributedDataParallel averages them (one flat all-reduce per step), each
  rank's weighted by its share of the batch, so the update equals the one-process update even when a
  batch does not split evenly. The reduction sits in `apply_gradients`, Keras's override point, so a
  user's `train_step` and the compiled step are distributed too; DDP's own wrapper would forward around
  them and broadcast kept states as buffers.
- Stateful models: rank r owns rows r*B/N ... (r+1)*B/N - 1 of the stateful batch B for the whole fit,
  so a series' state never changes rank. The states are split when fit starts and gathered back when it
  ends (and whenever a checkpoint is written), so outside fit the model is what one process would hold.
- Losses and metrics are averaged across ranks (weighted by rows) for History, progress and callbacks;
  rank 0 decides whether to stop and every rank follows; only rank 0 prints and writes files.
`generate` and `Stream` stay single-process. `torchrun_command` is the launch on this machine that
`rnnkit run --nproc` and the tests use.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DataParallel:
    """Keras-style distribution for ``fit(distribute=DataParallel())``: train on every rank of the
    process group, starting one from torchrun's environment if none exists. `backend` defaults to
    NCCL when CUDA is available, gloo otherwise."""

    backend: str | None = None


def torchrun_command(nproc: int) -> list[str]:
    """The command, up to the script, that starts `nproc` ranks on this machine under torchrun.

    ``--standalone``: torchrun's rendezvous and the store the ranks meet at listen on port 0, so the
    kernel picks a free port as it binds. A port found free beforehand and passed as ``--master_port``
    can be taken by another process before torchrun binds it, and the launch then fails with EADDRINUSE.
    ``--local_addr 127.0.0.1``: the ranks reach that store on the loopback address, not at whatever the
    machine's host name resolves to."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc),
            "--local_addr", "127.0.0.1"]


def initialize(backend: str | None = None) -> bool:
    """Start the process group torchrun describes (RANK, WORLD_SIZE, MASTER_ADDR in the environment),
    unless one exists; returns whether training is distributed (more than one rank)."""
    if not dist.is_available():
        return False
    if not dist.is_initialized():
        if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or "RANK" not in os.environ:
            return False
        backend = backend or ("nccl" if torch.cuda.is_available() else "gloo")
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend)
        # A process group left for interpreter finalization can abort the process (gloo's worker threads
        # still hold tensors when Python is torn down: "terminate called without an active exception",
        # SIGABRT after the script's last line; pytorch#190489). The group started here is destroyed
        # while the interpreter is still whole.
        atexit.register(shutdown)
    return dist.get_world_size() > 1


def shutdown() -> None:
    """Destroy the default process group if one exists (what `initialize` registers to run at exit;
    calling it earlier is allowed and the exit hook then does nothing)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def wanted(distribute) -> bool:
    """Whether a fit with ``distribute=`` (None: whatever the environment says; a DataParallel; False:
    this process alone) trains on several ranks; starts torchrun's process group if needed."""
    if distribute is False:
        return False
    if distribute is None or distribute is True:
        return initialize()
    if isinstance(distribute, DataParallel):
        return initialize(distribute.backend)
    raise TypeError(f"fit: distribute must be None, False or rnnkit.distribute.DataParallel(), received "
                    f"{distribute!r}.")


def active() -> bool:
    """Whether a process group of more than one rank exists."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if active() else 0


def world_size() -> int:
    return dist.get_world_size() if active() else 1


def is_main() -> bool:
    """Whether this process prints and writes files (rank 0, or the only process)."""
    return rank() == 0


class Shard:
    """One distributed fit: which rows this rank takes, and the collectives every rank makes together."""

    def __init__(self, model, batch_size: int):
        self.model = model
        self.rank, self.size = dist.get_rank(), dist.get_world_size()
        self.device = (torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl"
                       else torch.device("cpu"))  # where the small collectives (logs, flags) run
        if model.stateful and batch_size % self.size:
            up = batch_size + self.size - batch_size % self.size
            raise ValueError(
                f"fit: a stateful model trained on {self.size} ranks needs a batch_size that {self.size} divides "
                f"(each rank keeps the same rows of every batch: a series never changes rank), received "
                f"batch_size={batch_size}. Use a multiple of {self.size} such as {up} (series in parallel), "
                "or train on fewer processes.")
        self.batch_size = batch_size
        self.grad_scale = 1.0

    def begin(self) -> None:
        """Same weights everywhere, this rank's rows of kept states, and the model knows it is sharded."""
        self.sync_weights()
        self.split_states()
        self.model.__dict__["_shard"] = self  # apply_gradients and save look for it

    def end(self) -> None:
        """Outside fit the model is whole again: every rank holds the whole stateful batch's states."""
        self.model.__dict__.pop("_shard", None)
        self.gather_states()

    # -- data ------------------------------------------------------------------------------------------
    def rows(self, index: np.ndarray) -> np.ndarray:
        """This rank's contiguous share of a global batch's row numbers; sets the gradient weight."""
        part = np.array_split(index, self.size)[self.rank]
        self.grad_scale = len(part) / max(len(index), 1)
        return part

    def local_batch(self, n: int) -> None:
        """A batch this rank read itself (a generator's): its gradient weight is its share of all rows."""
        t = torch.tensor([float(n)], dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        self.grad_scale = n / max(float(t.item()), 1.0)

    def shared_seed(self, seed: int | None) -> int:
        """The shuffling seed every rank uses: the given one, or one drawn on rank 0."""
        value = [seed if seed is not None else int(np.random.randint(0, 2**31 - 1))]
        dist.broadcast_object_list(value, src=0)
        return int(value[0])

    # -- weights and gradients -------------------------------------------------------------------------
    def sync_weights(self) -> None:
        """Every rank starts from rank 0's weights (as DistributedDataParallel does when it wraps a model)."""
        with torch.no_grad():
            for p in self.model.state_dict(keep_vars=True).values():
                if isinstance(p, torch.Tensor) and p.is_floating_point():
                    dist.broadcast(p.data if isinstance(p, torch.nn.Parameter) else p, src=0)

    def average_gradients(self, params: list[torch.Tensor]) -> None:
        """Sum of every rank's gradient weighted by its share of the batch: the one-process gradient."""
        with_grad = [p for p in params if p.requires_grad]
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in with_grad]
        flat = torch.cat([g.reshape(-1) for g in grads]) * self.grad_scale
        dist.all_reduce(flat)
        offset = 0
        for p in with_grad:
            n = p.numel()
            p.grad = flat[offset:offset + n].view_as(p).clone()
            offset += n

    def idle_step(self) -> dict[str, float]:
        """A rank with no rows in this batch (a last batch smaller than the ranks) joins the update with
        zero gradients; its logs count for nothing."""
        for p in self.model.trainable_weights:
            p.grad = torch.zeros_like(p)
        self.model.apply_gradients()
        return {"loss": 0.0, **self.model.idle_metric_values()}

    # -- logs and decisions ----------------------------------------------------------------------------
    def reduce_logs(self, values: dict, n: int) -> tuple[dict, int]:
        """Row-weighted means of `values` (floats, or arrays: a summed-state metric's state) over every
        rank's rows, and the rows in all."""
        keys = sorted(values)
        parts = [np.atleast_1d(np.asarray(values[k], dtype=np.float64)) * n for k in keys]
        t = torch.tensor(np.concatenate([[float(n)], *parts]), dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        total = int(round(float(t[0])))
        means, offset = {}, 1
        for k, part in zip(keys, parts):
            mean = t[offset:offset + part.size].cpu().numpy() / max(total, 1)
            means[k] = float(mean[0]) if np.ndim(values[k]) == 0 else mean
            offset += part.size
        return means, total

    def agree(self, flag: bool) -> bool:
        """Rank 0's value of `flag`, on every rank (stop training, save a checkpoint)."""
        t = torch.tensor([1.0 if flag else 0.0], device=self.device)
        dist.broadcast(t, src=0)
        return bool(t.item())

    # -- states of stateful layers ----------------------------------------------------------------------
    def stateful_layers(self) -> list:
        return [m for m in self.model.recurrent_layers() if m.stateful]

    def split_states(self) -> None:
        """Keep only this rank's rows of kept states that cover the whole stateful batch."""
        share = self.batch_size // self.size
        for layer in self.stateful_layers():
            if layer.states is not None and layer.states[0].shape[0] == self.batch_size:
                layer.reset_states([s[self.rank * share:(self.rank + 1) * share].clone() for s in layer.states])

    def gather_states(self) -> None:
        """Every rank's rows of kept states, concatenated in rank order, on every rank."""
        for layer in self.stateful_layers():
            if layer.states is None:
                continue
            full = []
            for s in layer.states:
                parts = [torch.empty_like(s) for _ in range(self.size)]
                dist.all_gather(parts, s.contiguous())
                full.append(torch.cat(parts, dim=0))
            layer.reset_states(full)


@contextlib.contextmanager
def whole_states(shard: Shard | None):
    """Within the block every rank holds the whole stateful batch's kept states (validation, a
    checkpoint); this rank's rows again after it."""
    if shard is None:
        yield
        return
    shard.gather_states()
    try:
        yield
    finally:
        shard.split_states()
