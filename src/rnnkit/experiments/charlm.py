"""Seed 000's text model: Embedding -> GRU(return_sequences) -> TimeDistributed(Dense(vocab)) + softmax,
trained on characters of the Python standard library's source."""

from __future__ import annotations

import numpy as np
import torch

from .. import optimizers
from ..data import char_corpus, windows
from ..layers import GRU, Activation, Dense, Embedding, Input, TimeDistributed
from ..models import Sequential
from .report import BASELINE, SEED_SETUP, Metric, Result, Row, Scoreboard

NAME = "charlm"
TITLE = "Character model: GRU over Python source vs a unigram baseline, with samples"


def sample(model: Sequential, vocab: list[str], prime: str, n: int, temperature: float, rng) -> str:
    """Feed the prime, then draw one character at a time from the softmax at `temperature`."""
    emb, gru, dense, _ = model.layers
    index = {c: i for i, c in enumerate(vocab)}
    device = model.data_device()
    ids = torch.tensor([[index.get(c, 0) for c in prime]], device=device)
    with torch.no_grad():
        _, state = gru.sequence(emb(ids))
        logits = dense.layer(state[0])
        out = []
        for _ in range(n):
            p = torch.softmax(logits[0] / temperature, -1).cpu().numpy().astype(np.float64)
            c = int(rng.choice(len(vocab), p=p / p.sum()))
            out.append(vocab[c])
            state = gru.step(emb(torch.tensor([c], device=device)), state)
            logits = dense.layer(state[0])
    return prime + "".join(out)


def run(out, quick: bool = False, seed: int = 0, device: str = "cpu") -> Result:
    chars, seq_len, epochs, units = (40_000, 64, 12, 128) if quick else (400_000, 100, 20, 256)
    text = char_corpus(chars)
    vocab = sorted(set(text))
    lookup = {c: i for i, c in enumerate(vocab)}
    ids = np.fromiter((lookup[c] for c in text), dtype=np.int64, count=len(text))
    cut = int(len(ids) * 0.9)
    x, y = windows(ids[:cut], seq_len, stride=seq_len, target="sequence")
    xv, yv = windows(ids[cut:], seq_len, stride=seq_len, target="sequence")
    x, y, xv, yv = x[..., 0], y[..., 0], xv[..., 0], yv[..., 0]
    model = Sequential([Input((None,)), Embedding(len(vocab), 32), GRU(units, return_sequences=True),
                        TimeDistributed(Dense(len(vocab))), TimeDistributed(Activation("softmax"))]).to(device)
    model.compile(optimizers.Adam(learning_rate=0.005), "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=epochs, validation_data=(xv, yv), verbose=1)
    val_loss = history.history["val_loss"][-1]
    freq = np.bincount(ids[:cut], minlength=len(vocab)) / cut
    p_val = np.bincount(ids[cut:], minlength=len(vocab)) / (len(ids) - cut)
    unigram = float(-(p_val * np.log(np.clip(freq, 1e-9, 1))).sum())  # cross-entropy of the train unigram
    # bigram: p(next | previous) counted on the training part, add-0.1 smoothing for unseen pairs
    counts = np.full((len(vocab), len(vocab)), 0.1)
    np.add.at(counts, (ids[:cut - 1], ids[1:cut]), 1.0)
    bigram_p = counts / counts.sum(axis=1, keepdims=True)
    bigram = float(-np.log(bigram_p[ids[cut:-1], ids[cut + 1:]]).mean())
    rng = np.random.default_rng(seed)
    samples = {t: sample(model, vocab, "def ", 200, t, rng) for t in (0.5, 1.0)}
    accuracy = history.history["val_accuracy"][-1]
    board = Scoreboard([Metric("validation cross-entropy (nats per character)")], [
        Row(f"Embedding(32) -> GRU({units}) -> softmax (seed 000)", SEED_SETUP, [val_loss]),
        Row("unigram (character frequencies of the training part)", BASELINE, [unigram]),
        Row("bigram (next character given the previous one)", BASELINE, [bigram])])
    result = Result(NAME, TITLE, {"val_loss_nats_per_char": val_loss, "unigram_nats_per_char": unigram,
                                  "bigram_nats_per_char": bigram, "val_accuracy": accuracy, "vocab": len(vocab)},
                    board, quick)
    result.tables.append(f"Next-character accuracy on the validation part: {accuracy:.1%}.")
    for t, s in samples.items():
        result.tables.append(f"Sample at temperature {t}:\n\n```\n{s}\n```")
    result.notes.append(f"{len(text):,} characters of the standard library's *.py files, vocabulary {len(vocab)}, "
                        f"sequences of {seq_len}; the last 10% is the validation part. Sparse categorical "
                        "cross-entropy on softmax outputs (Keras's). The seeds' setup is already the "
                        "practitioner's, so there is no separate practitioner row. The corpus and its split do not "
                        "depend on the seed, so the baselines have one value; the seed changes the initial weights "
                        "and the batch order.")
    return result
