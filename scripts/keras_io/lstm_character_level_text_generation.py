"""
Title: Character-level text generation with LSTM
Author: [fchollet](https://twitter.com/fchollet)
Date created: 2015/06/15
Last modified: 2020/04/30
Description: Generate text from Nietzsche's writings with a character-level LSTM.

Ported to rnnkit (issue 18) from keras-io examples/generative/lstm_character_level_text_generation.py (the
stored version, commit 61b6dba, which imports `from tensorflow import keras`): the data preparation,
model, compile, fit, predict and sampling code is the example's; only the imports change
(`import rnnkit as keras`, `from rnnkit import layers`). Every other changed line carries a
`# rnnkit port:` comment saying why. Run: python scripts/keras_io/lstm_character_level_text_generation.py
(about 15 s with OMP_NUM_THREADS=1 on one core at the sizes below).

Stand-in data: `keras.utils.get_file("nietzsche.txt", ...)` downloads Nietzsche's text (600,893
characters, 57 distinct after lower()). `nietzsche_standin` writes instead a deterministic text of
TEXT_LENGTH characters to the same kind of file, read by the example's own `io.open(...).read().lower()`:
sentences drawn by a seeded random.Random from a small grammar over 60 English words, with capitals,
commas, full stops and line breaks, so that next-character prediction has structure to learn (word
spelling, spaces after words) and the arrays have the example's shapes: x (sequences, maxlen,
len(chars)) bool, y (sequences, len(chars)) bool.

Sizes: the corpus (600,893 -> TEXT_LENGTH characters), epochs 40 -> 4 and the generated length 400 -> 20
characters per diversity are reduced by the constants below; maxlen 40, step 3, LSTM 128, RMSprop(0.01),
batch 128 are the example's.

Measured (the sizes below, 2 shared CPU cores), training loss per epoch, SEED = 0, 1, 2 (the same text for all):
  rnnkit 0.1.0 (torch 2.13 CPU):   2.9618, 2.5228, 2.0673, 1.7938 | 3.0581, 2.5864, 2.2015, 1.8968 |
                                   2.9874, 2.6009, 2.2256, 1.9085
  Keras 3.15.1 (JAX backend, CPU): 3.3487, 2.8205, 2.6418, 2.2711 | 2.9904, 2.6048, 2.2087, 1.8704 |
                                   2.9589, 2.4918, 2.1293, 1.8420
(RMSprop at learning rate 0.01 makes single runs noisy: Keras's seed 0 is its slowest of the three.)
"""

"""
## Introduction

This example demonstrates how to use a LSTM model to generate
text character-by-character.

At least 20 epochs are required before the generated text
starts sounding locally coherent.

It is recommended to run this script on GPU, as recurrent
networks are quite computationally intensive.

If you try this script on new data, make sure your corpus
has at least ~100k characters. ~1M is better.
"""

"""
## Setup
"""
import rnnkit as keras  # rnnkit port: was `from tensorflow import keras`
from rnnkit import layers  # rnnkit port: was `from tensorflow.keras import layers`

import numpy as np
import random
import io
import os  # rnnkit port: added, for the stand-in file's path
import tempfile  # rnnkit port: added, as above

TEXT_LENGTH = 6000  # rnnkit port: the stand-in corpus's length (Nietzsche's: 600,893 characters)
EPOCHS = 4  # rnnkit port: the example's 40 epochs, reduced
GENERATE_CHARS = 20  # rnnkit port: characters generated per diversity, the example's 400, reduced
SEED = 0  # rnnkit port: the example is unseeded

random.seed(SEED)  # rnnkit port: added, a deterministic run
np.random.seed(SEED)  # rnnkit port: added, as above
keras.utils.set_random_seed(SEED)  # rnnkit port: added, as above


def nietzsche_standin(length=TEXT_LENGTH, seed=SEED):
    """rnnkit port: stands in for the download; writes a deterministic text of `length` characters to a
    file and returns its path, as keras.utils.get_file returns the downloaded file's."""
    rng = random.Random(seed)
    nouns = ("man morality truth will power spirit philosopher god life virtue nature soul pity "
             "reason value history instinct art world people").split()
    verbs = ("is becomes seeks loves denies overcomes creates destroys knows fears wills hides "
             "praises judges needs").split()
    adjectives = ("strong weak noble free great deep old new good evil proud false higher "
                  "modern human").split()
    words = []
    while len(" ".join(words).replace("\n ", "\n")) < length:
        sentence = ["the", rng.choice(adjectives), rng.choice(nouns), rng.choice(verbs)]
        if rng.random() < 0.5:
            sentence += ["the", rng.choice(nouns)]
        if rng.random() < 0.3:
            sentence[-1] += ","
            sentence += ["and", rng.choice(verbs), "the", rng.choice(adjectives), rng.choice(nouns)]
        sentence[0] = sentence[0].capitalize()
        sentence[-1] += "." + ("\n" if rng.random() < 0.2 else "")
        words += sentence
    text = " ".join(words).replace("\n ", "\n")[:length]
    path = os.path.join(tempfile.mkdtemp(), "nietzsche.txt")
    with io.open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


"""
## Prepare the data
"""

path = nietzsche_standin()  # rnnkit port: was keras.utils.get_file("nietzsche.txt", origin=...), a download
with io.open(path, encoding="utf-8") as f:
    text = f.read().lower()
text = text.replace("\n", " ")  # We remove newlines chars for nicer display
print("Corpus length:", len(text))

chars = sorted(list(set(text)))
print("Total chars:", len(chars))
char_indices = dict((c, i) for i, c in enumerate(chars))
indices_char = dict((i, c) for i, c in enumerate(chars))

# cut the text in semi-redundant sequences of maxlen characters
maxlen = 40
step = 3
sentences = []
next_chars = []
for i in range(0, len(text) - maxlen, step):
    sentences.append(text[i : i + maxlen])
    next_chars.append(text[i + maxlen])
print("Number of sequences:", len(sentences))

# rnnkit port: `np.bool` -> `bool` in the next two lines: NumPy 1.24 removed the alias (a NumPy change,
# not an rnnkit one).
x = np.zeros((len(sentences), maxlen, len(chars)), dtype=bool)
y = np.zeros((len(sentences), len(chars)), dtype=bool)
for i, sentence in enumerate(sentences):
    for t, char in enumerate(sentence):
        x[i, t, char_indices[char]] = 1
    y[i, char_indices[next_chars[i]]] = 1


"""
## Build the model: a single LSTM layer
"""

model = keras.Sequential(
    [
        keras.Input(shape=(maxlen, len(chars))),
        layers.LSTM(128),
        layers.Dense(len(chars), activation="softmax"),
    ]
)
optimizer = keras.optimizers.RMSprop(learning_rate=0.01)
model.compile(loss="categorical_crossentropy", optimizer=optimizer)

"""
## Prepare the text sampling function
"""


def sample(preds, temperature=1.0):
    # helper function to sample an index from a probability array
    preds = np.asarray(preds).astype("float64")
    preds = np.log(preds) / temperature
    exp_preds = np.exp(preds)
    preds = exp_preds / np.sum(exp_preds)
    probas = np.random.multinomial(1, preds, 1)
    return np.argmax(probas)


"""
## Train the model
"""

epochs = EPOCHS  # rnnkit port: was 40
batch_size = 128

losses = []  # rnnkit port: added, the test reads each epoch's loss
generations = {}  # rnnkit port: added, the test reads the generated text

for epoch in range(epochs):
    history = model.fit(x, y, batch_size=batch_size, epochs=1)  # rnnkit port: `history =` added, for the test
    losses.append(history.history["loss"][-1])  # rnnkit port: added, for the test
    print()
    print("Generating text after epoch: %d" % epoch)

    start_index = random.randint(0, len(text) - maxlen - 1)
    for diversity in [0.2, 0.5, 1.0, 1.2]:
        print("...Diversity:", diversity)

        generated = ""
        sentence = text[start_index : start_index + maxlen]
        print('...Generating with seed: "' + sentence + '"')

        for i in range(GENERATE_CHARS):  # rnnkit port: was range(400)
            x_pred = np.zeros((1, maxlen, len(chars)))
            for t, char in enumerate(sentence):
                x_pred[0, t, char_indices[char]] = 1.0
            preds = model.predict(x_pred, verbose=0)[0]
            next_index = sample(preds, diversity)
            next_char = indices_char[next_index]
            sentence = sentence[1:] + next_char
            generated += next_char

        print("...Generated: ", generated)
        print()
        generations[diversity] = generated  # rnnkit port: added, for the test

print("losses:", [round(float(v), 4) for v in losses])  # rnnkit port: added, the numbers in the docstring
