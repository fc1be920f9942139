"""The verdict is computed from the scoreboard: the strongest baseline, ties, seeds, several metrics."""

import json
from pathlib import Path

import pytest

from rnnkit.experiments import report
from rnnkit.experiments.report import BASELINE, PRACTITIONER, SEED_SETUP, Metric, Result, Row, Scoreboard

RMSE = Metric("test RMSE")
ACC = Metric("accuracy", lower_is_better=False)


def board(*rows, metrics=(RMSE,)):
    return Scoreboard(list(metrics), [Row(*r) for r in rows])


def test_the_verdict_is_taken_against_the_strongest_baseline_not_the_first():
    # airline as the seeds left it: the stateful model beats the mean but not persistence
    b = board(("stateful LSTM(4)", SEED_SETUP, [56.8]), ("train mean", BASELINE, [200.0]),
              ("persistence", BASELINE, [48.9]), ("seasonal naive", BASELINE, [60.0]))
    assert report.strongest_baselines(b)[0].method == "persistence"
    assert not report.beats(b, b.rows[0])
    result = Result("airline", "t", {}, b, quick=False)
    assert result.beat_baseline is False and result.strongest_baseline == "persistence"
    assert "NOT better" in result.verdict and "persistence" in result.verdict


def test_higher_is_better_metrics_pick_the_highest_baseline():
    b = board(("sequence model", SEED_SETUP, [0.9]), ("chance", BASELINE, [0.25]),
              ("one frame", BASELINE, [0.3]), metrics=(ACC,))
    assert report.strongest_baselines(b)[0].method == "one frame"
    assert report.beats(b, b.rows[0])


@pytest.mark.parametrize("model, expected", [(48.9, False), (48.8999, True), (float("nan"), False)],
                         ids=["tie", "just-better", "nan"])
def test_a_tie_or_nan_does_not_beat(model, expected):
    b = board(("m", SEED_SETUP, [model]), ("persistence", BASELINE, [48.9]))
    assert report.beats(b, b.rows[0]) is expected


def test_every_metric_must_beat_the_strongest_baseline_of_that_metric():
    # tanks: better than persistence on both, better than yesterday-again on temperature only
    metrics = (Metric("pressure MAE"), Metric("temperature MAE"))
    b = board(("LSTM", SEED_SETUP, [0.009, 0.98]), ("persistence", BASELINE, [0.042, 4.28]),
              ("yesterday again", BASELINE, [0.010, 0.83]), metrics=metrics)
    assert [r.method for r in report.strongest_baselines(b)] == ["yesterday again"] * 2
    assert not report.beats(b, b.rows[0])
    assert report.strongest_name(b) == "yesterday again"
    mixed = board(("LSTM", SEED_SETUP, [0.001, 0.1]), ("a", BASELINE, [0.01, 2.0]), ("b", BASELINE, [0.02, 1.0]),
                  metrics=metrics)
    assert report.strongest_name(mixed) == "a (pressure MAE); b (temperature MAE)"
    assert report.beats(mixed, mixed.rows[0])


def test_seeds_are_compared_pairwise_and_every_seed_must_win():
    b = board(("m", PRACTITIONER, [[1.0, 1.0, 3.0]]), ("p", BASELINE, [[2.0, 2.0, 2.0]]))
    assert report.seeds_won(b, b.rows[0]) == (2, 3) and not report.beats(b, b.rows[0])
    # a baseline that does not depend on the seed (one value) is compared with every seed
    b = board(("m", PRACTITIONER, [[1.0, 1.5, 1.9]]), ("p", BASELINE, [2.0]))
    assert report.seeds_won(b, b.rows[0]) == (3, 3)
    # pairing matters: the model's worse seed is compared with that seed's easier data
    b = board(("m", PRACTITIONER, [[0.5, 0.9]]), ("p", BASELINE, [[0.6, 1.0]]))
    assert report.beats(b, b.rows[0])


def test_the_headline_is_the_practitioners_setup_and_both_are_reported():
    b = board(("seed stateful", SEED_SETUP, [56.8]), ("seed stateless", SEED_SETUP, [46.5]),
              ("practitioner", PRACTITIONER, [30.0]), ("persistence", BASELINE, [48.9]))
    assert report.headline(b).method == "practitioner"
    assert report.role_summary(b, SEED_SETUP) == "1 of 2"
    assert report.role_summary(b, PRACTITIONER) == "yes"
    # no practitioner row: the seeds' rows are the headline, the first that beats
    b = board(("many-to-one", SEED_SETUP, [40.0]), ("many-to-many", SEED_SETUP, [0.1]), ("half", BASELINE, [2.0]))
    assert report.headline(b).method == "many-to-many" and report.role_summary(b, PRACTITIONER) == "-"
    # none beats: the best on the first metric is named, and the verdict says no
    b = board(("x", PRACTITIONER, [5.0]), ("y", PRACTITIONER, [4.0]), ("base", BASELINE, [3.0]))
    result = Result("e", "t", {}, b, quick=True)
    assert report.headline(b).method == "y" and not result.beat_baseline


def test_a_scoreboard_needs_a_baseline_and_a_model_and_consistent_rows():
    with pytest.raises(ValueError, match="at least one baseline row and one model row"):
        board(("m", SEED_SETUP, [1.0]))
    with pytest.raises(ValueError, match="at least one baseline row and one model row"):
        board(("p", BASELINE, [1.0]))
    with pytest.raises(ValueError, match="role must be one of"):
        Row("m", "oracle", [1.0])
    with pytest.raises(ValueError, match="has 2 values for 1 metrics"):
        board(("m", SEED_SETUP, [1.0, 2.0]), ("p", BASELINE, [1.0, 2.0]))


def test_the_report_table_and_metrics_json_come_from_the_same_rows(tmp_path):
    b = board(("stateful", SEED_SETUP, [[56.8, 55.0, 58.0]]), ("practitioner", PRACTITIONER, [[30.0, 31.0, 29.0]]),
              ("persistence", BASELINE, [48.9]), ("seasonal naive", BASELINE, [60.0]))
    result = Result("airline", "Airline", {}, b, quick=False, seeds=[0, 1, 2])
    report.write(result, tmp_path)
    text = (tmp_path / "report.md").read_text()
    saved = json.loads((tmp_path / "metrics.json").read_text())
    again = Scoreboard.from_dict(saved["scoreboard"])
    assert saved["beat_baseline"] == report.beats(again, report.headline(again)) is True
    assert saved["strongest_baseline"] == "persistence" and saved["verdict"] == report.verdict_sentence(again)
    assert "**Beat the strongest baseline.**" in text
    assert "| stateful | seed setup | 56.6 ± 1.51 [55, 58] |" in text and "**no** (0 of 3 seeds)" in text
    assert "| persistence | baseline | 48.9 | strongest baseline |" in text
    assert "Seeds' setup beats it: no; practitioner's setup: yes" in text
    assert report.markdown_table(["a|b"], [["x|y"]]).splitlines()[2] == "| x\\|y |"


def test_the_results_index_is_computed_from_each_runs_scoreboard(tmp_path):
    from rnnkit.experiments import summary
    b = board(("stateful", SEED_SETUP, [[56.8, 55.0, 58.0]]), ("practitioner", PRACTITIONER, [[30.0, 31.0, 29.0]]),
              ("persistence", BASELINE, [48.9]))
    report.write(Result("airline", "Airline", {}, b, quick=False, seeds=[0, 1, 2]), tmp_path / "airline")
    (tmp_path / "sine-seq2seq").mkdir()
    (tmp_path / "sine-seq2seq" / "metrics.json").write_text(json.dumps({"beat_baseline": True}))  # an old run
    assert summary.main([str(tmp_path)]) == 0
    text = (tmp_path / "README.md").read_text()
    assert "| [airline](airline/report.md) | persistence | no | yes | yes: practitioner: " in text
    assert "not regenerated" in text and "rnnkit run sine-seq2seq --out results/full/sine-seq2seq" in text
    assert "| 0, 1, 2 |" in text and report.scoreboard_table(b) in text


FULL = Path(__file__).resolve().parents[2] / "results" / "full"


@pytest.mark.parametrize("folder", sorted(p.parent.name for p in FULL.glob("*/metrics.json")))
def test_every_committed_full_result_has_the_verdict_its_own_table_gives(folder):
    # results/full is what the README cites: each saved verdict is re-derived from the saved scoreboard.
    saved = json.loads((FULL / folder / "metrics.json").read_text())
    board_ = Scoreboard.from_dict(saved["scoreboard"])
    assert saved["beat_baseline"] == report.beats(board_, report.headline(board_))
    assert saved["strongest_baseline"] == report.strongest_name(board_)
    assert saved["verdict"] == report.verdict_sentence(board_)
    assert len(saved["seeds"]) == 3 and saved["beat_baseline"]  # the bar: all eight win over 3 seeds
