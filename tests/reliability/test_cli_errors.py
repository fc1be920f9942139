"""The command line never prints a traceback: a usage error exits 2 and a finding exits 1, each with one line on
stderr saying what to fix. `main` runs in-process here (capsys), plus one real subprocess run."""

import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from rnnkit import Dense, Input, LSTM, Sequential, cli

SPEC = "LSTM(4) > Dense(1)"


def run(capsys, *argv):
    rc = cli.main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{err[:2000]}"
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    np.save(d / "x.npy", np.zeros((4, 5, 2), np.float32))
    np.save(d / "objects.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    (d / "corrupt.npy").write_bytes(b"\x93NUMPY garbage that is not an array")
    (d / "garbage.rnnkit").write_bytes(b"hello world" * 10)
    with zipfile.ZipFile(d / "garbage.keras", "w") as z:  # a real zip, but not a Keras model
        z.writestr("config.json", "{not json")
    (d / "folder").mkdir()
    unreadable = d / "unreadable.rnnkit"
    Sequential([Input((3, 1)), LSTM(2), Dense(1)]).save(unreadable)
    unreadable.chmod(0)
    return d


@pytest.mark.parametrize("argv, message", [
    (["explain", SPEC, "--input-shape=-3,2"],
     r"argument --input-shape: must be positive whole numbers or None.*received '-3,2'"),
    (["explain", SPEC, "--input-shape", "-3,2"], r"--input-shape: expected one argument.*--input-shape=-3,2"),
    (["explain", SPEC, "--input-shape", "5,x"], r"argument --input-shape: must be positive whole numbers .*'5,x'"),
    (["explain", SPEC, "--input-shape", "5,2", "--batch-size", "-1"],
     r"argument --batch-size: must be a positive integer.*received '-1'"),
    (["explain", SPEC, "--input-shape", "5,2", "--batch-size", "0"],
     r"argument --batch-size: must be a positive integer"),
    (["explain", SPEC, "--input-shape", "5,2", "--out", "d.pdf"], r"--out writes .png, .svg or .html, received "
                                                                  r"'d.pdf'"),
    (["explain", "LSTM(4, stateful='yes') > Dense(1)", "--input-shape", "5,2"], r"stateful must be True or False"),
    (["explain", "LSTM(4 > Dense(1)", "--input-shape", "5,2"], r"cannot read the spec at column 8: expected ','"),
    (["explain", SPEC], r"explain needs the input shape"),
    (["explain", SPEC, "--input-shape", "5,2", "--out", "/nonexistent/d.png"], r"--out: the folder '/nonexistent' "
                                                                               r"does not exist"),
    (["run", "nosuch"], r"unknown experiment 'nosuch'; known: bitsum"),
    (["run", "bitsum", "--seed", "x"], r"argument --seed: must be a whole number >= 0, received 'x'"),
    (["nosuchcommand"], r"invalid choice: 'nosuchcommand'"),
])
def test_usage_errors_exit_2_with_one_line(capsys, argv, message):
    rc, _, err = run(capsys, *argv)
    line = one_line(err)
    assert rc == 2
    assert line.startswith("rnnkit")
    assert re.search(message, line), line


@pytest.mark.parametrize("name, flag, message", [
    ("missing.npy", "--x", r"--x: no file at '.*missing.npy'"),
    ("corrupt.npy", "--x", r"--x: cannot read '.*corrupt.npy' as a NumPy .npy file"),
    ("objects.npy", "--y", r"--y: '.*objects.npy' holds Python objects \(dtype object\).*save numbers"),
    ("folder", "--x", r"--x: '.*folder' is a folder"),
])
def test_bad_data_files_exit_2_with_one_line(capsys, files, name, flag, message):
    rc, _, err = run(capsys, "explain", SPEC, "--input-shape", "5,2", flag, str(files / name))
    assert rc == 2 and re.search(message, one_line(err))


@pytest.mark.parametrize("name, message", [
    ("garbage.rnnkit", r"cannot load the model '.*garbage.rnnkit'.*not a safetensors file"),
    ("garbage.keras", r"cannot load the model '.*garbage.keras'"),
    ("folder", r"'.*folder' is a folder, not a model file"),
    ("missing.rnnkit", r"no model file at '.*missing.rnnkit'"),
])
def test_bad_model_files_exit_2_with_one_line(capsys, files, name, message):
    rc, _, err = run(capsys, "explain", str(files / name))
    assert rc == 2 and re.search(message, one_line(err))


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_model_file_exits_2(capsys, files):
    rc, _, err = run(capsys, "explain", str(files / "unreadable.rnnkit"))
    assert rc == 2 and "permission" in one_line(err).lower()


def test_a_spec_longer_than_a_file_name_is_read_as_a_spec(capsys):
    spec = " > ".join(["LSTM(4, return_sequences=True)"] * 40 + ["Dense(1)"])  # > 255 characters
    rc, out, err = run(capsys, "explain", spec, "--input-shape", "5,2")
    assert rc == 0 and "many-to-many" in out and err == ""


def test_a_huge_spec_is_refused_quickly_and_not_echoed_whole(capsys):
    spec = "LSTM(4) > " * 200_000 + "Dense(1)"  # 2 MB: some 200,000 layers to build
    t0 = time.perf_counter()
    rc, _, err = run(capsys, "explain", spec, "--input-shape", "5,2")
    line = one_line(err)
    assert rc == 2 and len(line) < 400 and "the spec has 2,000,008 characters, more than the 20,000" in line
    assert "..." in line and time.perf_counter() - t0 < 5


def test_a_long_spec_error_shows_the_text_around_it(capsys):
    spec = "LSTM(4, return_sequences=True) > " * 300 + "Dense(1"  # 9,907 characters, broken at the very end
    rc, _, err = run(capsys, "explain", spec, "--input-shape", "5,2")
    line = one_line(err)
    assert rc == 2 and len(line) < 400 and f"column {len(spec) + 1}" in line and "(near '...rue) > " in line
    assert line.endswith("> Dense(1')")


@pytest.mark.parametrize("command", [["run", "bitsum", "--quick"], ["demo"]])
def test_an_out_that_is_a_file_is_refused_before_running(capsys, tmp_path, command):
    (tmp_path / "taken").write_text("")
    rc, _, err = run(capsys, *command, "--out", str(tmp_path / "taken"))
    assert rc == 2 and re.search(r"--out '.*taken' is a file; pass a folder", one_line(err))


def test_an_os_error_is_one_line_with_the_path(capsys, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "/root/forbidden")
    monkeypatch.setattr(cli.experiments, "run", denied)
    rc, _, err = run(capsys, "run", "bitsum", "--quick")
    assert rc == 2 and one_line(err) == ("rnnkit run: '/root/forbidden': permission denied. Check the path and its "
                                         "permissions.")


def test_a_finding_exits_1(capsys, files, tmp_path):
    Sequential([Input((3, 1)), LSTM(4), Dense(1)]).save(tmp_path / "m.rnnkit")
    np.save(tmp_path / "y.npy", np.zeros((8, 3, 1)))
    rc, out, _ = run(capsys, "explain", str(tmp_path / "m.rnnkit"), "--y", str(tmp_path / "y.npy"))
    assert rc == 1 and "y-shape" in out


def test_debug_env_var_re_raises(capsys, monkeypatch):
    monkeypatch.setenv("RNNKIT_DEBUG", "1")
    with pytest.raises(ValueError, match="explain needs the input shape"):
        cli.main(["explain", SPEC])


def test_a_genuine_bug_is_not_swallowed(monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")
    monkeypatch.setattr(cli, "explain", broken)
    with pytest.raises(ZeroDivisionError):
        cli.main(["explain", SPEC, "--input-shape", "5,2"])


def test_the_installed_command_prints_no_traceback(files):
    env = {**os.environ, "PYTHONPATH": str(Path(cli.__file__).resolve().parents[1]), "OMP_NUM_THREADS": "1"}
    env.pop("RNNKIT_DEBUG", None)
    for argv in (["explain", "x" * 5000], ["explain", SPEC, "--input-shape", "5,2", "--x", str(files / "objects.npy")]):
        proc = subprocess.run([sys.executable, "-m", "rnnkit.cli", *argv], capture_output=True, text=True, env=env,
                              timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_run_passes_the_first_seed_and_the_number_of_seeds(capsys, tmp_path, monkeypatch):
    from rnnkit import cli

    seen = {}
    monkeypatch.setattr(cli.experiments, "run", lambda name, **kw: seen.update(name=name, **kw) or object())
    rc, _, _ = run(capsys, "run", "state-carry", "--quick", "--seed", "3", "--seeds", "2", "--out", str(tmp_path / "s"))
    assert rc == 0 and seen["name"] == "state-carry" and (seen["seed"], seen["seeds"], seen["quick"]) == (3, 2, True)
    rc, _, _ = run(capsys, "run", "state-carry", "--out", str(tmp_path / "t"))
    assert rc == 0 and seen["seeds"] is None  # the default: 3 in full mode, 1 in quick mode (experiments.run)
    rc, _, err = run(capsys, "run", "state-carry", "--quick", "--seeds", "0")
    assert rc == 2 and "argument --seeds" in one_line(err)
