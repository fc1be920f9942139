"""Keras's `get_file`: download a file once into a local cache (Keras's layout, `~/.keras/datasets/` by
default), check its hash, and extract tar and zip archives without letting a member escape the target
folder. With Keras's helpers `hash_file`, `validate_file` and `extract_archive`
(keras/src/utils/file_utils.py).

The cache folder is Keras's: `cache_dir`, else `$KERAS_HOME`, else `~/.keras` (rnnkit reads
`KERAS_HOME` when `get_file` runs; Keras reads it when it is imported), with `cache_subdir` inside it
(an absolute `cache_subdir` is used as it is). A folder that cannot be created or written falls back to
`<temp dir>/.keras`, as Keras's does. A download is written to a temporary file in that folder and
renamed when complete, so an interrupted one never leaves a partial file under the final name.

>>> import tempfile, pathlib
>>> src = pathlib.Path(tempfile.mkdtemp()) / "a.txt"; _ = src.write_text("hi")
>>> path = get_file("a.txt", src.as_uri(), cache_dir=tempfile.mkdtemp())  # doctest: +ELLIPSIS
Downloading data from file://...
>>> pathlib.Path(path).read_text()
'hi'
"""

from __future__ import annotations

import hashlib
import inspect
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile

from .progbar import Progbar


def path_to_string(path):
    """A `PathLike` as its string; anything else (a string, a file object, None) as it is."""
    if isinstance(path, os.PathLike):
        return os.fspath(path)
    return path


def resolve_path(path) -> str:
    return os.path.realpath(path)


def resolve_sub_path(base_dir: str, relative_path: str) -> str | None:
    """`relative_path` resolved under `base_dir` (itself resolved), or None where it would leave it."""
    path = resolve_path(os.path.join(base_dir, relative_path))
    try:
        return path if os.path.commonpath([path, base_dir]) == base_dir else None
    except ValueError:  # different drives
        return None


def is_link_in_dir(info, base_dir: str) -> bool:
    """Whether a tar member that is a link stays, with its target, inside `base_dir`."""
    if info.islnk():  # hard links resolve from the root: the link and its target must both stay inside
        return (resolve_sub_path(base_dir, info.name) is not None
                and resolve_sub_path(base_dir, info.linkname) is not None)
    destination = resolve_sub_path(base_dir, info.name)  # symbolic links resolve from their own folder
    if destination is None:
        return False
    link = resolve_path(os.path.join(os.path.dirname(destination), info.linkname))
    try:
        return os.path.commonpath([link, base_dir]) == base_dir
    except ValueError:
        return False


def filter_safe_zipinfos(members, base_dir):
    """The zip members that extract inside `base_dir`; each other one is skipped with a warning."""
    base_dir = resolve_path(base_dir)
    for finfo in members:
        if resolve_sub_path(base_dir, finfo.filename) is not None:
            yield finfo
        else:
            warnings.warn(f"Skipping invalid path during archive extraction: '{finfo.filename}'.", stacklevel=2)


def filter_safe_tarinfos(members, base_dir):
    """The tar members (links included) that extract inside `base_dir`; each other one is skipped with a
    warning."""
    base_dir = resolve_path(base_dir)
    for finfo in members:
        if finfo.issym() or finfo.islnk():
            safe = is_link_in_dir(finfo, base_dir)
        else:
            safe = resolve_sub_path(base_dir, finfo.name) is not None
        if safe:
            yield finfo
        else:
            warnings.warn(f"Skipping invalid path during archive extraction: '{finfo.name}'.", stacklevel=2)


def extract_open_archive(archive, path=".") -> None:
    """Extract an open TarFile or ZipFile into `path`, leaving out the members that would land outside it
    (and, for tar files, with Python's "data" filter where it has one: no devices, no absolute links,
    no set-uid bits)."""
    if isinstance(archive, zipfile.ZipFile):
        archive.extractall(path, members=filter_safe_zipinfos(archive.infolist(), path))
        return
    options = {}
    if sys.version_info < (3, 14) and "filter" in inspect.signature(archive.extractall).parameters:
        options = {"filter": "data"}  # the default from Python 3.14 on
    archive.extractall(path, members=filter_safe_tarinfos(archive, path), **options)


def extract_archive(file_path, path=".", archive_format="auto") -> bool:
    """Extract a `.tar`, `.tar.gz`, `.tar.bz` or `.zip` archive into `path`; True if one of
    `archive_format` ("auto" = ["tar", "zip"], "tar", "zip", a list, or None: none) matched. A failed
    extraction removes what it wrote and raises."""
    if archive_format is None:
        return False
    if archive_format == "auto":
        archive_format = ["tar", "zip"]
    if isinstance(archive_format, str):
        archive_format = [archive_format]
    file_path, path = path_to_string(file_path), path_to_string(path)
    for archive_type in archive_format:
        if archive_type == "tar":
            open_fn, is_match_fn = tarfile.open, tarfile.is_tarfile
        elif archive_type == "zip":
            open_fn, is_match_fn = zipfile.ZipFile, zipfile.is_zipfile
        else:
            raise NotImplementedError(archive_type)
        if is_match_fn(file_path):
            with open_fn(file_path) as archive:
                try:
                    extract_open_archive(archive, path)
                except (tarfile.TarError, RuntimeError, KeyboardInterrupt):
                    if os.path.exists(path):
                        if os.path.isfile(path):
                            os.remove(path)
                        else:
                            shutil.rmtree(path)
                    raise
            return True
    return False


def resolve_hasher(algorithm: str, file_hash: str | None = None):
    """The hashlib object for "sha256", "md5" or "auto" (sha256 for a 64-character hash, else md5)."""
    if algorithm == "sha256":
        return hashlib.sha256()
    if algorithm == "auto" and file_hash is not None and len(file_hash) == 64:
        return hashlib.sha256()
    return hashlib.md5()  # Keras's legacy default


def hash_file(fpath, algorithm="sha256", chunk_size: int = 65535) -> str:
    """The file's sha256 (or md5) hex digest, read in chunks; `algorithm` may be a hashlib object."""
    hasher = resolve_hasher(algorithm) if isinstance(algorithm, str) else algorithm
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath, file_hash: str, algorithm: str = "auto", chunk_size: int = 65535) -> bool:
    """Whether the file's hash is `file_hash` (sha256 or md5; "auto" picks by the hash's length)."""
    hasher = resolve_hasher(algorithm, file_hash)
    return str(hash_file(fpath, hasher, chunk_size)) == str(file_hash)


def cache_root(cache_dir=None) -> str:
    """The cache folder get_file writes under: `cache_dir`, else $KERAS_HOME, else ~/.keras; made if
    missing; `<temp dir>/.keras` when it cannot be made or written (as Keras)."""
    if cache_dir is None:
        cache_dir = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    base = os.path.expanduser(path_to_string(cache_dir))
    try:
        os.makedirs(base, exist_ok=True)
    except OSError:
        pass
    if not os.access(base, os.W_OK):
        base = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(), ".keras")
    return base


class _DownloadProgress:
    """urlretrieve's report hook, shown as a Progbar of bytes (Keras's DLProgbar)."""

    def __init__(self):
        self.progbar, self.finished = None, False

    def __call__(self, block_num: int, block_size: int, total_size: int) -> None:
        total = None if total_size == -1 else total_size
        if self.progbar is None:
            self.progbar = Progbar(total)
        current = block_num * block_size
        if total is None:
            self.progbar.update(current)
        elif current < total:
            self.progbar.update(current)
        elif not self.finished:
            self.progbar.update(self.progbar.target)
            self.finished = True


def _download(origin: str, target: str) -> None:
    """Fetch `origin` into `target` through a temporary file in the same folder, renamed when complete."""
    folder = os.path.dirname(target) or "."
    fd, partial = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".part", dir=folder)
    os.close(fd)
    message = "URL fetch failure on {}: {} -- {}"
    try:
        try:
            urllib.request.urlretrieve(origin, partial, _DownloadProgress())
        except urllib.error.HTTPError as e:
            raise OSError(message.format(origin, e.code, e.msg)) from e
        except urllib.error.URLError as e:
            raise OSError(message.format(origin, e.errno, e.reason)) from e
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def get_file(fname=None, origin=None, untar: bool = False, md5_hash=None, file_hash=None,
             cache_subdir="datasets", hash_algorithm="auto", extract: bool = False, archive_format="auto",
             cache_dir=None, force_download: bool = False) -> str:
    """Download `origin` unless it is already in the cache, and return its path (Keras's `get_file`).

    The file goes to `<cache_dir>/<cache_subdir>/<fname>` (`~/.keras/datasets/<fname>` by default;
    `fname` None: the name at the end of the URL). A cached file is used as it is, unless `file_hash`
    is given and the file does not match it (then it is downloaded again) or `force_download`.
    `file_hash` (sha256, or md5; `hash_algorithm` "auto" tells them apart by length) is checked after
    the download: a mismatch raises a ValueError and the file is not kept (Keras keeps it). With `extract=True` (or Keras 2's `untar=True`) the
    archive (tar, tar.gz, tar.bz, zip: `archive_format`) is extracted and the folder returned:
    `<fname without extension>_extracted` when `fname` has one, else `<fname>` with the archive saved as
    `<fname>_archive`. Members that would land outside that folder are skipped with a warning.

    A failed download raises an OSError saying the URL and the reason ("URL fetch failure on ...",
    Keras's message) and leaves nothing in the cache.
    """
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    datadir = os.path.join(cache_root(cache_dir), path_to_string(cache_subdir))
    os.makedirs(datadir, exist_ok=True)

    provided_fname = fname
    fname = path_to_string(fname)
    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(f"Can't parse the file name from the origin provided: '{origin}'. Please specify the "
                             "`fname` argument.")
    elif os.sep in fname or (os.altsep and os.altsep in fname):
        raise ValueError("Paths are no longer accepted as the `fname` argument. To specify the file's parent "
                         f"directory, use the `cache_dir` argument. Received: fname={fname}")

    if extract or untar:
        if provided_fname and "." in fname:
            download_target = os.path.join(datadir, fname)
            fname = fname[: fname.find(".")]
            extraction_dir = os.path.join(datadir, f"{fname}_extracted")
        else:
            extraction_dir = os.path.join(datadir, fname)
            download_target = os.path.join(datadir, f"{fname}_archive")
    else:
        download_target = os.path.join(datadir, fname)

    if force_download:
        download = True
    elif os.path.exists(download_target):
        download = False
        if file_hash is not None and not validate_file(download_target, file_hash, algorithm=hash_algorithm):
            print(f"A local file was found, but it seems to be incomplete or outdated because the {hash_algorithm} "
                  f"file hash does not match the original value of {file_hash} so we will re-download the data.")
            download = True
    else:
        download = True

    if download:
        print(f"Downloading data from {origin}")
        _download(origin, download_target)
        if file_hash is not None and not validate_file(download_target, file_hash, algorithm=hash_algorithm):
            os.remove(download_target)  # a file that failed its check is not kept as the cached copy
            raise ValueError(f"Incomplete or corrupted file detected. The {hash_algorithm} file hash does not "
                             f"match the provided value of {file_hash}.")

    if extract or untar:
        if untar:
            archive_format = "tar"
        if not extract_archive(download_target, extraction_dir, archive_format):
            warnings.warn("Could not extract archive.", stacklevel=2)
        return extraction_dir
    return download_target
