"""
Title: Bidirectional LSTM on IMDB
Author: [fchollet](https://twitter.com/fchollet)
Date created: 2020/05/03
Last modified: 2020/05/03
Description: Train a 2-layer bidirectional LSTM on the IMDB movie review sentiment classification dataset.

Ported to rnnkit (issue 18) from keras-io examples/nlp/bidirectional_lstm_imdb.py: the model, compile and
fit code is the example's; only the imports change (`import rnnkit as keras`, `from rnnkit import layers`).
Every other changed line carries a `# rnnkit port:` comment saying why. Run: python
scripts/keras_io/bidirectional_lstm_imdb.py (about 10 s on one CPU core at the sizes below).

Stand-in data: `keras.datasets.imdb.load_data` downloads; `load_imdb_standin` makes the same structure
instead, deterministically (seeded): object arrays of Python lists of word ids in [2, max_features) (ids 0,
1 are IMDB's padding and start marks; each review starts with 1), lengths 20 to 3 * maxlen so that
pad_sequences both pads and truncates, labels 0/1 balanced. The learnable signal: a review of class 1
draws a sixth of its words from ids [2, 52), a review of class 0 from [52, 102), the rest uniformly.

Sizes: max_features, maxlen and the sample counts are reduced by the constants below (the original:
20000, 200, 25000 + 25000 reviews); the layers' sizes (Embedding 128, LSTM 64), batch size 32 and the 2
epochs are the example's. The code follows keras-io's Keras 3 version of the example (`import keras`,
`keras.utils.pad_sequences`; the tf.keras one had `from tensorflow import keras` and
`keras.preprocessing.sequence.pad_sequences`, which rnnkit also has).

Measured at the sizes below (seeded; 2 shared CPU cores, OMP_NUM_THREADS=1), per-epoch training loss:
  rnnkit 0.1.0 (torch 2.13 CPU):  0.666 -> 0.136 (accuracy 0.58 -> 0.98, val_accuracy 0.95), ~12 s of training
  Keras 3.15.1 (torch backend):   0.680 -> 0.229 (accuracy 0.69 -> 0.96, val_accuracy 0.95)
(scripts/keras_io/run_with_keras.py runs this file under Keras; the weights' random draws differ.)
"""

"""
## Setup
"""

import numpy as np
import rnnkit as keras  # rnnkit port: was `import keras`
from rnnkit import layers  # rnnkit port: was `from keras import layers`

max_features = 2000  # Only consider the top 2k words (rnnkit port: reduced from 20000)
maxlen = 40  # Only consider the first 40 words of each movie review (rnnkit port: reduced from 200)
N_TRAIN = 512  # rnnkit port: training reviews (IMDB: 25000)
N_VAL = 256  # rnnkit port: validation reviews (IMDB: 25000)
SEED = 0
keras.utils.set_random_seed(SEED)  # rnnkit port: added, so that a run repeats (weights, shuffles)


def load_imdb_standin(num_words, n_train=N_TRAIN, n_val=N_VAL, seed=SEED):
    """Same structure as keras.datasets.imdb.load_data(num_words=...): ((x_train, y_train), (x_val, y_val)),
    x an object array of lists of ints, y int64 0/1. Deterministic for a seed."""
    rng = np.random.RandomState(seed)

    def make(n):
        y = np.arange(n) % 2
        rng.shuffle(y)
        xs = []
        for label in y:
            length = rng.randint(20, 3 * maxlen)
            words = rng.randint(2, num_words, size=length)
            signal = rng.rand(length) < 1 / 6
            low = 2 if label == 1 else 52
            words[signal] = rng.randint(low, low + 50, size=int(signal.sum()))
            xs.append([1] + words.tolist())
        x = np.empty(n, dtype=object)
        x[:] = xs
        return x, y.astype("int64")

    return make(n_train), make(n_val)


"""
## Build the model
"""

# Input for variable-length sequences of integers
inputs = keras.Input(shape=(None,), dtype="int32")
# Embed each integer in a 128-dimensional vector
x = layers.Embedding(max_features, 128)(inputs)
# Add 2 bidirectional LSTMs
x = layers.Bidirectional(layers.LSTM(64, return_sequences=True))(x)
x = layers.Bidirectional(layers.LSTM(64))(x)
# Add a classifier
outputs = layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(inputs, outputs)
model.summary()

"""
## Load the IMDB movie review sentiment data
"""

(x_train, y_train), (x_val, y_val) = load_imdb_standin(  # rnnkit port: was keras.datasets.imdb.load_data (a download)
    num_words=max_features
)
print(len(x_train), "Training sequences")
print(len(x_val), "Validation sequences")
# Use pad_sequence to standardize sequence length:
# this will truncate sequences longer than 200 words and zero-pad sequences shorter than 200 words.
x_train = keras.utils.pad_sequences(x_train, maxlen=maxlen)
x_val = keras.utils.pad_sequences(x_val, maxlen=maxlen)

"""
## Train and evaluate the model

You can use the trained model hosted on [Hugging Face Hub](https://huggingface.co/keras-io/bidirectional-lstm-imdb)
and try the demo on [Hugging Face Spaces](https://huggingface.co/spaces/keras-io/bidirectional_lstm_imdb).
"""

model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=32, epochs=2, validation_data=(x_val, y_val))
