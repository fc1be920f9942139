"""ModelCheckpoint, ported from Keras 3's keras/src/callbacks/model_checkpoint_test.py
(github.com/keras-team/keras), case by case with Keras's data, arguments and assertions.

File names: Keras insists on `.keras` for models and `.weights.h5` for weights (its ModelCheckpoint raises
ValueError otherwise). The cases here use rnnkit's own names (`.rnnkit`, `.weights.rnnkit`); under Keras's
names rnnkit writes Keras's formats (io/keras_files.py), see test_keras_suffixes_are_keras_formats.
"""

import os
import warnings

import numpy as np
import pytest

from rnnkit import metrics, models, utils
from rnnkit.callbacks import ModelCheckpoint
from rnnkit.layers import Dense, Input
from rnnkit.models import Sequential

TRAIN_SAMPLES = 30
TEST_SAMPLES = 30
NUM_CLASSES = 3
INPUT_DIM = 3
NUM_HIDDEN = 5
BATCH_SIZE = 5


def get_test_data(train_samples, test_samples, input_shape, num_classes, random_seed=None):
    """Keras's keras/src/testing/test_utils.py get_test_data: balanced, stratified synthetic data."""
    np.random.seed(random_seed)
    total_samples = train_samples + test_samples
    samples_per_class = total_samples // num_classes
    y = np.array([i for i in range(num_classes) for _ in range(samples_per_class)], dtype=np.int32)
    extra_samples = total_samples - len(y)
    y = np.concatenate([y, np.array([i % num_classes for i in range(extra_samples)], dtype=np.int64)])
    templates = 2 * num_classes * np.random.random((num_classes,) + input_shape)
    x = np.zeros((total_samples,) + input_shape, dtype=np.float32)
    for i in range(total_samples):
        x[i] = templates[y[i]] + np.random.normal(loc=0, scale=1.0, size=input_shape)
    indices = np.arange(total_samples)
    np.random.shuffle(indices)
    x, y = x[indices], y[indices]
    x_train, y_train, x_test, y_test = [], [], [], []
    for cls in range(num_classes):
        cls_indices = np.where(y == cls)[0]
        np.random.shuffle(cls_indices)
        train_count = int(train_samples / num_classes)
        x_train.extend(x[cls_indices[:train_count]])
        y_train.extend(y[cls_indices[:train_count]])
        x_test.extend(x[cls_indices[train_count:]])
        y_test.extend(y[cls_indices[train_count:]])
    x_train, y_train = np.array(x_train), np.array(y_train)
    x_test, y_test = np.array(x_test), np.array(y_test)
    train_indices, test_indices = np.arange(len(x_train)), np.arange(len(x_test))
    np.random.shuffle(train_indices)
    np.random.shuffle(test_indices)
    return (x_train[train_indices], y_train[train_indices]), (x_test[test_indices], y_test[test_indices])


def _data():
    (x_train, y_train), (x_test, y_test) = get_test_data(
        random_seed=42, train_samples=TRAIN_SAMPLES, test_samples=TEST_SAMPLES, input_shape=(INPUT_DIM,),
        num_classes=NUM_CLASSES)
    y_test = utils.to_categorical(y_test, num_classes=NUM_CLASSES)
    y_train = utils.to_categorical(y_train, num_classes=NUM_CLASSES)
    return x_train, y_train, x_test, y_test


def test_model_checkpoint_options(tmp_path):
    def get_model():
        model = Sequential([Dense(NUM_HIDDEN, activation="relu"), Dense(NUM_CLASSES, activation="softmax")])
        model.compile(loss="categorical_crossentropy", optimizer="sgd", metrics=[metrics.Accuracy("acc")])
        return model

    model = get_model()
    temp_dir = str(tmp_path)
    # Save model to a subdir inside the temp_dir so we can test automatic directory creation.
    filepath = os.path.join(temp_dir, "subdir", "checkpoint.rnnkit")
    x_train, y_train, x_test, y_test = _data()

    def fit(cbks, **kwargs):
        model.fit(x_train, y_train, **{"batch_size": BATCH_SIZE, "validation_data": (x_test, y_test),
                                        "callbacks": cbks, "epochs": 1, "verbose": 0, **kwargs})

    # Case 1
    monitor, save_best_only, mode = "val_loss", False, "auto"
    fit([ModelCheckpoint(filepath, monitor=monitor, save_best_only=save_best_only, mode=mode)])
    assert os.path.exists(filepath)
    os.remove(filepath)

    # Case 2
    mode = "min"
    fit([ModelCheckpoint(filepath, monitor=monitor, save_best_only=save_best_only, mode=mode)])
    assert os.path.exists(filepath)
    os.remove(filepath)

    # Case 3
    mode, monitor = "max", "val_acc"
    fit([ModelCheckpoint(filepath, monitor=monitor, save_best_only=save_best_only, mode=mode)])
    assert os.path.exists(filepath)
    os.remove(filepath)

    # Case 4
    save_best_only = True
    fit([ModelCheckpoint(filepath, monitor=monitor, save_best_only=save_best_only, mode=mode)])
    assert os.path.exists(filepath)
    os.remove(filepath)

    # Case 5: metric not available.
    with pytest.warns(UserWarning):
        fit([ModelCheckpoint(filepath, monitor="unknown", save_best_only=True, mode="min")])
    assert os.path.exists(filepath)

    # Case 6
    with warnings.catch_warnings(record=True) as warning_logs:
        warnings.simplefilter("always")
        ModelCheckpoint(filepath, monitor=monitor, save_best_only=save_best_only, mode="unknown")
        assert "ModelCheckpoint mode 'unknown' is unknown" in str(warning_logs[-1].message)

    # Case 8a: `ModelCheckpoint` with an integer `save_freq`
    filepath = os.path.join(temp_dir, "checkpoint.epoch{epoch:02d}.rnnkit")
    save_best_only = False
    cbks = [ModelCheckpoint(filepath, monitor=monitor, save_best_only=save_best_only, mode=mode, save_freq=15)]
    assert not os.path.exists(filepath.format(epoch=3))
    fit(cbks, batch_size=6, epochs=10)  # 5 batches / epoch, so should backup every 3 epochs
    for epoch in range(1, 10):
        assert os.path.exists(filepath.format(epoch=epoch)) == (epoch in (3, 6, 9)), epoch
    os.remove(filepath.format(epoch=3))
    os.remove(filepath.format(epoch=6))
    os.remove(filepath.format(epoch=9))

    # Case 8b: `ModelCheckpoint` with int `save_freq` & `save_weights_only`
    filepath = os.path.join(temp_dir, "checkpoint.epoch{epoch:02d}.weights.rnnkit")
    cbks = [ModelCheckpoint(filepath, monitor=monitor, save_freq=15, save_weights_only=True)]
    assert not os.path.exists(filepath.format(epoch=3))
    fit(cbks, batch_size=6, epochs=10)
    for epoch in range(1, 10):
        assert os.path.exists(filepath.format(epoch=epoch)) == (epoch in (3, 6, 9)), epoch

    # Case 9: `ModelCheckpoint` with valid and invalid save_freq argument.
    with pytest.raises(ValueError, match="Unrecognized save_freq"):
        ModelCheckpoint(filepath, monitor=monitor, save_best_only=save_best_only, save_weights_only=True, mode=mode,
                        save_freq="invalid_save_freq")
    # The following should not raise ValueError.
    ModelCheckpoint(filepath, monitor=monitor, save_best_only=save_best_only, save_weights_only=True, mode=mode,
                    save_freq="epoch")
    ModelCheckpoint(filepath, monitor=monitor, save_best_only=save_best_only, save_weights_only=True, mode=mode,
                    save_freq=3)

    # Case 10a: `ModelCheckpoint` save with batch in filename.
    filepath = os.path.join(temp_dir, "checkpoint.epoch{epoch:02d}batch{batch:02d}.rnnkit")
    fit([ModelCheckpoint(filepath, monitor=monitor, save_freq=1)], batch_size=15, epochs=5, verbose=1)
    for epoch in range(1, 6):
        for batch in (1, 2):
            assert os.path.exists(filepath.format(epoch=epoch, batch=batch))

    # Case 10b: `ModelCheckpoint` save weights with batch in filename.
    filepath = os.path.join(temp_dir, "checkpoint.epoch{epoch:02d}batch{batch:02d}.weights.rnnkit")
    fit([ModelCheckpoint(filepath, monitor=monitor, save_freq=1, save_weights_only=True)], batch_size=15, epochs=5,
        verbose=1)
    for epoch in range(1, 6):
        for batch in (1, 2):
            assert os.path.exists(filepath.format(epoch=epoch, batch=batch))

    # Case 11: ModelCheckpoint saves model with initial_value_threshold param
    mode, monitor, initial_value_threshold, save_best_only = "max", "val_acc", -0.01, True
    filepath = os.path.join(temp_dir, "checkpoint.rnnkit")
    fit([ModelCheckpoint(filepath, monitor=monitor, save_best_only=save_best_only,
                         initial_value_threshold=initial_value_threshold, mode=mode)])
    assert os.path.exists(filepath)
    os.remove(filepath)

    # Case 12: ModelCheckpoint saves model with initial_value_threshold param
    mode, monitor, initial_value_threshold, save_best_only = "auto", "val_loss", None, True
    fit([ModelCheckpoint(filepath, monitor=monitor, save_best_only=save_best_only,
                         initial_value_threshold=initial_value_threshold, mode=mode)])
    assert os.path.exists(filepath)
    os.remove(filepath)

    # Case 13: ModelCheckpoint doesn't save model if loss was minimum earlier
    mode, monitor, initial_value_threshold, save_best_only = "min", "val_loss", 0, True
    fit([ModelCheckpoint(filepath, monitor=monitor, save_best_only=save_best_only,
                         initial_value_threshold=initial_value_threshold, mode=mode)])
    assert not os.path.exists(filepath)

    # Case 14: ModelCheckpoint doesn't save model if loss was min earlier in auto mode
    mode, monitor, initial_value_threshold, save_best_only = "auto", "val_loss", 0, True
    fit([ModelCheckpoint(filepath, monitor=monitor, save_best_only=save_best_only,
                         initial_value_threshold=initial_value_threshold, mode=mode)])
    assert not os.path.exists(filepath)
    # Case 15 (metrics.AUC) is test_model_checkpoint_options_auc below.


def test_model_checkpoint_options_auc(tmp_path):
    # Case 15: ModelCheckpoint doesn't save model if auc was max earlier in auto mode
    x_train, y_train, x_test, y_test = _data()
    model = Sequential([Dense(NUM_HIDDEN, activation="relu"), Dense(NUM_CLASSES, activation="softmax")])
    filepath = os.path.join(str(tmp_path), "checkpoint.rnnkit")
    cbks = [ModelCheckpoint(filepath, monitor="val_auc", save_best_only=True, initial_value_threshold=1, mode="auto")]
    model.compile(loss="categorical_crossentropy", optimizer="sgd", metrics=[metrics.AUC()])
    model.fit(x_train, y_train, batch_size=BATCH_SIZE, validation_data=(x_test, y_test), callbacks=cbks, epochs=1,
              verbose=0)
    assert not os.path.exists(filepath)


def test_model_checkpoint_loading(tmp_path):
    def get_model():
        inputs = Input(shape=(INPUT_DIM,), batch_size=5)
        x = Dense(NUM_HIDDEN, activation="relu")(inputs)
        outputs = Dense(NUM_CLASSES, activation="softmax")(x)
        functional_model = models.Model(inputs, outputs)
        functional_model.compile(loss="categorical_crossentropy", optimizer="sgd", metrics=[metrics.Accuracy("acc")])
        return functional_model

    x_train, y_train, x_test, y_test = _data()

    # Model Checkpoint load model (default)
    model = get_model()
    filepath = os.path.join(str(tmp_path), "checkpoint.model.rnnkit")
    cbks = [ModelCheckpoint(filepath, monitor="val_loss", save_best_only=True, mode="auto")]
    model.fit(x_train, y_train, batch_size=BATCH_SIZE, validation_data=(x_test, y_test), callbacks=cbks, epochs=1,
              verbose=0)
    ref_weights = model.get_weights()
    assert os.path.exists(filepath)
    new_model = models.load_model(filepath)
    new_weights = new_model.get_weights()
    assert len(ref_weights) == len(new_weights)
    for ref_w, w in zip(ref_weights, new_weights):
        np.testing.assert_allclose(w, ref_w)

    # Model Checkpoint load model weights
    model = get_model()
    filepath = os.path.join(str(tmp_path), "checkpoint.weights.rnnkit")
    cbks = [ModelCheckpoint(filepath, monitor="val_loss", save_best_only=True, save_weights_only=True, mode="auto")]
    model.fit(x_train, y_train, batch_size=BATCH_SIZE, validation_data=(x_test, y_test), callbacks=cbks, epochs=1,
              verbose=0)
    ref_weights = model.get_weights()
    assert os.path.exists(filepath)
    new_model = get_model()
    new_model.load_weights(filepath)
    new_weights = new_model.get_weights()
    assert len(ref_weights) == len(new_weights)
    for ref_w, w in zip(ref_weights, new_weights):
        np.testing.assert_allclose(w, ref_w)


# -- beyond Keras's file: what its ModelCheckpoint does that the cases above leave implicit -------------------
def test_filepath_formats_epoch_and_logs(tmp_path):
    x_train, y_train, x_test, y_test = _data()
    model = Sequential([Dense(NUM_HIDDEN, activation="relu"), Dense(NUM_CLASSES, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer="sgd")
    ckpt = ModelCheckpoint(tmp_path / "m-{epoch:02d}-{val_loss:.4f}.rnnkit")
    history = model.fit(x_train, y_train, batch_size=BATCH_SIZE, validation_data=(x_test, y_test), callbacks=[ckpt],
                        epochs=2, verbose=0)
    expected = [f"m-{e + 1:02d}-{v:.4f}.rnnkit" for e, v in enumerate(history.history["val_loss"])]
    assert sorted(os.listdir(tmp_path)) == expected
    with pytest.raises(ValueError, match="names a field fit does not log"):
        model.fit(x_train, y_train, callbacks=[ModelCheckpoint(tmp_path / "m-{val_acc}.rnnkit")], epochs=1, verbose=0)


def test_keras_suffixes_are_keras_formats(tmp_path):
    # rnnkit writes Keras's own formats under Keras's names (io/keras_files.py): nothing to warn about;
    # a weights-only checkpoint named .keras is Keras's ValueError.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ModelCheckpoint(tmp_path / "checkpoint.keras")
        ModelCheckpoint(tmp_path / "checkpoint.weights.h5", save_weights_only=True)
    with pytest.raises(ValueError, match=r"save_weights_only=True.*\.weights\.h5.*Received: .*checkpoint\.keras"):
        ModelCheckpoint(tmp_path / "checkpoint.keras", save_weights_only=True)
