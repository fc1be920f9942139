"""One file per model: config (JSON), weights, kept states, scaler and optimizer state (safetensors).

Keras's `model.save` drops the states of stateful layers; rnnkit keeps them, so a model saved in
the middle of a sequence continues exactly where it stopped after `rnnkit.load` in a new process.

The file is a plain safetensors file: tensors named ``weights/...``, ``states/<layer name>/<i>`` and
``optimizer/<param>/<key>``, and rnnkit's JSON header in the safetensors metadata. Writes are atomic
(temporary file, fsync, rename) and every tensor is checksummed, so a crash never leaves a half
checkpoint behind and a damaged file is refused before anything changes.

>>> import tempfile, os, numpy as np
>>> from rnnkit import Sequential, Input, LSTM, Dense
>>> model = Sequential([Input((3, 1)), LSTM(4), Dense(1)])
>>> path = os.path.join(tempfile.mkdtemp(), "model.rnnkit")
>>> model.save(path)
>>> x = np.ones((2, 3, 1))
>>> bool(np.allclose(load(path).predict(x), model.predict(x)))
True
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import struct
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from ..data.scaling import Scaler
from ..layers.rnn import RNN
from ..registry import get_registered, registered_name
from ..optimizers import OptimizerSpec

FORMAT = "rnnkit"
FORMAT_VERSION = 2  # 2: states keyed by layer name (1: by module path, still read)


class CheckpointError(ValueError):
    """A file that is not a readable rnnkit checkpoint (truncated, corrupt, foreign or too new)."""


# -- writing ---------------------------------------------------------------------------------------
def save(model, path, scaler=None, include_optimizer: bool = True) -> None:
    """Write `model` (config, weights, kept states, scaler, optimizer state) to one file, atomically."""
    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "model": model_config(model),
              "compile": _compile_config(model), "scaler": None}
    scaler = scaler if scaler is not None else getattr(model, "scaler", None)
    if scaler is not None:
        header["scaler"] = scaler.to_dict()
    tensors = {f"weights/{k}": v for k, v in model.state_dict().items()}
    header["state_keys"] = {}  # module path -> layer name: a model rebuilt from arguments may name layers anew
    paths = {id(m): where for where, m in model.named_modules()}
    for layer in stateful_layers(model):
        header["state_keys"][paths[id(layer)]] = layer.state_key
        for i, s in enumerate(layer.states or []):
            tensors[f"states/{layer.state_key}/{i}"] = s
    if include_optimizer and model.optimizer_built:
        header["optimizer"] = _optimizer_state(model.optimizer, tensors)
    # Clones: safetensors refuses tensors that share memory (a shared layer's weights appear twice).
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}
    header["checksum"] = _checksum(tensors)
    try:
        metadata = {"rnnkit": json.dumps(header)}
    except TypeError as err:
        raise TypeError(f"Cannot save this model: its configuration holds a Python object ({err}). Use "
                        "activation names (e.g. 'relu') instead of functions, or save the weights only "
                        "with torch.save(model.state_dict(), path).") from None
    atomic_write(path, st_save(tensors, metadata))


def atomic_write(path, data: bytes) -> None:
    """Write `data` to `path` so that a crash leaves either the old file or the new one, never a mix."""
    path = Path(path)
    if not path.parent.exists():
        raise FileNotFoundError(f"Cannot save to {str(path)!r}: the folder {str(path.parent)!r} does not "
                                "exist. Create it first (Path(...).mkdir(parents=True)).")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic on POSIX and Windows: readers see the old or the new file
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable
        fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def model_config(model) -> dict:
    """{"class_name", "config" or "arguments"} from which `build_model` makes the same architecture."""
    name = registered_name(type(model))
    if name is None:
        raise TypeError(f"Cannot save a {type(model).__name__}: its class is not registered. Decorate it with "
                        "@rnnkit.register_serializable() and give it get_config(), or save the weights with "
                        "torch.save(model.state_dict()).")
    if getattr(model, "init_config", None) is not None:  # topologies: their constructor arguments
        return {"class_name": name, "arguments": dict(model.init_config)}
    if hasattr(model, "get_config"):
        return {"class_name": name, "config": model.get_config()}
    raise TypeError(f"Cannot save a {type(model).__name__}: it has no configuration. Subclasses of "
                    "BaseModel can define get_config(); or save the weights with torch.save.")


def stateful_layers(model) -> list[RNN]:
    """Every stateful recurrent layer of `model`; its states are saved under its name (its state_key)."""
    return [m for m in model.modules() if isinstance(m, RNN) and m.stateful]


def _compile_config(model) -> dict | None:
    if model.loss_fn is None:
        return None
    spec = model.optimizer_config
    optimizer = dataclasses.asdict(spec) if dataclasses.is_dataclass(spec) else None
    return {"loss": model.loss_name, "metrics": [name for _, name in model.metric_fns], "optimizer": optimizer,
            "jit_compile": model.jit_compile}


def _optimizer_state(optimizer: torch.optim.Optimizer, tensors: dict) -> dict:
    state = optimizer.state_dict()
    plain = {}
    for pid, values in state["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optimizer/{pid}/{key}"] = value
            else:
                plain.setdefault(str(pid), {})[key] = value
    return {"param_groups": state["param_groups"], "plain": plain}


def _checksum(tensors: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name]
        digest.update(f"{name}:{t.dtype}:{tuple(t.shape)};".encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()


# -- reading ---------------------------------------------------------------------------------------
def read(path) -> tuple[dict, dict[str, torch.Tensor]]:
    """(header, tensors) of an rnnkit file, checked: truncation, corruption, foreign files, versions."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No rnnkit model at {str(path)!r}.")
    data = path.read_bytes()
    where = f"{str(path)!r}"
    if len(data) < 8:
        raise CheckpointError(f"{where} is truncated ({len(data)} bytes): not a complete rnnkit checkpoint.")
    (size,) = struct.unpack("<Q", data[:8])
    if size > len(data) - 8:
        raise CheckpointError(f"{where} is truncated or not a safetensors file: its header claims {size} "
                              f"bytes but the file has {len(data) - 8} after the length field.")
    try:
        meta = json.loads(data[8:8 + size]).get("__metadata__") or {}
        header = json.loads(meta["rnnkit"])
    except (ValueError, KeyError, AttributeError, UnicodeDecodeError):
        raise CheckpointError(f"{where} is not an rnnkit checkpoint (no rnnkit header; a Keras file? use "
                              "rnnkit.load_keras).") from None
    version = header.get("format_version")
    if header.get("format") != FORMAT or not isinstance(version, int):
        raise CheckpointError(f"{where} has no valid rnnkit format header.")
    if version > FORMAT_VERSION:
        raise CheckpointError(f"{where} was written in rnnkit file format {version}; this rnnkit reads up to "
                              f"format {FORMAT_VERSION}. Upgrade rnnkit (pip install -U rnnkit).")
    try:
        tensors = st_load(data)
    except (SafetensorError, ValueError, RuntimeError) as err:
        raise CheckpointError(f"{where} is truncated or corrupt: {err}") from None
    if _checksum(tensors) != header.get("checksum"):
        raise CheckpointError(f"{where} is corrupt: its tensors do not match the checksum written with them.")
    return header, tensors


def _device(device, map_location) -> torch.device | None:
    if device is not None and map_location is not None and str(device) != str(map_location):
        raise ValueError(f"load: device={device!r} and map_location={map_location!r} disagree; pass one of them.")
    wanted = device if device is not None else map_location
    if wanted is None:
        return None
    try:
        wanted = torch.device(wanted)
    except (RuntimeError, TypeError):
        raise ValueError(f"load: device must be a torch device such as 'cpu' or 'cuda:0', received {wanted!r}.") from None
    if wanted.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"load: device {str(wanted)!r} asked for, but this PyTorch sees no CUDA device "
                         f"(torch {torch.__version__}). Load on 'cpu', or install a CUDA build of PyTorch.")
    return wanted


def load(path, custom_objects: dict | None = None, compile: bool = True, device=None, map_location=None):
    """Rebuild the model saved at `path` with its weights, kept states, scaler and optimizer state.

    `device` (or PyTorch's spelling `map_location`) puts the model, its kept states and its optimizer
    state on that device; by default they load on the CPU.
    """
    target = _device(device, map_location)
    header, tensors = read(path)
    model = build_model(header["model"], custom_objects)
    model.load_state_dict(_weights(tensors), strict=True)
    paths = {id(m): where for where, m in model.named_modules()}
    saved_keys = header.get("state_keys") or {}
    for layer in stateful_layers(model):
        if header["format_version"] < 2:
            key = paths[id(layer)]
        else:  # the layer at the same place in the model; by name for files without the map
            key = saved_keys.get(paths[id(layer)], layer.state_key)
        kept = [tensors[f"states/{key}/{i}"] for i in range(len(layer.get_initial_state(1)))
                if f"states/{key}/{i}" in tensors]
        layer.reset_states(kept or None)
    if header.get("scaler") is not None:
        model.scaler = Scaler.from_dict(header["scaler"])
    if target is not None:
        model.to(target)  # weights and kept states; the optimizer below is made on the weights' device
    if compile and header.get("compile"):
        _restore_compile(model, header, tensors)
    return model


def load_weights(model, path) -> None:
    """Copy the weights saved at `path` into `model`; a mismatch raises before anything is copied."""
    _, tensors = read(path)
    weights = _weights(tensors)
    own = model.state_dict()
    missing, unexpected = sorted(set(own) - set(weights)), sorted(set(weights) - set(own))
    wrong = [f"{k}: file {tuple(weights[k].shape)} vs model {tuple(own[k].shape)}"
             for k in set(own) & set(weights) if weights[k].shape != own[k].shape]
    if missing or unexpected or wrong:
        raise ValueError(f"The weights in {str(path)!r} do not fit this model (nothing was changed). "
                         f"Missing: {missing[:5]}; unexpected: {unexpected[:5]}; shapes: {wrong[:5]}.")
    model.load_state_dict(weights, strict=True)


def _weights(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The state dict stored under ``weights/``."""
    return {k[len("weights/"):]: v for k, v in tensors.items() if k.startswith("weights/")}


def build_model(spec: dict, custom_objects: dict | None = None):
    """The model `model_config` described, its class looked up by name (never imported from the file)."""
    cls = get_registered(spec["class_name"], custom_objects)
    if cls is None:
        raise CheckpointError(f"Unknown model class {spec['class_name']!r}. Register your BaseModel subclass with "
                              "@rnnkit.register_serializable(), or pass custom_objects={'Name': cls}.")
    if "arguments" in spec:
        return cls(**spec["arguments"])
    return cls.from_config(spec["config"], custom_objects)


def _restore_compile(model, header: dict, tensors: dict) -> None:
    compiled = header["compile"]
    spec = compiled.get("optimizer")
    if compiled.get("loss") is None or spec is None:
        return  # custom loss or torch optimizer: the user compiles again
    model.compile(optimizer=OptimizerSpec(**spec), loss=compiled["loss"], metrics=compiled["metrics"],
                  jit_compile=compiled.get("jit_compile", False))
    saved = header.get("optimizer")
    if saved is None:
        return
    state: dict = {}
    for name, value in tensors.items():
        if name.startswith("optimizer/"):
            _, pid, key = name.split("/", 2)
            state.setdefault(int(pid), {})[key] = value
    for pid, values in saved["plain"].items():
        state.setdefault(int(pid), {}).update(values)
    model.optimizer.load_state_dict({"state": state, "param_groups": saved["param_groups"]})
