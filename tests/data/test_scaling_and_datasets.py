import numpy as np
import pytest

from rnnkit.data import Scaler, airline_passengers, bit_sums, char_corpus, sine_waves, tank_readings


@pytest.mark.parametrize("kind", ["minmax", "standard"])
def test_scaler_round_trip_and_fit_on_train_only(kind):
    train = np.random.rand(50, 3) * [1, 10, 100]
    test = np.random.rand(20, 3) * [2, 20, 200]
    s = Scaler(kind).fit(train)
    np.testing.assert_allclose(s.inverse_transform(s.transform(test)), test, rtol=1e-5)
    if kind == "minmax":
        assert s.transform(train).min() == 0 and s.transform(train).max() == pytest.approx(1)
    np.testing.assert_allclose(s.inverse_transform(s.transform(test[:, 2:], columns=[2]), columns=[2]), test[:, 2:], rtol=1e-5)
    again = Scaler.from_dict(s.to_dict())
    np.testing.assert_allclose(again.transform(test), s.transform(test))


def test_scaler_errors():
    with pytest.raises(RuntimeError, match="not fitted"):
        Scaler().transform(np.zeros(3))
    with pytest.raises(ValueError, match="fitted on 2 features; received 3"):
        Scaler().fit(np.zeros((4, 2))).transform(np.zeros((1, 3)))


def test_bit_sums_deterministic_and_cumulative():
    x, y = bit_sums(10, 20, cumulative=True, seed=3)
    x2, _ = bit_sums(10, 20, seed=3)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y[:, -1, 0], x.sum(axis=(1, 2)))


def test_sine_wave_splits_use_disjoint_wavelength_bands():
    for split in ("train", "val", "test"):
        w = sine_waves(4, 300, 2, split=split, seed=1)
        assert w.shape == (4, 300, 2) and np.abs(w).max() <= 1
    assert not np.allclose(sine_waves(2, 50, 1, "train"), sine_waves(2, 50, 1, "test"))


def test_airline_series_matches_published_totals():
    s = airline_passengers()
    assert s.sum() == 40363 and s.max() == 622 and s.argmax() == 12 * 11 + 6  # July 1960


def test_tanks_pressure_follows_temperature():
    r = tank_readings(4, 200, seed=2)
    for tank in r:
        assert np.corrcoef(tank[:, 0], tank[:, 1])[0, 1] > 0.95


def test_char_corpus_is_stdlib_source():
    text = char_corpus(5000)
    assert len(text) == 5000 and ("def " in text or "import " in text)
