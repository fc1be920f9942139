import numpy as np
import pandas as pd
import pytest

from rnnkit.data import create_dataset, split, windows


def test_matches_seeds_create_dataset_where_they_agree():
    series = np.random.rand(50, 1).astype("float32")
    for look_back in (1, 3, 7):
        X, y = windows(series, look_back)
        cx, cy = create_dataset(series, look_back)
        n = len(cx)
        assert len(X) == n + 1  # create_dataset drops the last window
        np.testing.assert_array_equal(X[:n, :, 0], cx)
        np.testing.assert_array_equal(y[:n, 0], cy)


def test_is_a_view_whatever_the_look_back():
    series = np.random.rand(1000, 3)
    for look_back in (1, 64, 500):
        X, y = windows(series, look_back)
        assert np.shares_memory(X, series) and np.shares_memory(y, series)
        assert X.base is not None and X.nbytes > series.nbytes or look_back == 1


def test_hand_computed_modes():
    s = np.arange(12.0).reshape(6, 2)  # steps [0,1],[2,3],...,[10,11]
    X, y = windows(s, look_back=2)
    assert X.shape == (4, 2, 2) and y.shape == (4, 2)
    np.testing.assert_array_equal(X[1], [[2, 3], [4, 5]])
    np.testing.assert_array_equal(y[1], [6, 7])
    X, y = windows(s, look_back=2, horizon=3, target_columns=[1])
    assert X.shape == (2, 2, 2) and y.shape == (2, 3, 1)
    np.testing.assert_array_equal(y[0, :, 0], [5, 7, 9])
    X, y = windows(s, look_back=3, target="sequence")
    assert X.shape == (3, 3, 2) and y.shape == (3, 3, 2)
    np.testing.assert_array_equal(y[0], s[1:4])
    X, _ = windows(s, look_back=2, stride=2)
    np.testing.assert_array_equal(X[:, 0, 0], [0, 4])


def test_seed_000_tanks_shape_and_panel_never_crosses_series():
    tanks = [np.random.rand(20, 2), np.random.rand(30, 2)]
    X, y = windows(tanks, look_back=5)
    assert X.shape == (15 + 25, 5, 2) and y.shape == (40, 2)
    np.testing.assert_array_equal(X[15, :, :], tanks[1][:5])  # the first window of tank 2
    np.testing.assert_array_equal(y[14], tanks[0][19])  # the last target of tank 1


def test_dataframe_columns_by_name_and_non_numeric_error():
    df = pd.DataFrame({"pressure": np.arange(8.0), "temperature": np.arange(8.0) * 10})
    X, y = windows(df, 3, target_columns="temperature")
    assert X.shape == (5, 3, 2) and y[:, 0].tolist() == [30, 40, 50, 60, 70]
    df["site"] = "a"
    with pytest.raises(ValueError, match=r"column\(s\) \['site'\] are not numeric"):
        windows(df, 3)


def test_nan_raise_drop_interpolate():
    s = np.arange(10.0)
    s[4] = np.nan
    with pytest.raises(ValueError, match=r"first at index \(4, 0\).*nan='drop'"):
        windows(s, 2)
    X, y = windows(s, 2, nan="drop")
    assert not np.isnan(X).any() and not np.isnan(y).any()
    assert len(X) == 8 - 3  # windows touching step 4 (as input or target) are gone
    X, y = windows(s, 2, nan="interpolate")
    assert X[3, 1, 0] == 4.0


def test_too_short_series_message():
    with pytest.raises(ValueError, match=r"needs at least look_back \+ horizon = 6 steps, series has 5"):
        windows(np.arange(5.0), 5)


def test_bad_shapes_and_empty_panel():
    with pytest.raises(ValueError, match="pass a list of them"):
        windows(np.zeros((2, 3, 4)), 2)
    with pytest.raises(ValueError, match="panel .* is empty"):
        windows([], 2)


def test_split_keeps_time_order():
    s = np.arange(144)
    train, test = split(s, 0.33)
    assert train[-1] + 1 == test[0] and len(train) == int(144 * 0.67)


def test_seed_003_example_is_two_windows_of_two_steps_and_three_features():
    # seed 003's data_x: datapoint 1 = steps [1,2,3],[4,5,6]; datapoint 2 = [7,8,9],[10,11,12]
    series = np.arange(1, 16).reshape(5, 3)
    X, y = windows(series, look_back=2, stride=2)
    assert X.shape == (2, 2, 3)
    np.testing.assert_array_equal(X, [[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]])
    np.testing.assert_array_equal(y, [[7, 8, 9], [13, 14, 15]])
