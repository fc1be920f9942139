"""One file per model: config (JSON), weights, kept states, scaler and optimizer state (safetensors).

Keras's `model.save` drops the states of stateful layers; rnnkit keeps them, so a model saved in
the middle of a sequence continues exactly where it stopped after `rnnkit.load` in a new process.

The file is a plain safetensors file: tensors named ``weights/...``, ``states/<layer name>/<i>`` and
``optimizer/<param>/<key>``, and rnnkit's JSON header in the safetensors metadata. Writes are atomic
(a temporary file with an unpredictable name, fsync, rename), and a SHA-256 digest covers every byte
of the file (the headers too), so a crash never leaves a half checkpoint behind and a file changed in
any byte is refused before anything changes.

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

import hashlib
import json
import os
import re
import secrets
import struct
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from .. import checks
from ..data.scaling import Scaler
from ..layers.rnn import RNN
from ..registry import get_registered, registered_name
from ..training import distributed
from . import carried
from .compile_state import compile_config, optimizer_state, restore_compile

FORMAT = "rnnkit"
FORMAT_VERSION = 3  # 3: a digest of the whole file; 2: states keyed by layer name; 1: by module path
DIGEST_KEY = "rnnkit_sha256"  # safetensors metadata entry holding the file's digest
_DIGEST = re.compile(rb'"rnnkit_sha256"\s*:\s*"([0-9a-f]{64})"')
_PLACEHOLDER = "0" * 64


class CheckpointError(ValueError):
    """A file that is not a readable rnnkit checkpoint (truncated, corrupt, foreign or too new)."""


# -- writing ---------------------------------------------------------------------------------------
def save(model, path, scaler=None, include_optimizer: bool = True) -> None:
    """Write `model` (config, weights, kept states, scaler, optimizer state) to one file, atomically.

    In a distributed fit every rank calls this (ModelCheckpoint does): the ranks' rows of kept states
    are gathered into one stateful batch and rank 0 alone writes the file.
    """
    with distributed.whole_states(model.__dict__.get("_shard")):
        if distributed.is_main():
            _save(model, path, scaler, include_optimizer)


def _save(model, path, scaler, include_optimizer: bool) -> None:
    atomic_write(path, encode(model, scaler, include_optimizer))


def encode(model, scaler=None, include_optimizer: bool = True) -> bytes:
    """The bytes of the rnnkit file `save` writes (what a Keras file written by `model.save` carries too)."""
    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "model": model_config(model),
              "compile": compile_config(model), "scaler": None}
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
        header["optimizer"] = optimizer_state(model.optimizer, tensors)
    # Clones: safetensors refuses tensors that share memory (a shared layer's weights appear twice).
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}
    try:
        metadata = {"rnnkit": json.dumps(header), DIGEST_KEY: _PLACEHOLDER}
    except TypeError as err:
        raise TypeError(f"Cannot save this model: its configuration holds a Python object ({err}). Use "
                        "activation names (e.g. 'relu') instead of functions, or save the weights only "
                        "with torch.save(model.state_dict(), path).") from None
    return _sealed(st_save(tensors, metadata))


def _sealed(data: bytes) -> bytes:
    """`data` with the placeholder digest replaced by the SHA-256 of the file (digest field zeroed)."""
    (size,) = struct.unpack("<Q", data[:8])
    found = list(_DIGEST.finditer(data, 8, 8 + size))
    assert len(found) == 1 and found[0].group(1) == _PLACEHOLDER.encode(), "digest field not written once"
    start, end = found[0].span(1)
    digest = hashlib.sha256(data).hexdigest().encode()
    return data[:start] + digest + data[end:]


def _digest_matches(data: bytes, size: int) -> bool:
    """Whether the digest stored in the header equals the SHA-256 of the file with that field zeroed."""
    found = list(_DIGEST.finditer(data, 8, 8 + size))
    if len(found) != 1:
        return False
    start, end = found[0].span(1)
    stored = found[0].group(1)
    return hashlib.sha256(data[:start] + _PLACEHOLDER.encode() + data[end:]).hexdigest().encode() == stored


def atomic_write(path, data: bytes, rnnkit_format: bool = True) -> None:
    """Write `data` to `path` so that a crash leaves either the old file or the new one, never a mix.

    The temporary file is created exclusively, with an unpredictable name, in the target's folder, and
    never through a symbolic link (a link planted at a guessed name cannot redirect the write). A file
    that is replaced keeps its permission bits. Temporary files of earlier saves to the same path whose
    process has died (killed mid-save) are removed. `rnnkit_format=False` (a Keras file being written)
    skips the warning about a Keras suffix on an rnnkit file.
    """
    path = _target(path, rnnkit_format)
    _remove_stale_temporaries(path)
    mode = None
    if path.exists():
        mode = path.stat().st_mode & 0o7777
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)  # 0o666 less the umask, as for any new file
            break
        except FileExistsError:
            continue
        except PermissionError:
            raise PermissionError(f"Cannot save to {str(path)!r}: no permission to create files in "
                                  f"{str(path.parent)!r}. Save somewhere you can write.") from None
    else:  # pragma: no cover - 100 collisions of 64 random bits
        raise FileExistsError(f"Cannot save to {str(path)!r}: could not create a temporary file beside it.")
    try:
        with os.fdopen(fd, "wb") as f:
            if mode is not None and hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), mode)
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


def _target(path, rnnkit_format: bool = True) -> Path:
    """`path` as a Path a file can be saved at, or a clear error."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"Cannot save: the path must be a str or a pathlib.Path, received {type(path).__name__}.")
    if str(path) == "":
        raise ValueError("Cannot save: the path is empty. Pass a file name such as 'model.rnnkit'.")
    path = Path(path)
    if rnnkit_format:
        checks.rnnkit_file(path, "save")
    if path.is_dir():
        raise IsADirectoryError(f"Cannot save to {str(path)!r}: it is a folder. Pass a file name inside it, "
                                f"e.g. {str(path / 'model.rnnkit')!r}.")
    if not path.parent.exists():
        raise FileNotFoundError(f"Cannot save to {str(path)!r}: the folder {str(path.parent)!r} does not "
                                "exist. Create it first (Path(...).mkdir(parents=True)).")
    return path


def _remove_stale_temporaries(path: Path) -> None:
    """Delete `.<name>.<pid>.<random>.tmp` files beside `path` left by saves whose process is gone."""
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(\d+)\.[0-9a-f]{{16}}\.tmp")
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return
    for entry in entries:
        found = pattern.fullmatch(entry.name)
        if found and not _alive(int(found.group(1))):
            try:
                os.unlink(entry.path)  # a link planted there is removed, never followed
            except OSError:
                pass


def _alive(pid: int) -> bool:
    if pid == os.getpid() or os.name == "nt":  # on Windows signal 0 is CTRL_C_EVENT: never send it
        return True  # (and another thread of this process may be saving)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True  # exists but belongs to someone else, or cannot tell: keep the file
    return True


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


def _checksum(tensors: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name]
        digest.update(f"{name}:{t.dtype}:{tuple(t.shape)};".encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()


# -- reading ---------------------------------------------------------------------------------------
def read(path) -> tuple[dict, dict[str, torch.Tensor]]:
    """(header, tensors) of an rnnkit file, checked: truncation, corruption, foreign files, versions.

    A file of format 3 must match the digest it carries over all of its bytes; files of formats 1 and
    2 (written before the digest existed) are checked by the checksum of their tensors.
    """
    if not isinstance(path, (str, os.PathLike)) or str(path) == "":
        raise TypeError(f"load: the path must be a non-empty str or pathlib.Path, received {path!r:.80}.")
    path = Path(path)
    where = f"{str(path)!r}"
    if path.is_dir():
        raise IsADirectoryError(f"{where} is a folder, not an rnnkit checkpoint. Pass the .rnnkit file inside it.")
    if not path.is_file():
        raise FileNotFoundError(f"No rnnkit model at {where}.")
    try:
        data = path.read_bytes()
    except PermissionError:
        raise PermissionError(f"Cannot read {where}: permission denied. Check the file's permissions "
                              "(chmod u+r) or copy it somewhere readable.") from None
    if carried.is_keras_container(data):  # a Keras file written by model.save carries rnnkit's file inside
        try:
            inner = carried.carried(data, where)
        except carried.KerasFileError as err:
            raise CheckpointError(str(err)) from None
        if inner is None:
            raise CheckpointError(f"{where} is a Keras model file without rnnkit's checkpoint inside (written by "
                                  "Keras, or by rnnkit.save_keras): it holds weights but no kept states. Load it "
                                  "with rnnkit.load_keras(path) (rnnkit.load_model does that by itself).")
        return decode(inner, f"the rnnkit checkpoint inside {where}", carried_inside=True)
    return decode(data, where)


def decode(data: bytes, where: str, carried_inside: bool = False) -> tuple[dict, dict[str, torch.Tensor]]:
    """(header, tensors) of the bytes of an rnnkit file, checked as `read` checks a file. `carried_inside`:
    the bytes are the checkpoint a Keras file carries (rnnkit wrote them), so an unreadable header means
    damage, not a foreign file."""
    if len(data) < 8:
        raise CheckpointError(f"{where} is truncated ({len(data)} bytes): not a complete rnnkit checkpoint.")
    (size,) = struct.unpack("<Q", data[:8])
    if size > len(data) - 8:
        raise CheckpointError(f"{where} is truncated or not a safetensors file: its header claims {size} "
                              f"bytes but the file has {len(data) - 8} after the length field.")
    outer, header, digest = _header(data, size, where, carried_inside)
    version = header.get("format_version")
    if header.get("format") != FORMAT or type(version) is not int:
        raise CheckpointError(f"{where} has no valid rnnkit format header.")
    if version > FORMAT_VERSION:
        raise CheckpointError(f"{where} was written in rnnkit file format {version}; this rnnkit reads up to "
                              f"format {FORMAT_VERSION}. Upgrade rnnkit (pip install -U rnnkit).")
    body = _body_length(outer)
    if body is not None and body > len(data) - 8 - size:
        raise CheckpointError(f"{where} is truncated or corrupt: its tensors need {body} bytes after the "
                              f"header, the file has {len(data) - 8 - size}.")
    if (digest is not None or version >= 3) and not _digest_matches(data, size):
        raise CheckpointError(f"{where} is corrupt: its bytes do not match the digest written with them "
                              "(the file was changed or damaged after it was saved). Use another copy.")
    try:
        tensors = st_load(data)
    except (SafetensorError, ValueError, RuntimeError) as err:
        raise CheckpointError(f"{where} is truncated or corrupt: {err}") from None
    if digest is None and _checksum(tensors) != header.get("checksum"):
        raise CheckpointError(f"{where} is corrupt: its tensors do not match the checksum written with them.")
    _check_structure(header, where)
    return header, tensors


def _header(data: bytes, size: int, where: str, carried_inside: bool = False) -> tuple[dict, dict, str | None]:
    """The safetensors JSON header, rnnkit's header inside it and the stored digest (None in files
    older than format 3)."""
    if carried_inside:
        not_ours = CheckpointError(f"{where} is corrupt: its header cannot be read (the file was changed or damaged "
                                   "after it was saved). Use another copy, or rnnkit.load_keras(path) for its "
                                   "weights alone.")
    else:
        not_ours = CheckpointError(f"{where} is not an rnnkit checkpoint (no rnnkit header; a Keras file? use "
                                   "rnnkit.load_keras).")
    try:
        outer = json.loads(data[8:8 + size])
        meta = outer.get("__metadata__") if isinstance(outer, dict) else None
        header = json.loads(meta["rnnkit"]) if isinstance(meta, dict) else None
    except RecursionError:
        raise CheckpointError(f"{where} is corrupt or hostile: its header is nested too deeply to read.") from None
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise not_ours from None
    if not isinstance(header, dict):
        raise not_ours
    digest = meta.get(DIGEST_KEY)
    return outer, header, digest if isinstance(digest, str) else None


def _body_length(entries: dict) -> int | None:
    """How many bytes the tensors listed in the safetensors header need (None if it cannot tell)."""
    try:
        return max((int(e["data_offsets"][1]) for k, e in entries.items() if k != "__metadata__"), default=0)
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None


def _check_structure(header: dict, where: str) -> None:
    """The parts of the header `load` reads have the types it expects (a clear error, not a KeyError)."""
    def bad(what: str, expected: str, got) -> CheckpointError:
        return CheckpointError(f"{where} has a malformed header: {what} should be {expected}, found "
                               f"{type(got).__name__} {got!r:.80}. The file was not written by rnnkit's save.")
    spec = header.get("model")
    if not isinstance(spec, dict):
        raise bad("'model'", "an object with 'class_name' and 'config'", spec)
    if not isinstance(spec.get("class_name"), str):
        raise bad("'model.class_name'", "a string", spec.get("class_name"))
    if not isinstance(spec.get("config", spec.get("arguments")), dict):
        raise bad("'model.config'", "an object", spec.get("config", spec.get("arguments")))
    for key, kind in (("state_keys", dict), ("scaler", dict), ("compile", dict), ("optimizer", dict)):
        if header.get(key) is not None and not isinstance(header[key], kind):
            raise bad(f"{key!r}", "an object", header[key])


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
    try:
        return _rebuild(header, tensors, custom_objects, compile, target)
    except CheckpointError:
        raise
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, IndexError, OverflowError) as err:
        raise CheckpointError(f"{str(path)!r} passed its integrity check but cannot be rebuilt into a model: "
                              f"{type(err).__name__}: {str(err):.300}. Was it written by a newer or modified "
                              "rnnkit, or by hand?") from err


def _rebuild(header: dict, tensors: dict, custom_objects, compile: bool, target):
    """The model `header` and `tensors` describe (see `load`)."""
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
        restore_compile(model, header, tensors)
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
