"""Every experiment runs in quick mode and reproduces its seed's claim within stated margins; every
written verdict agrees with the experiment's own table; every picture has labelled axes."""

import json

import numpy as np
import pytest

from rnnkit import cli, experiments
from rnnkit.experiments import report
from rnnkit.experiments.report import Scoreboard


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    return {name: (experiments.run(name, root / name, quick=True, seed=0), root / name)
            for name in experiments.REGISTRY}


def test_every_experiment_writes_report_metrics_and_pictures(results):
    for name, (result, out) in results.items():
        assert (out / "report.md").read_text().startswith("# ")
        saved = json.loads((out / "metrics.json").read_text())
        assert saved["beat_baseline"] == result.beat_baseline
        for fig in result.figures:
            assert (out / fig).stat().st_size > 5000, f"{name}: {fig} looks empty"


@pytest.mark.parametrize("name", list(experiments.REGISTRY))
def test_the_written_verdict_agrees_with_the_written_table(results, name):
    _, out = results[name]
    saved = json.loads((out / "metrics.json").read_text())
    board = Scoreboard.from_dict(saved["scoreboard"])  # the table as written, judged again here
    best = report.headline(board)
    assert saved["beat_baseline"] == report.beats(board, best)
    assert saved["strongest_baseline"] == report.strongest_name(board)
    text = (out / "report.md").read_text()
    status = "**Beat the strongest baseline.**" if saved["beat_baseline"] else "**Did NOT beat the strongest baseline.**"
    assert f"{status} {saved['verdict']}" in text
    # the table in the report shows the same numbers, and the verdict's row is marked as the verdict says
    for row in board.rows:
        line = next(l for l in text.splitlines() if l.startswith(f"| {row.method} | {row.role} |"))
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[2:2 + len(row.values)] == [report.spread(v) for v in row.values]
        if row is best:
            assert cells[-1].startswith("yes") == saved["beat_baseline"]
    # the strongest baseline really is the best baseline on each metric
    for j, (metric, strongest) in enumerate(zip(board.metrics, report.strongest_baselines(board))):
        others = [r.mean(j) for r in board.rows if r.role == "baseline"]
        assert strongest.mean(j) == (min(others) if metric.lower_is_better else max(others))


@pytest.mark.parametrize("name", list(experiments.REGISTRY))
def test_pictures_have_labelled_axes_titles_and_legends_off_the_data(results, name):
    result, _ = results[name]
    for fig, problems in result.figure_problems.items():
        assert problems == [], f"{name}/{fig}: {problems}"
    assert set(result.figure_problems) == set(result.figures)


def test_the_picture_audit_catches_what_a_reader_would(tmp_path):
    import matplotlib.pyplot as plt

    from rnnkit.experiments.figures import audit
    fig, ax = plt.subplots()
    ax.plot(np.linspace(0, 9, 200), np.linspace(0, 9, 200), label="data")
    ax.set_title("spec: LSTM(4)")
    ax.legend(loc="center")
    problems = audit(fig)
    plt.close(fig)
    assert "axes 0: no x label" in problems and "axes 0: no y label" in problems
    assert any("raw spec" in p for p in problems) and any("legend covers" in p for p in problems)


def test_bitsum_claims(results):
    m = results["bitsum"][0].metrics
    one, many = m["mse_many_to_one"], m["mse_many_to_many"]
    assert one[19] < 0.5  # accurate at the trained length
    assert sum(one[:10]) / 10 > 10 * one[19]  # and not at short lengths
    assert max(many[:20]) < 0.1  # the running sum generalises to every shorter length


def test_state_carry_counts(results):
    cases = results["state-carry"][0].metrics["cases"]
    assert abs(cases["then [1,0,1], state carried"][-1] - 5) < 0.5
    assert abs(cases["[1,0,1] from zero"][-1] - 2) < 0.5
    assert abs(cases["[1,1,1] then [0,1,0,1,1]"][-1] - 6) < 0.5
    assert abs(cases["stateful model: [1,1,1] then [1,0,1]"][-1] - 5) < 0.5


def test_sine_seq2seq_beats_naive_forecasts(results):
    m = results["sine-seq2seq"][0].metrics
    mae = sum(m["mae_per_feature"]) / 5
    assert mae < 0.6 * sum(m["last_value_mae"]) / 5


def test_airline_reports_rmse_in_passengers_and_an_honest_verdict(results):
    result = results["airline"][0]
    rmse = result.metrics["test_rmse_passengers"]
    assert 20 < rmse["stateful"] < 150 and 20 < rmse["stateless"] < 150
    baselines = result.metrics["baseline_rmse"]
    assert result.strongest_baseline.startswith(min(baselines, key=baselines.get))
    assert result.beat_baseline == (rmse["practitioner"] < min(baselines.values()))


def test_tanks_generation_beats_persistence(results):
    m = results["tanks"][0].metrics
    assert all(a < b for a, b in zip(m["mae"], m["persistence_mae"]))
    assert "yesterday again" in results["tanks"][0].strongest_baseline


def test_autoencoder_reconstructs(results):
    m = results["autoencoder"][0].metrics
    assert m["reconstruction_mse"] < m["mean_baseline_mse"] / 5


def test_charlm_beats_unigram(results):
    m = results["charlm"][0].metrics
    assert m["val_loss_nats_per_char"] < m["unigram_nats_per_char"] - 0.3
    assert "temperature 0.5" in (results["charlm"][1] / "report.md").read_text()


def test_frames_need_recurrence(results):
    acc = list(results["frames"][0].metrics["test_accuracy"].values())
    assert acc[0] > 0.8 and acc[1] < 0.45


def test_cli_lists_experiments_and_rejects_unknown(capsys):
    assert cli.main(["run", "--list"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in experiments.REGISTRY)
    assert cli.main(["run", "nope"]) == 2
    assert "unknown experiment 'nope'" in capsys.readouterr().err
