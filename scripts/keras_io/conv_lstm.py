"""
Title: Next-Frame Video Prediction with Convolutional LSTMs
Author: [Amogh Joshi](https://github.com/amogh7joshi)
Date created: 2021/06/02
Last modified: 2021/06/05
Description: How to build and train a convolutional LSTM model for next-frame video prediction.

Ported to rnnkit from keras-io examples/vision/conv_lstm.py (the stored version, commit b8bb4c0, which
imports `from tensorflow import keras`): the data preparation, model, compile, fit, callbacks and the
frame-by-frame prediction code is the example's; only the imports change (`import rnnkit as keras`,
`from rnnkit import layers`). Every other changed line carries a `# rnnkit port:` comment saying why.
Run: python scripts/keras_io/conv_lstm.py (about 25 s on one CPU core at the sizes below).

Stand-in data: `keras.utils.get_file("moving_mnist.npy", ...)` downloads Moving MNIST, a uint8 array
(20 frames, 10000 sequences, 64, 64) of two MNIST digits gliding and bouncing off the frame's edges.
`moving_mnist_standin` returns the same layout (frames first, uint8 0-255) from a seeded generator: two
random 5x5 glyphs per sequence, each moving at a constant velocity of 1 or 2 pixels per frame and bouncing
off the edges, so the next frame follows from the last ones as in Moving MNIST. The example's own code
then swaps the axes, splits, scales and shifts it.

Sizes: the sequences (1000 used -> N_SEQUENCES), the frame size (64 -> FRAME_SIZE), the ConvLSTM2D filters
(64 -> FILTERS) and the epochs (20 -> EPOCHS) are reduced by the constants below; the 20 frames per
sequence, the kernel sizes, BatchNormalization, Conv3D(1, (3, 3, 3), sigmoid), binary crossentropy, Adam,
batch size 5, the callbacks and the 10 + 10 frame prediction loops are the example's.

Measured (the sizes below, SEED = 0, 2 shared CPU cores, OMP_NUM_THREADS=1), training loss per epoch:
  rnnkit 0.1.0 (torch 2.13 CPU):     0.7390, 0.5497, 0.4446, 0.3829, 0.3470, 0.3274 (val_loss 0.677 -> 0.554)
  Keras 3.15.1 (JAX backend, CPU):   0.7412, 0.6026, 0.4724, 0.3848, 0.3514, 0.3279
  Keras 3.15.1 (torch backend, CPU): 0.6538, 0.4691, 0.3698, 0.3246, 0.3040, 0.2960 (val_loss 0.681 -> 0.583)
  at SEED = 1 and 2 (other data too): rnnkit 0.782 -> 0.349 and 0.741 -> 0.313 (val_loss 0.687 -> 0.590,
  0.693 -> 0.639); Keras (JAX) 0.767 -> 0.324 and 0.578 -> 0.287 (val_loss 0.688 -> 0.610, 0.682 -> 0.573).
The validation loss falls slowly in both: BatchNormalization's moving statistics (momentum 0.99) still lag
after 48 steps. (The data are identical in both: NumPy draws them before any framework does; the weights'
draws differ. scripts/keras_io/run_with_keras.py runs this file under Keras.)
"""

"""
## Introduction

The
[Convolutional LSTM](https://papers.nips.cc/paper/2015/file/07563a3fe3bbe7e3ba84431ad9d055af-Paper.pdf)
architectures bring together time series processing and computer vision by
introducing a convolutional recurrent cell in a LSTM layer. In this example, we will explore the
Convolutional LSTM model in an application to next-frame prediction, the process
of predicting what video frames come next given a series of past frames.
"""

"""
## Setup
"""

import numpy as np
import matplotlib.pyplot as plt

# rnnkit port: `import tensorflow as tf` dropped (unused by the example; TensorFlow is not needed)
import rnnkit as keras  # rnnkit port: was `from tensorflow import keras`
from rnnkit import layers  # rnnkit port: was `from tensorflow.keras import layers`

import io
from PIL import Image as PILImage  # rnnkit port: writes the GIFs in place of imageio (not installed)

# rnnkit port: `import imageio`, `from IPython.display import Image, display` and
# `from ipywidgets import widgets, Layout, HBox` dropped: notebook display packages, not installed here;
# the GIFs are still made (with Pillow, which matplotlib installs) and kept in `predicted_videos`.

N_SEQUENCES = 40  # rnnkit port: sequences (the example uses 1000 of Moving MNIST's 10000)
FRAME_SIZE = 16  # rnnkit port: frame height and width (Moving MNIST: 64)
FILTERS = 8  # rnnkit port: ConvLSTM2D filters (the example: 64)
EPOCHS = 6  # rnnkit port: epochs (the example: 20)
SEED = 0
np.random.seed(SEED)  # rnnkit port: added, a deterministic run (the example is unseeded)
keras.utils.set_random_seed(SEED)  # rnnkit port: added, deterministic weights and shuffling


def moving_mnist_standin(num_sequences=N_SEQUENCES, num_frames=20, size=FRAME_SIZE, glyph=5, seed=SEED):
    """rnnkit port: the stand-in for Moving MNIST's file (see the docstring): uint8 (frames, sequences,
    size, size), two glyphs per sequence bouncing off the edges."""
    rng = np.random.RandomState(seed)
    data = np.zeros((num_frames, num_sequences, size, size), dtype=np.uint8)
    for n in range(num_sequences):
        for _ in range(2):
            shape = (rng.rand(glyph, glyph) > 0.35) * rng.randint(150, 256, (glyph, glyph))
            position = rng.randint(0, size - glyph + 1, 2).astype(int)
            velocity = rng.choice([-2, -1, 1, 2], 2)
            for t in range(num_frames):
                r, c = position
                patch = data[t, n, r : r + glyph, c : c + glyph]
                np.maximum(patch, shape.astype(np.uint8), out=patch)
                for axis in range(2):  # bounce off the edges, as Moving MNIST's digits do
                    nxt = position[axis] + velocity[axis]
                    if nxt < 0 or nxt > size - glyph:
                        velocity[axis] = -velocity[axis]
                    position[axis] += velocity[axis]
    return data


"""
## Dataset Construction

For this example, we will be using the
[Moving MNIST](http://www.cs.toronto.edu/~nitish/unsupervised_video/)
dataset.

We will download the dataset and then construct and
preprocess training and validation sets.

For next-frame prediction, our model will be using a previous frame,
which we'll call `f_n`, to predict a new frame, called `f_(n + 1)`.
To allow the model to create these predictions, we'll need to process
the data such that we have "shifted" inputs and outputs, where the
input data is frame `x_n`, being used to predict frame `y_(n + 1)`.
"""

# Download and load the dataset.
# rnnkit port: `fpath = keras.utils.get_file("moving_mnist.npy", ...)` and `dataset = np.load(fpath)`
# (a download) -> the same-layout stand-in
dataset = moving_mnist_standin()

# Swap the axes representing the number of frames and number of data samples.
dataset = np.swapaxes(dataset, 0, 1)
# We'll pick out 1000 of the 10000 total examples and use those.
dataset = dataset[:1000, ...]
# Add a channel dimension since the images are grayscale.
dataset = np.expand_dims(dataset, axis=-1)

# Split into train and validation sets using indexing to optimize memory.
indexes = np.arange(dataset.shape[0])
np.random.shuffle(indexes)
train_index = indexes[: int(0.9 * dataset.shape[0])]
val_index = indexes[int(0.9 * dataset.shape[0]) :]
train_dataset = dataset[train_index]
val_dataset = dataset[val_index]

# Normalize the data to the 0-1 range.
train_dataset = train_dataset / 255
val_dataset = val_dataset / 255

# We'll define a helper function to shift the frames, where
# `x` is frames 0 to n - 1, and `y` is frames 1 to n.
def create_shifted_frames(data):
    x = data[:, 0 : data.shape[1] - 1, :, :]
    y = data[:, 1 : data.shape[1], :, :]
    return x, y


# Apply the processing function to the datasets.
x_train, y_train = create_shifted_frames(train_dataset)
x_val, y_val = create_shifted_frames(val_dataset)

# Inspect the dataset.
print("Training Dataset Shapes: " + str(x_train.shape) + ", " + str(y_train.shape))
print("Validation Dataset Shapes: " + str(x_val.shape) + ", " + str(y_val.shape))

"""
## Data Visualization

Our data consists of sequences of frames, each of which
are used to predict the upcoming frame. Let's take a look
at some of these sequential frames.
"""

# Construct a figure on which we will visualize the images.
fig, axes = plt.subplots(4, 5, figsize=(10, 8))

# Plot each of the sequential images for one random data example.
data_choice = np.random.choice(range(len(train_dataset)), size=1)[0]
for idx, ax in enumerate(axes.flat):
    ax.imshow(np.squeeze(train_dataset[data_choice][idx]), cmap="gray")
    ax.set_title(f"Frame {idx + 1}")
    ax.axis("off")

# Print information and display the figure.
print(f"Displaying frames for example {data_choice}.")
plt.show()

"""
## Model Construction

To build a Convolutional LSTM model, we will use the
`ConvLSTM2D` layer, which will accept inputs of shape
`(batch_size, num_frames, width, height, channels)`, and return
a prediction movie of the same shape.
"""

# Construct the input layer with no definite frame size.
inp = layers.Input(shape=(None, *x_train.shape[2:]))

# We will construct 3 `ConvLSTM2D` layers with batch normalization,
# followed by a `Conv3D` layer for the spatiotemporal outputs.
x = layers.ConvLSTM2D(
    filters=FILTERS,  # rnnkit port: was 64
    kernel_size=(5, 5),
    padding="same",
    return_sequences=True,
    activation="relu",
)(inp)
x = layers.BatchNormalization()(x)
x = layers.ConvLSTM2D(
    filters=FILTERS,  # rnnkit port: was 64
    kernel_size=(3, 3),
    padding="same",
    return_sequences=True,
    activation="relu",
)(x)
x = layers.BatchNormalization()(x)
x = layers.ConvLSTM2D(
    filters=FILTERS,  # rnnkit port: was 64
    kernel_size=(1, 1),
    padding="same",
    return_sequences=True,
    activation="relu",
)(x)
x = layers.Conv3D(
    filters=1, kernel_size=(3, 3, 3), activation="sigmoid", padding="same"
)(x)

# Next, we will build the complete model and compile it.
model = keras.models.Model(inp, x)
model.compile(
    loss=keras.losses.binary_crossentropy,
    optimizer=keras.optimizers.Adam(),
)

"""
## Model Training

With our model and data constructed, we can now train the model.
"""

# Define some callbacks to improve training.
early_stopping = keras.callbacks.EarlyStopping(monitor="val_loss", patience=10)
reduce_lr = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", patience=5)

# Define modifiable training hyperparameters.
epochs = EPOCHS  # rnnkit port: was 20
batch_size = 5

# Fit the model to the training data.
history = model.fit(  # rnnkit port: `history =` added, for the test
    x_train,
    y_train,
    batch_size=batch_size,
    epochs=epochs,
    validation_data=(x_val, y_val),
    callbacks=[early_stopping, reduce_lr],
)

"""
## Frame Prediction Visualizations

With our model now constructed and trained, we can generate
some example frame predictions based on a new video.

We'll pick a random example from the validation set and
then choose the first ten frames from them. From there, we can
allow the model to predict 10 new frames, which we can compare
to the ground truth frame predictions.
"""

# Select a random example from the validation dataset.
example = val_dataset[np.random.choice(range(len(val_dataset)), size=1)[0]]

# Pick the first/last ten frames from the example.
frames = example[:10, ...]
original_frames = example[10:, ...]

# Predict a new set of 10 frames.
for _ in range(10):
    # Extract the model's prediction and post-process it.
    new_prediction = model.predict(np.expand_dims(frames, axis=0))
    new_prediction = np.squeeze(new_prediction, axis=0)
    predicted_frame = np.expand_dims(new_prediction[-1, ...], axis=0)

    # Extend the set of prediction frames.
    frames = np.concatenate((frames, predicted_frame), axis=0)

# Construct a figure for the original and new frames.
fig, axes = plt.subplots(2, 10, figsize=(20, 4))

# Plot the original frames.
for idx, ax in enumerate(axes[0]):
    ax.imshow(np.squeeze(original_frames[idx]), cmap="gray")
    ax.set_title(f"Frame {idx + 11}")
    ax.axis("off")

# Plot the new frames.
new_frames = frames[10:, ...]
for idx, ax in enumerate(axes[1]):
    ax.imshow(np.squeeze(new_frames[idx]), cmap="gray")
    ax.set_title(f"Frame {idx + 11}")
    ax.axis("off")

# Display the figure.
plt.show()

"""
## Predicted Videos

Finally, we'll pick a few examples from the validation set
and construct some GIFs with them to see the model's
predicted videos.

You can use the trained model hosted on [Hugging Face Hub](https://huggingface.co/keras-io/conv-lstm)
and try the demo on [Hugging Face Spaces](https://huggingface.co/spaces/keras-io/conv-lstm).
"""


def mimsave_standin(file, images, format, fps):
    """rnnkit port: imageio.mimsave(file, images, "GIF", fps=fps) done with Pillow (imageio is not installed)."""
    pictures = [PILImage.fromarray(image) for image in images]
    pictures[0].save(file, format=format, save_all=True, append_images=pictures[1:], duration=1000 // fps, loop=0)


# Select a few random examples from the dataset.
examples = val_dataset[np.random.choice(range(len(val_dataset)), size=5)]

# Iterate over the examples and predict the frames.
predicted_videos = []
for example in examples:
    # Pick the first/last ten frames from the example.
    frames = example[:10, ...]
    original_frames = example[10:, ...]
    new_predictions = np.zeros(shape=(10, *frames[0].shape))

    # Predict a new set of 10 frames.
    for i in range(10):
        # Extract the model's prediction and post-process it.
        frames = example[: 10 + i + 1, ...]
        new_prediction = model.predict(np.expand_dims(frames, axis=0))
        new_prediction = np.squeeze(new_prediction, axis=0)
        predicted_frame = np.expand_dims(new_prediction[-1, ...], axis=0)

        # Extend the set of prediction frames.
        new_predictions[i] = predicted_frame

    # Create and save GIFs for each of the ground truth/prediction images.
    for frame_set in [original_frames, new_predictions]:
        # Construct a GIF from the selected video frames.
        current_frames = np.squeeze(frame_set)
        current_frames = current_frames[..., np.newaxis] * np.ones(3)
        current_frames = (current_frames * 255).astype(np.uint8)
        current_frames = list(current_frames)

        # Construct a GIF from the frames.
        with io.BytesIO() as gif:
            mimsave_standin(gif, current_frames, "GIF", fps=5)  # rnnkit port: was imageio.mimsave
            predicted_videos.append(gif.getvalue())

# Display the videos.
print(" Truth\tPrediction")
# rnnkit port: the example shows each (truth, prediction) pair of GIFs as an ipywidgets HBox of two
# widgets.Image in a notebook (`display(box)`); without ipywidgets the pairs are kept in `boxes`.
boxes = []
for i in range(0, len(predicted_videos), 2):
    boxes.append((predicted_videos[i], predicted_videos[i + 1]))
