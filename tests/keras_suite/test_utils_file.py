"""rnnkit.utils.get_file and its helpers, ported from Keras 3.15.1's keras/src/utils/file_utils_test.py
(PathToStringTest, ResolvePathTest, ResolveSubPathTest, IsLinkInDirTest, FilterSafePathsTest,
ExtractArchiveTest, GetFileTest, HashFileTest, TestValidateFile, ResolveHasherTest: all their cases, with
Keras's expected values), then rnnkit's own cases: downloads over HTTP from a server on 127.0.0.1, the
cache folder (KERAS_HOME, ~/.keras), errors, progress, and archives whose members try to leave the
folder (no internet is used).

Not applicable: the gfile tests (exists, File, join, isdir, listdir, makedirs, rmtree, copy, remove,
complex paths), IsRemotePathTest and TestRaiseIfNoGFile: Keras's remote paths (gs://, /cns, ...) go
through TensorFlow's gfile, which rnnkit does not use; get_file downloads any URL urllib opens.
The get_file tests that Keras runs in ~/.keras run here with KERAS_HOME set to a temporary folder.
"""

import hashlib
import http.server
import io
import os
import tarfile
import threading
import urllib.parse
import urllib.request
import warnings
import zipfile
from contextlib import redirect_stdout
from unittest.mock import patch

import pytest

from rnnkit.utils import file_utils, get_file


@pytest.fixture(autouse=True)
def _keras_home(tmp_path, monkeypatch):
    """Keras's tests download into ~/.keras; these into a temporary KERAS_HOME."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))


def _uri(path) -> str:
    return urllib.parse.urljoin("file://", urllib.request.pathname2url(os.path.abspath(path)))


# -- PathToStringTest, ResolvePathTest, ResolveSubPathTest --------------------------------------------------------
def test_path_to_string_with_string_path():
    path = os.path.join(os.path.sep, "path", "to", "file.txt")
    assert file_utils.path_to_string(path) == path


def test_path_to_string_with_pathlike_object():
    path = os.path.join(os.path.sep, "path", "to", "file.txt")
    assert file_utils.path_to_string(path) == str(path)


def test_path_to_string_with_non_string_typed_path_object():
    class NonStringTypedPathObject:
        def __fspath__(self):
            return os.path.join(os.path.sep, "path", "to", "file.txt")

    assert file_utils.path_to_string(NonStringTypedPathObject()) == os.path.join(os.path.sep, "path", "to", "file.txt")


def test_path_to_string_with_none_path():
    assert file_utils.path_to_string(None) is None


def test_resolve_path_with_absolute_path():
    path = os.path.join(os.path.sep, "path", "to", "file.txt")
    assert file_utils.resolve_path(path) == os.path.realpath(os.path.abspath(path))


def test_resolve_path_with_relative_path():
    path = os.path.join(".", "file.txt")
    assert file_utils.resolve_path(path) == os.path.realpath(os.path.abspath(path))


BASE = os.path.join(os.path.sep, "path", "to", "base_dir")


def test_resolve_sub_path_with_absolute_paths():
    path = os.path.join(BASE, "file.txt")
    assert file_utils.resolve_sub_path(BASE, path) == path


def test_resolve_sub_path_with_subdir():
    path = os.path.join("subdir", "file.txt")
    assert file_utils.resolve_sub_path(BASE, path) == os.path.realpath(os.path.join(BASE, path))


def test_resolve_sub_path_with_same_dir():
    assert file_utils.resolve_sub_path(BASE, ".") == os.path.realpath(BASE)


def test_resolve_sub_path_with_path_traversal():
    assert file_utils.resolve_sub_path(BASE, os.path.join("..", "other_dir", "file.txt")) is None


def test_resolve_sub_path_with_prefix_confusion():
    assert file_utils.resolve_sub_path(BASE, os.path.join("..", "base_dir_other", "file.txt")) is None


# -- IsLinkInDirTest ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("is_symlink, name, linkname, expected", [
    (False, "file.txt", "file.txt", True),  # hardlink_in
    (False, "file.txt", "../file.txt", False),  # hardlink_target_out
    (False, "../file.txt", "file.txt", False),  # hardlink_name_out
    (True, "folder/foo.txt", "../file.txt", True),  # symlink_in
    (True, "../foo.txt", "file.txt", False),  # symlink_dest_out
    (True, "folder/foo.txt", "../../file.txt", False),  # symlink_link_out
], ids=["hardlink_in", "hardlink_target_out", "hardlink_name_out", "symlink_in", "symlink_dest_out",
        "symlink_link_out"])
def test_is_link_in_dir(tmp_path, is_symlink, name, linkname, expected):
    base_dir = file_utils.resolve_path(tmp_path)
    info = type("TarInfo", (object,), {"name": name, "linkname": linkname, "issym": lambda: is_symlink,
                                       "islnk": lambda: not is_symlink})
    assert file_utils.is_link_in_dir(info, base_dir) == expected


# -- FilterSafePathsTest -------------------------------------------------------------------------------------------
@pytest.fixture
def safe_paths(tmp_path):
    base_dir = os.path.abspath(tmp_path)
    target_path = os.path.join(base_dir, "target.txt")
    with open(target_path, "w") as f:
        f.write("target")
    symlink_path = os.path.join(base_dir, "symlink.txt")
    os.symlink(target_path, symlink_path)
    return base_dir, os.path.join(base_dir, "test.tar"), target_path, symlink_path


def test_member_within_base_dir(safe_paths):
    base_dir, tar_path, target_path, _ = safe_paths
    with tarfile.open(tar_path, "w") as tar:
        tar.add(target_path, arcname="safe_path.txt")
    with tarfile.open(tar_path, "r") as tar:
        members = list(file_utils.filter_safe_tarinfos(tar.getmembers(), base_dir))
    assert len(members) == 1 and members[0].name == "safe_path.txt"


def test_symlink_within_base_dir(safe_paths):
    base_dir, tar_path, _, symlink_path = safe_paths
    with tarfile.open(tar_path, "w") as tar:
        tar.add(symlink_path, arcname="symlink.txt")
    with tarfile.open(tar_path, "r") as tar:
        members = list(file_utils.filter_safe_tarinfos(tar.getmembers(), base_dir))
    assert len(members) == 1 and members[0].name == "symlink.txt"


def test_invalid_path_warning(safe_paths):
    base_dir, tar_path, target_path, _ = safe_paths
    with tarfile.open(tar_path, "w") as tar:
        tar.add(target_path, arcname="../../invalid.txt")  # meant to land outside the base dir
    with tarfile.open(tar_path, "r") as tar:
        with patch("warnings.warn") as mock_warn:
            _ = list(file_utils.filter_safe_tarinfos(tar.getmembers(), base_dir))
            mock_warn.assert_called_with("Skipping invalid path during archive extraction: '../../invalid.txt'.",
                                         stacklevel=2)


def test_symbolic_link_in_base_dir(safe_paths):
    base_dir, tar_path, _, symlink_path = safe_paths
    with tarfile.open(tar_path, "w") as tar:
        tar.add(symlink_path, arcname="symlink.txt")
    with tarfile.open(tar_path, "r") as tar:
        members = list(file_utils.filter_safe_tarinfos(tar.getmembers(), base_dir))
    assert len(members) == 1 and members[0].name == "symlink.txt" and members[0].issym()


def test_file_routed_through_symlink_is_rejected(safe_paths):
    base_dir, tar_path, target_path, _ = safe_paths
    os.symlink(".", os.path.join(base_dir, "link"))
    with tarfile.open(tar_path, "w") as tar:
        tar.add(target_path, arcname=os.path.join("link", "..", "escaped.txt"))
    with tarfile.open(tar_path, "r") as tar, pytest.warns(UserWarning, match="Skipping invalid path"):
        members = list(file_utils.filter_safe_tarinfos(tar.getmembers(), base_dir))
    assert members == []


# -- ExtractArchiveTest --------------------------------------------------------------------------------------------
CONTENT = "Hello, world!"


@pytest.fixture
def sample_dir(tmp_path):
    with open(tmp_path / "sample.txt", "w") as f:
        f.write(CONTENT)
    return str(tmp_path)


def _create_tar(temp_dir):
    archive_path = os.path.join(temp_dir, "sample.tar")
    with tarfile.open(archive_path, "w") as archive:
        archive.add(os.path.join(temp_dir, "sample.txt"), arcname="sample.txt")
    return archive_path


def _create_zip(temp_dir):
    archive_path = os.path.join(temp_dir, "sample.zip")
    with zipfile.ZipFile(archive_path, "w") as archive:
        archive.write(os.path.join(temp_dir, "sample.txt"), arcname="sample.txt")
    return archive_path


def _read(path) -> str:
    with open(path) as f:
        return f.read()


def test_extract_tar(sample_dir):
    extract_path = os.path.join(sample_dir, "extract_tar")
    assert file_utils.extract_archive(_create_tar(sample_dir), extract_path, "tar")
    assert _read(os.path.join(extract_path, "sample.txt")) == CONTENT


def test_extract_zip(sample_dir):
    extract_path = os.path.join(sample_dir, "extract_zip")
    assert file_utils.extract_archive(_create_zip(sample_dir), extract_path, "zip")
    assert _read(os.path.join(extract_path, "sample.txt")) == CONTENT


def test_extract_auto(sample_dir):
    tar_path, zip_path = _create_tar(sample_dir), _create_zip(sample_dir)
    tar_out, zip_out = os.path.join(sample_dir, "extract_auto_tar"), os.path.join(sample_dir, "extract_auto_zip")
    assert file_utils.extract_archive(tar_path, tar_out)
    assert file_utils.extract_archive(zip_path, zip_out)
    assert _read(os.path.join(tar_out, "sample.txt")) == CONTENT
    assert _read(os.path.join(zip_out, "sample.txt")) == CONTENT


def test_non_existent_file(sample_dir):
    with pytest.raises(FileNotFoundError):
        file_utils.extract_archive("non_existent.tar", os.path.join(sample_dir, "non_existent"))


def test_archive_format_none(sample_dir):
    assert not file_utils.extract_archive(_create_tar(sample_dir), os.path.join(sample_dir, "none_format"), None)


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt], ids=["runtime_error", "keyboard_interrupt"])
def test_error_during_extraction_removes_the_folder(sample_dir, error):
    tar_path = _create_tar(sample_dir)
    extract_path = os.path.join(sample_dir, "interrupted_extraction")
    with patch.object(tarfile.TarFile, "extractall", side_effect=error):
        with pytest.raises(error):
            file_utils.extract_archive(tar_path, extract_path, "tar")
    assert not os.path.exists(extract_path)


# -- GetFileTest ---------------------------------------------------------------------------------------------------
TEXT = "Float like a butterfly, sting like a bee."


def _create_tar_file(directory):
    text_file_path = os.path.join(directory, "test.txt")
    tar_file_path = os.path.join(directory, "test.tar.gz")
    with open(text_file_path, "w") as text_file:
        text_file.write(TEXT)
    with tarfile.open(tar_file_path, "w:gz") as tar_file:
        tar_file.add(text_file_path, arcname="test.txt")
    return text_file_path, tar_file_path


def _create_zip_file(directory):
    text_file_path = os.path.join(directory, "test.txt")
    zip_file_path = os.path.join(directory, "test.zip")
    with open(text_file_path, "w") as text_file:
        text_file.write(TEXT)
    with zipfile.ZipFile(zip_file_path, "w") as zip_file:
        zip_file.write(text_file_path, arcname="test.txt")
    return text_file_path, zip_file_path


def _extraction_and_validation(dest_dir, file_path, archive_type):
    hashval_md5 = file_utils.hash_file(file_path, algorithm="md5")
    extract = bool(archive_type)
    path = get_file("test", _uri(file_path), md5_hash=hashval_md5, extract=extract, cache_subdir=dest_dir)
    fpath = f"{path}_archive" if extract else path
    assert os.path.exists(path)
    assert file_utils.validate_file(fpath, hashval_md5)
    if extract:
        assert os.path.exists(os.path.join(path, "test.txt"))


def test_valid_tar_extraction(tmp_path):
    dest_dir, orig_dir = tmp_path / "dest", tmp_path / "orig"
    orig_dir.mkdir()
    _, tar_file_path = _create_tar_file(orig_dir)
    _extraction_and_validation(str(dest_dir), tar_file_path, "tar.gz")


def test_valid_zip_extraction(tmp_path):
    dest_dir, orig_dir = tmp_path / "dest", tmp_path / "orig"
    orig_dir.mkdir()
    _, zip_file_path = _create_zip_file(orig_dir)
    _extraction_and_validation(str(dest_dir), zip_file_path, "zip")


def test_valid_text_file_download(tmp_path):
    text_file_path = tmp_path / "test.txt"
    text_file_path.write_text(TEXT)
    _extraction_and_validation(str(tmp_path / "dest"), str(text_file_path), None)


def test_get_file_with_tgz_extension(tmp_path):
    _, tar_file_path = _create_tar_file(tmp_path)
    path = get_file("test.txt.tar.gz", _uri(tar_file_path), untar=True, cache_subdir=str(tmp_path))
    assert os.path.exists(path)
    assert os.path.exists(os.path.join(path, "test.txt"))


def test_get_file_with_integrity_check(tmp_path):
    file_path = tmp_path / "test.txt"
    file_path.write_text(TEXT)
    hashval = file_utils.hash_file(file_path)
    assert os.path.exists(get_file("test.txt", _uri(file_path), file_hash=hashval))


def test_cache_invalidation(tmp_path):
    cache_dir = str(tmp_path / "cache")
    src_path = tmp_path / "test.txt"
    src_path.write_text(TEXT)
    orig_hash = file_utils.hash_file(src_path)
    origin = _uri(src_path)
    dest_path = get_file("test.txt", origin, file_hash=orig_hash, cache_dir=cache_dir)  # into the cache
    assert orig_hash == file_utils.hash_file(dest_path)
    src_path.write_text("Float like a zeppelin, sting like a jellyfish.")
    new_hash = file_utils.hash_file(src_path)
    dest_path = get_file("test.txt", origin, cache_dir=cache_dir)  # without a hash: the cached version
    assert orig_hash == file_utils.hash_file(dest_path)
    dest_path = get_file("test.txt", origin, file_hash=new_hash, cache_dir=cache_dir)  # a new hash: downloaded again
    assert new_hash == file_utils.hash_file(dest_path)


def test_force_download(tmp_path):
    cache_dir = str(tmp_path / "cache")
    src_path = tmp_path / "test.txt"
    src_path.write_text(TEXT)
    orig_hash = file_utils.hash_file(src_path)
    origin = _uri(src_path)
    dest_path = get_file("test.txt", origin, cache_dir=cache_dir)
    assert orig_hash == file_utils.hash_file(dest_path)
    src_path.write_text("Float like a zeppelin, sting like a jellyfish.")
    new_hash = file_utils.hash_file(src_path)
    dest_path = get_file("test.txt", origin, cache_dir=cache_dir)  # the cached version
    assert orig_hash == file_utils.hash_file(dest_path)
    dest_path = get_file("test.txt", origin, force_download=True, cache_dir=cache_dir)
    assert new_hash == file_utils.hash_file(dest_path)


def test_get_file_with_failed_integrity_check(tmp_path):
    file_path = tmp_path / "test.txt"
    file_path.write_text(TEXT)
    with pytest.raises(ValueError, match="Incomplete or corrupted file.*"):
        get_file("test.txt", _uri(file_path), file_hash="0" * 64)


# -- HashFileTest, TestValidateFile, ResolveHasherTest -------------------------------------------------------------
SHA256 = "dffd6021bb2bd5b0af676290809ec3a53191dd81c7f70a4b28688a362182986f"  # of b"Hello, World!"
MD5 = "65a8e27d8879283831b664bd8b7f0ad4"


@pytest.fixture
def hello_file(tmp_path):
    path = tmp_path / "test_file.txt"
    path.write_bytes(b"Hello, World!")
    return str(path)


def test_hash_file_sha256(hello_file):
    assert file_utils.hash_file(hello_file, algorithm="sha256") == SHA256


def test_hash_file_md5(hello_file):
    assert file_utils.hash_file(hello_file, algorithm="md5") == MD5


@pytest.mark.parametrize("file_hash, algorithm", [(SHA256, "sha256"), (MD5, "md5"), (SHA256, "auto"), (MD5, "auto")])
def test_validate_file(hello_file, file_hash, algorithm):
    assert file_utils.validate_file(hello_file, file_hash, algorithm)


def test_validate_file_wrong_hash(hello_file):
    assert not file_utils.validate_file(hello_file, "deadbeef" * 8, "sha256")


@pytest.mark.parametrize("algorithm, file_hash, expected", [
    ("sha256", None, hashlib.sha256), ("auto", "a" * 64, hashlib.sha256), ("auto", "a" * 32, hashlib.md5),
    ("random_value", None, hashlib.md5)])
def test_resolve_hasher(algorithm, file_hash, expected):
    assert isinstance(file_utils.resolve_hasher(algorithm, file_hash), type(expected()))


# -- rnnkit's own cases: HTTP on the loopback, the cache folder, errors, progress, unsafe archives ------------------
class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def http_root(tmp_path):
    """(folder served, base URL) of an HTTP server on 127.0.0.1 (a free port), stopped afterwards."""
    root = tmp_path / "served"
    root.mkdir()
    handler = lambda *a, **k: _Handler(*a, directory=str(root), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_http_download_goes_to_keras_home_datasets_and_is_cached(http_root, tmp_path):
    root, url = http_root
    (root / "data.csv").write_text("a,b\n1,2\n")
    out = io.StringIO()
    with redirect_stdout(out):
        path = get_file(origin=f"{url}/data.csv")  # fname from the URL
    assert path == str(tmp_path / "keras_home" / "datasets" / "data.csv")
    assert _read(path) == "a,b\n1,2\n"
    assert f"Downloading data from {url}/data.csv" in out.getvalue()  # Keras's message, then the progress bar
    assert "8/8" in out.getvalue()  # 8 bytes of 8
    (root / "data.csv").write_text("changed")
    with redirect_stdout(io.StringIO()) as again:
        assert get_file(origin=f"{url}/data.csv") == path  # cached: not downloaded again
    assert again.getvalue() == "" and _read(path) == "a,b\n1,2\n"


def test_default_cache_is_dot_keras_in_the_home_folder(http_root, tmp_path, monkeypatch):
    root, url = http_root
    (root / "x.txt").write_text("x")
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with redirect_stdout(io.StringIO()):
        path = get_file("x.txt", f"{url}/x.txt")
    assert path == str(tmp_path / "home" / ".keras" / "datasets" / "x.txt")


def test_cache_dir_and_absolute_cache_subdir(http_root, tmp_path):
    root, url = http_root
    (root / "x.txt").write_text("x")
    with redirect_stdout(io.StringIO()):
        assert get_file("x.txt", f"{url}/x.txt", cache_dir=tmp_path / "c") == str(tmp_path / "c" / "datasets" / "x.txt")
        assert get_file("x.txt", f"{url}/x.txt", cache_dir=tmp_path / "c", cache_subdir="models") == str(
            tmp_path / "c" / "models" / "x.txt")
        absolute = tmp_path / "elsewhere"
        assert get_file("x.txt", f"{url}/x.txt", cache_subdir=str(absolute)) == str(absolute / "x.txt")


def test_http_error_says_url_and_code_and_leaves_nothing(http_root, tmp_path):
    _, url = http_root
    with redirect_stdout(io.StringIO()), pytest.raises(OSError, match=r"URL fetch failure on .*missing.bin: 404"):
        get_file("missing.bin", f"{url}/missing.bin")
    assert os.listdir(tmp_path / "keras_home" / "datasets") == []  # no partial or empty file left


def test_unreachable_host_is_an_oserror(tmp_path):
    with redirect_stdout(io.StringIO()), pytest.raises(OSError, match="URL fetch failure on http://127.0.0.1:9/"):
        get_file("x", "http://127.0.0.1:9/x")  # the discard port: nothing listens


def test_sha256_and_md5_checks_over_http(http_root):
    root, url = http_root
    payload = b"\x00\x01 binary payload" * 1000
    (root / "p.bin").write_bytes(payload)
    with redirect_stdout(io.StringIO()):
        path = get_file("p.bin", f"{url}/p.bin", file_hash=hashlib.sha256(payload).hexdigest())
        assert open(path, "rb").read() == payload
        assert get_file("p.bin", f"{url}/p.bin", file_hash=hashlib.md5(payload).hexdigest(), hash_algorithm="md5") == path
        with pytest.raises(ValueError, match="sha256 file hash does not match"):
            get_file("q.bin", f"{url}/p.bin", file_hash="1" * 64, hash_algorithm="sha256")
    assert not os.path.exists(os.path.join(os.path.dirname(path), "q.bin"))  # a file failing its check is not kept


def test_a_corrupted_cached_file_is_downloaded_again(http_root):
    root, url = http_root
    (root / "p.bin").write_bytes(b"good")
    good = hashlib.sha256(b"good").hexdigest()
    with redirect_stdout(io.StringIO()):
        path = get_file("p.bin", f"{url}/p.bin", file_hash=good)
    with open(path, "wb") as f:
        f.write(b"half")
    out = io.StringIO()
    with redirect_stdout(out):
        assert get_file("p.bin", f"{url}/p.bin", file_hash=good) == path
    assert "we will re-download the data" in out.getvalue() and open(path, "rb").read() == b"good"


def test_extract_over_http_names_the_folder_as_keras(http_root, tmp_path):
    root, url = http_root
    _create_tar_file(root)
    _create_zip_file(root)
    with redirect_stdout(io.StringIO()):
        tar_dir = get_file("flowers.tar.gz", f"{url}/test.tar.gz", extract=True)  # fname with an extension
        zip_dir = get_file(origin=f"{url}/test.zip", extract=True)  # no fname: <name>, archive as <name>_archive
    datasets = tmp_path / "keras_home" / "datasets"
    assert tar_dir == str(datasets / "flowers_extracted") and _read(os.path.join(tar_dir, "test.txt")) == TEXT
    assert zip_dir == str(datasets / "test.zip") and os.path.exists(datasets / "test.zip_archive")
    assert _read(os.path.join(zip_dir, "test.txt")) == TEXT


def test_zip_member_escaping_the_folder_is_skipped(http_root, tmp_path):
    root, url = http_root
    with zipfile.ZipFile(root / "evil.zip", "w") as z:
        z.writestr("good.txt", "fine")
        z.writestr("../../escaped.txt", "gotcha")
    with redirect_stdout(io.StringIO()), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        folder = get_file("evil", f"{url}/evil.zip", extract=True)
    assert sorted(os.listdir(folder)) == ["good.txt"]
    assert not list(tmp_path.rglob("escaped.txt"))
    assert any("Skipping invalid path during archive extraction: '../../escaped.txt'" in str(w.message) for w in caught)


def test_tar_symlink_pointing_outside_is_skipped(tmp_path):
    archive = tmp_path / "links.tar"
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo("passwd_link")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(info)
        data = b"ok"
        info = tarfile.TarInfo("inside.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with redirect_stdout(io.StringIO()), warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        folder = get_file("links", _uri(archive), extract=True)
    assert os.listdir(folder) == ["inside.txt"]


def test_argument_errors():
    with pytest.raises(ValueError, match='specify the "origin" argument'):
        get_file("x")
    with pytest.raises(ValueError, match="Paths are no longer accepted as the `fname` argument"):
        get_file(os.path.join("sub", "x.txt"), "http://127.0.0.1:9/x.txt")
    with pytest.raises(ValueError, match="Can't parse the file name from the origin"):
        get_file(origin="http://127.0.0.1:9/")
