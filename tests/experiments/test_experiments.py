"""Every experiment runs in quick mode and reproduces its seed's claim within stated margins."""

import json

import pytest

from rnnkit import cli, experiments


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
        verdict = "Beat the baseline" if result.beat_baseline else "Did NOT beat the baseline"
        assert verdict in (out / "report.md").read_text()


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
    assert result.beat_baseline == (min(rmse.values()) < result.metrics["persistence_rmse"])


def test_tanks_generation_beats_persistence(results):
    m = results["tanks"][0].metrics
    assert all(a < b for a, b in zip(m["mae"], m["persistence_mae"]))


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
