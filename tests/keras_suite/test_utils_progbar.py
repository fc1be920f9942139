"""rnnkit.utils.Progbar, ported from Keras 3.15.1's keras/src/utils/progbar_test.py (all its cases, Keras's
expected output), then rnnkit's own: the averaging over steps, `add`, verbose=2, an unknown target.
"""

import contextlib
import io

import numpy as np
import pytest

from rnnkit.utils import Progbar


@pytest.mark.parametrize("value_type", ["float", "np", "list"])
def test_update(value_type):
    values = {"float": 1.0, "np": np.array(1.0), "list": [0.0, 1.0, 2.0]}[value_type]
    pb = Progbar(target=1, verbose=1)
    with contextlib.redirect_stdout(io.StringIO()):
        pb.update(1, values=[("values", values)], finalize=True)


@pytest.mark.parametrize("verbose", [1, 2])
def test_zero_target(verbose):
    pb = Progbar(target=0, verbose=verbose)
    with contextlib.redirect_stdout(io.StringIO()):
        pb.update(0, finalize=True)


def test_stateful_stateless_raises():
    with pytest.raises(ValueError, match="Only one of"):
        Progbar(target=1, stateful_metrics=[], stateless_metrics=[])


@pytest.mark.parametrize("stateful_metrics, stateless_metrics, expected_output", [
    ([], None, "1."), (["value"], None, "2."), (None, [], "2."), (None, ["value"], "1.")],
    ids=["all_stateless", "one_stateless", "all_stateful", "one_stateful"])
def test_stateful_stateless_output(stateful_metrics, stateless_metrics, expected_output):
    captured = io.StringIO()
    pb = Progbar(target=3, stateful_metrics=stateful_metrics, stateless_metrics=stateless_metrics, interval=0.0,
                 verbose=1)
    with contextlib.redirect_stdout(io.StringIO()):
        pb.update(1, values=[("value", 0.0)])
    with contextlib.redirect_stdout(captured):
        pb.update(2, values=[("value", 2.0)])
    assert f"value: {expected_output}" in captured.getvalue()


# -- rnnkit's own ------------------------------------------------------------------------------------------------
def test_averages_are_weighted_by_the_steps_each_update_covers():
    pb = Progbar(target=10, verbose=0)
    pb.update(2, [("loss", 1.0)])  # covers 2 steps
    pb.add(3, [("loss", 2.0)])  # 3 more
    assert pb._values["loss"] == [2.0 + 6.0, 5]
    out = io.StringIO()
    pb.verbose = 1
    with contextlib.redirect_stdout(out):
        pb.update(10, [("loss", 4.0), ("acc", 0.5)])  # the final update shows the values given
    line = out.getvalue()
    assert "10/10" in line and "loss: 4.0000" in line and "acc: 0.5000" in line and line.endswith("\n")


def test_verbose_2_writes_only_the_final_line():
    out = io.StringIO()
    pb = Progbar(target=3, verbose=2, interval=0.0)
    with contextlib.redirect_stdout(out):
        pb.update(1, [("loss", 1.0)])
        pb.update(2, [("loss", 1.0)])
        assert out.getvalue() == ""
        pb.update(3, [("loss", 1e-5)])
    assert out.getvalue().startswith("3/3 - ") and "loss: 1.0000e-05" in out.getvalue()


def test_verbose_0_is_silent_and_unknown_target_counts():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        Progbar(target=5, verbose=0).update(5, [("loss", 1.0)])
        assert out.getvalue() == ""
        pb = Progbar(target=None, interval=0.0)
        pb.update(7)
    assert "7/Unknown" in out.getvalue()


def test_bar_shows_progress_and_unit_name():
    out = io.StringIO()
    pb = Progbar(target=4, width=8, interval=0.0, unit_name="sample")
    with contextlib.redirect_stdout(out):
        pb.update(2)
    assert "2/4 " + "━" * 8 in out.getvalue() and "/sample" in out.getvalue()
