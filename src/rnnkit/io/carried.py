"""rnnkit's own checkpoint carried inside a Keras file, so one `model.save("m.keras")` serves both.

Keras loads what it knows of a `.keras` zip (config.json, model.weights.h5) and of a legacy `.h5` file
(the model_config attribute, model_weights) and ignores the rest. `model.save` puts the whole rnnkit
file (weights, kept states, optimizer, compile settings, scaler) beside them: the zip entry
`rnnkit/checkpoint.rnnkit` (stored, not deflated) or the HDF5 dataset `/rnnkit_checkpoint` (bytes). Keras
opens the file as its own; `rnnkit.load` / `load_model` read the carried checkpoint, kept states included,
which Keras's format cannot hold.

Reading checks the container as load_keras does (io/keras_safety.py) before taking the entry, whose
bytes then pass rnnkit's own checks (digest, structure) in io/checkpoint.py.
"""

from __future__ import annotations

import io
import zipfile

import h5py
import numpy as np

from .keras_safety import KerasFileError, check_h5, open_h5

ZIP_ENTRY = "rnnkit/checkpoint.rnnkit"
H5_DATASET = "rnnkit_checkpoint"
ZIP_MAGIC = b"PK\x03\x04"
H5_MAGIC = b"\x89HDF\r\n\x1a\n"


def is_keras_container(data: bytes) -> bool:
    """Whether `data` is a zip or starts as an HDF5 file does (an rnnkit file starts with a length)."""
    return (data[:4] == ZIP_MAGIC and zipfile.is_zipfile(io.BytesIO(data))) or data[:8] == H5_MAGIC


def carries_rnnkit(path) -> bool:
    """Whether the file at `path` is a Keras file with rnnkit's checkpoint inside (False if unreadable:
    the reader that opens it next says why)."""
    try:
        with zipfile.ZipFile(path) as z:
            return ZIP_ENTRY in z.namelist()
    except (zipfile.BadZipFile, OSError):
        pass
    try:
        with h5py.File(path, "r") as f:
            return f.id.links.exists(H5_DATASET.encode())
    except (OSError, ValueError):
        return False


def carried(data: bytes, where: str) -> bytes | None:
    """The rnnkit checkpoint inside the Keras file `data`, or None if it carries none."""
    if data[:4] == ZIP_MAGIC:
        return _from_zip(data, where)
    if data[:8] == H5_MAGIC:
        return _from_h5(data, where)
    return None


def _from_zip(data: bytes, where: str) -> bytes | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            found = [e for e in z.infolist() if e.filename == ZIP_ENTRY]
            if not found:
                return None
            if len(found) > 1:
                raise KerasFileError(f"{where} holds {ZIP_ENTRY!r} {len(found)} times; rnnkit writes it once, "
                                     "and which copy is the model is ambiguous. Save the model again.")
            entry = found[0]
            if entry.compress_type != zipfile.ZIP_STORED or entry.file_size > len(data):
                raise KerasFileError(f"{where}: {ZIP_ENTRY!r} is compressed or claims {entry.file_size} bytes in a "
                                     f"{len(data)}-byte file; rnnkit stores it uncompressed. Save the model again.")
            return z.read(entry)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as err:
        raise KerasFileError(f"{where} is a damaged zip file ({err}). Save the model again.") from None


def _from_h5(data: bytes, where: str) -> bytes | None:
    with open_h5(io.BytesIO(data), where) as f:
        if not f.id.links.exists(H5_DATASET.encode()):
            return None
        check_h5(f, "/", where)  # no links out of the file, no external storage, before reading anything
        found = f[H5_DATASET]
        if not isinstance(found, h5py.Dataset) or found.dtype != np.uint8 or found.ndim != 1:
            raise KerasFileError(f"{where}: /{H5_DATASET} is not the 1-D uint8 dataset rnnkit writes. Save the "
                                 "model again.")
        if found.size > len(data):
            raise KerasFileError(f"{where}: /{H5_DATASET} claims {found.size} bytes in a {len(data)}-byte "
                                 "file. Save the model again.")
        return found[()].tobytes()
