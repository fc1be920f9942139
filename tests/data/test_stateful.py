import numpy as np
import pytest
import torch

from rnnkit import LSTM, Dense, Input, Sequential, optimizers
from rnnkit.data import stateful_batches


def test_rows_continue_across_chunks_and_waves_reset():
    seqs = [np.arange(10.0) + 100 * k for k in range(5)]
    chunks = list(stateful_batches(seqs, batch_size=2, chunk_length=4))
    # waves: sequences {0,1}, {2,3}, {4}; 9 input steps each -> chunks of 4, 4, 1
    assert [c.reset for c in chunks] == [True, False, False] * 3
    assert [len(c.x) for c in chunks] == [2] * 6 + [1] * 3
    x0, y0, _ = chunks[0]
    x1 = chunks[1].x
    assert x1[1, 0, 0] == x0[1, -1, 0] + 1  # row 1 of chunk 2 continues row 1 of chunk 1
    np.testing.assert_array_equal(y0[:, :, 0], x0[:, :, 0] + 1)  # next-step targets


def test_unequal_lengths_are_padded_with_mask():
    seqs = [np.ones(6), np.ones(3)]
    (c,) = list(stateful_batches(seqs, batch_size=2, chunk_length=5))[:1]
    assert c.mask.tolist() == [[True] * 5, [True, True, False, False, False]]


def test_errors():
    with pytest.raises(ValueError, match=r"batch_size=3 is larger than the number of sequences \(2\)"):
        list(stateful_batches([np.ones(5), np.ones(5)], 3, 2))


def test_training_through_chunks_equals_whole_sequence_computation():
    # A stateful model fed the chunks (zero learning rate) ends in the same state as one pass over
    # the whole sequences, and its chunk predictions equal the whole-sequence predictions.
    torch.manual_seed(0)
    seqs = np.random.randn(4, 13, 2).astype("float32")
    model = Sequential([Input((None, 2), batch_size=4), LSTM(3, stateful=True, return_sequences=True), Dense(2)])
    model.compile(optimizers.SGD(learning_rate=0.0), "mse")
    preds = []
    for x, y, reset in stateful_batches(seqs, batch_size=4, chunk_length=5):
        if reset:
            model.reset_states()
        preds.append(model.predict_on_batch(x))
        with model.preserve_states():
            model.train_on_batch(x, y)
    whole = Sequential([Input((None, 2)), LSTM(3, return_sequences=True), Dense(2)])
    whole.load_state_dict(model.state_dict())
    np.testing.assert_allclose(np.concatenate(preds, 1), whole.predict(seqs[:, :-1]), atol=1e-5)
