"""What makes a Keras model file safe to read: its zip and HDF5 structure, checked before anything in it is.

A model file may come from anyone. The zip is read in memory within its declared, capped sizes (never
extracted, no unsafe entry names, no bombs); the HDF5 file is walked link by link without following one
and refused if it reaches another file (external links, external storage, virtual datasets), loops,
needs a filter plugin, or declares far more bytes than it stores. Whatever fails raises `KerasFileError`.
"""

from __future__ import annotations

import io
import math
import posixpath
import re
import reprlib
import zipfile
import zlib
from pathlib import Path

import h5py

MAX_CONFIG_BYTES = 64 * 2**20
_MAX_WEIGHTS_BYTES = 8 * 2**30
_MAX_ZIP_ENTRIES = 10_000
_MAX_EXPANSION = 200  # deflated float weights shrink ~1.1x; a zip or HDF5 bomb ~1000x
_BOMB_FLOOR = 2**20  # bytes below which expansion is not worth refusing
_MAX_H5_LINKS = 100_000
_MAX_H5_DEPTH = 32
_SAFE_FILTERS = {1: "gzip", 2: "shuffle", 3: "fletcher32", 5: "nbit", 6: "scaleoffset", 32000: "lzf"}
RESAVE = " Re-save the model with Keras (model.save('model.keras')) or get it again from a source you trust."


_REPR = reprlib.Repr()  # attributes set one by one: Python 3.11's Repr takes no arguments
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxstring, _REPR.maxlong, _REPR.maxother = 3, 8, 4, 60, 60, 60


def show(value) -> str:
    # A bounded repr: a value from a hostile file may be huge or nested hundreds deep.
    return _REPR.repr(value)


class KerasFileError(ValueError):
    """A Keras model file load_keras will not read: it reaches outside itself (other files, links), is
    damaged or malformed, or declares sizes no real model has. The message says what was expected, what
    the file holds and what to do."""


# -- the zip -------------------------------------------------------------------------------------------
def read_zip(path: Path, where: str) -> tuple[bytes, io.BytesIO]:
    """config.json and model.weights.h5 of a .keras zip, read in memory (never extracted)."""
    try:
        with zipfile.ZipFile(path) as z:
            entries = z.infolist()
            if len(entries) > _MAX_ZIP_ENTRIES:
                raise KerasFileError(f"{where} holds {len(entries)} zip entries; a .keras file holds a few, at most "
                                     f"{_MAX_ZIP_ENTRIES} are accepted.{RESAVE}")
            for entry in entries:
                parts = re.split(r"[\\/]", entry.filename)
                if re.match(r"([\\/]|[A-Za-z]:)", entry.filename) or ".." in parts or "\x00" in entry.filename:
                    raise KerasFileError(f"{where} holds an unsafe entry name {entry.filename!r}: entries of a "
                                         "model file are relative paths without '..'. load_keras never extracts, "
                                         f"but refuses an archive made to write outside its folder.{RESAVE}")
            total = sum(e.file_size for e in entries)
            if total > _MAX_WEIGHTS_BYTES + MAX_CONFIG_BYTES:
                raise KerasFileError(f"{where} declares {total} bytes in all once unzipped; at most "
                                     f"{_MAX_WEIGHTS_BYTES + MAX_CONFIG_BYTES} are accepted.{RESAVE}")
            names = [e.filename for e in entries]
            if "config.json" not in names or "model.weights.h5" not in names:
                raise KerasFileError(f"{where} is a zip file but not a Keras 3 model (it needs config.json and "
                                     f"model.weights.h5; it has {sorted(names)[:5]}).")
            for name in ("config.json", "model.weights.h5"):
                if names.count(name) > 1:
                    raise KerasFileError(f"{where} holds {name!r} {names.count(name)} times; a model file holds "
                                         f"one, and which copy is the model is ambiguous.{RESAVE}")
            config = _read_entry(z, z.getinfo("config.json"), MAX_CONFIG_BYTES, where).getvalue()
            return config, _read_entry(z, z.getinfo("model.weights.h5"), _MAX_WEIGHTS_BYTES, where)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as err:
        raise KerasFileError(f"{where} is a damaged zip file ({err}).{RESAVE}") from None


def _read_entry(z: zipfile.ZipFile, entry: zipfile.ZipInfo, limit: int, where: str) -> io.BytesIO:
    # In chunks, counting: a header that lies about the size cannot make this read more than it declares.
    name = f"zip entry {entry.filename!r} in {where}"
    if entry.file_size > limit:
        raise KerasFileError(f"{name} declares {entry.file_size} bytes; at most {limit} bytes are read.{RESAVE}")
    ratio = entry.file_size // max(entry.compress_size, 1)
    if entry.file_size > _BOMB_FLOOR and ratio > _MAX_EXPANSION:
        raise KerasFileError(f"{name} expands {ratio} times (from {entry.compress_size} to {entry.file_size} "
                             f"bytes); model files expand at most {_MAX_EXPANSION} times, so this is a zip bomb "
                             f"or a damaged file.{RESAVE}")
    out = io.BytesIO()
    try:
        with z.open(entry) as stream:
            while chunk := stream.read(2**20):
                if out.tell() + len(chunk) > entry.file_size:
                    raise KerasFileError(f"{name} holds more than the {entry.file_size} bytes it declares.{RESAVE}")
                out.write(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError, zlib.error) as err:
        raise KerasFileError(f"{name} is damaged ({err}).{RESAVE}") from None
    if out.tell() != entry.file_size:
        raise KerasFileError(f"{name} declares {entry.file_size} bytes but holds {out.tell()}.{RESAVE}")
    out.seek(0)
    return out


# -- the HDF5 file -------------------------------------------------------------------------------------
def open_h5(source, where: str) -> h5py.File:
    try:
        return h5py.File(source, "r")
    except (OSError, ValueError) as err:
        raise KerasFileError(f"{where} is not a readable HDF5 file ({err}).{RESAVE}") from None


def check_h5(f: h5py.File, tree: str, where: str) -> None:
    """Walk every link of `f` without following one: refuse links and datasets that reach another file,
    soft links that dangle or leave the weights (`tree`), loops, and datasets unsafe to read."""
    root = h5py.h5o.open(f.id, b"/")
    seen, stack, count = {root}, [("", root)], 0
    while stack:
        path, group = stack.pop()
        count += len(group)
        if count > _MAX_H5_LINKS:
            raise KerasFileError(f"{where}: the HDF5 file holds more than {_MAX_H5_LINKS} links; no Keras model "
                                 f"does.{RESAVE}")
        if path.count("/") >= _MAX_H5_DEPTH:
            raise KerasFileError(f"{where}: the HDF5 file nests groups more than {_MAX_H5_DEPTH} deep (at "
                                 f"{show(path)}); no Keras model does.{RESAVE}")
        names: list[bytes] = []
        group.links.iterate(names.append)  # names only: iterating follows no link
        for name in names:
            child = f"{path}/{name.decode('utf-8', 'replace')}"
            kind = group.links.get_info(name).type
            if kind == h5py.h5l.TYPE_EXTERNAL:
                file, target = (v.decode("utf-8", "replace") for v in group.links.get_val(name))
                raise KerasFileError(f"{where}: {child!r} is an external link to {file!r}:{target}; a model file "
                                     "must hold its own weights, and load_keras never opens another file."
                                     f"{RESAVE}")
            if kind == h5py.h5l.TYPE_SOFT:
                _check_soft_link(root, child, group.links.get_val(name).decode("utf-8", "replace"), tree, where)
                continue
            if kind != h5py.h5l.TYPE_HARD:
                raise KerasFileError(f"{where}: {child!r} is a user-defined HDF5 link (type {kind}), which may "
                                     f"lead anywhere; Keras writes none.{RESAVE}")
            obj = h5py.h5o.open(group, name)
            if isinstance(obj, h5py.h5g.GroupID):
                if obj in seen:
                    raise KerasFileError(f"{where}: {child!r} links again to a group already seen, which makes a "
                                         f"loop or an alias; Keras writes each group once.{RESAVE}")
                seen.add(obj)
                stack.append((child, obj))
            elif isinstance(obj, h5py.h5d.DatasetID):
                _check_dataset(obj, child, where)


def _check_soft_link(root, path: str, target: str, tree: str, where: str) -> None:
    # Resolved by hand through hard links only, so the check itself follows nothing.
    parts = [p for p in posixpath.join(posixpath.dirname(path), target).split("/") if p not in ("", ".")]
    group, obj = root, None
    for part in parts:
        name = part.encode()
        if not isinstance(group, h5py.h5g.GroupID) or not group.links.exists(name):
            raise KerasFileError(f"{where}: {path!r} is a soft link to {target!r}, which does not exist in the "
                                 f"file.{RESAVE}")
        if group.links.get_info(name).type != h5py.h5l.TYPE_HARD:
            raise KerasFileError(f"{where}: {path!r} is a soft link to {target!r}, which goes through another "
                                 f"link; load_keras follows one soft link at most.{RESAVE}")
        group = obj = h5py.h5o.open(group, name)
    resolved = "/" + "/".join(parts)
    if ".." in parts or not (tree == "/" or resolved == tree or resolved.startswith(tree + "/")):
        raise KerasFileError(f"{where}: {path!r} is a soft link to {target!r}, outside the weights ({tree!r}); "
                             f"a weight may only link to another weight.{RESAVE}")
    if not isinstance(obj, h5py.h5d.DatasetID):
        raise KerasFileError(f"{where}: {path!r} is a soft link to {target!r}, a group; a link to a group can "
                             f"make a loop, and Keras writes none.{RESAVE}")


def _check_dataset(ds, path: str, where: str) -> None:
    plist = ds.get_create_plist()
    if plist.get_layout() == h5py.h5d.VIRTUAL:
        raise KerasFileError(f"{where}: {path!r} is a virtual dataset, which reads its data from other datasets "
                             f"and files; a model file must hold its own weights.{RESAVE}")
    if plist.get_external_count():
        file = plist.get_external(0)[0].decode("utf-8", "replace")
        raise KerasFileError(f"{where}: {path!r} stores its data in another file (HDF5 external storage: "
                             f"{file!r}); a model file must hold its own weights, and load_keras never reads "
                             f"another file.{RESAVE}")
    for i in range(plist.get_nfilters()):
        code = plist.get_filter(i)[0]
        if code not in _SAFE_FILTERS:
            raise KerasFileError(f"{where}: {path!r} is compressed with HDF5 filter {code}, which HDF5 would load "
                                 f"as a plugin; accepted filters: {', '.join(_SAFE_FILTERS.values())}.{RESAVE}")
    try:
        dtype, shape = ds.dtype, ds.shape
    except (TypeError, ValueError, OSError) as err:
        raise KerasFileError(f"{where}: dataset {path!r} has a type h5py cannot read ({err}).{RESAVE}") from None
    if dtype.kind not in "biuf":
        raise KerasFileError(f"{where}: dataset {path!r} holds {dtype.str} values; weights must be numbers "
                             f"(float, int or bool).{RESAVE}")
    if shape is None:
        raise KerasFileError(f"{where}: dataset {path!r} is empty (no dataspace); weights are arrays.{RESAVE}")
    size, stored = math.prod(shape) * dtype.itemsize, ds.get_storage_size()
    if size > _BOMB_FLOOR and size > _MAX_EXPANSION * stored:
        raise KerasFileError(f"{where}: dataset {path!r} declares {size} bytes but stores {stored}: reading it "
                             "would allocate memory the file does not hold (an unwritten or over-compressed "
                             f"dataset).{RESAVE}")
