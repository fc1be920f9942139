"""Keras 3's keras/src/layers/preprocessing/string_lookup_test.py and the string-vocabulary cases of
index_lookup_test.py (StringLookup is IndexLookup with vocabulary_dtype="string"), ported to rnnkit with
Keras's expected values and messages.

Keras's torch backend returns the lookups as a torch tensor and inverted lookups as a list of str
(test_torch_backend_compatibility); rnnkit does the same.

Not applicable:
- test_vocabulary_file's save/reload of a Sequential holding the layer (Keras keeps the file's lines as an
  asset): a torch model cannot carry strings, so rnnkit's StringLookup runs outside models; the file's
  vocabulary and the config without it are ported;
- test_adapt_with_grain_dataset, test_tf_data_compatibility, test_sparse_inputs, test_sparse_output_in_multi_hot,
  test_tensor_as_vocab: grain, tf.data and TensorFlow's sparse and string tensors;
- test_one_hot_symbolic_output_shape_nested_input: a symbolic Input(dtype="string") (see above), and it uses
  num_oov_indices=4;
- test_salt_siphash and index_lookup_test's salt/farmhash cases: several OOV indices hash tokens with
  TensorFlow's FarmHash64/SipHash, which rnnkit refuses (test_several_oov_indices_are_refused);
- index_lookup_test's integer-vocabulary cases (IntegerLookup), test_saving and the asset tests (Keras's
  file format).
"""

import os

import numpy as np
import pytest
import torch

from rnnkit.layers import StringLookup
from rnnkit.layers.serialize import deserialize, serialize


def roundtrip(layer):
    """Keras's run_class_serialization_test: the config rebuilds a layer with the same config."""
    rebuilt = deserialize(serialize(layer))
    assert type(rebuilt) is StringLookup and rebuilt.get_config() == layer.get_config()
    return rebuilt


# -- string_lookup_test.py -------------------------------------------------------------------------
def test_config():
    layer = StringLookup(output_mode="int", vocabulary=["a", "b", "c"], oov_token="[OOV]", mask_token="[MASK]")
    rebuilt = roundtrip(layer)
    assert layer.get_config()["vocabulary"] == ["a", "b", "c"]
    assert rebuilt.get_vocabulary() == layer.get_vocabulary() == ["[MASK]", "[OOV]", "a", "b", "c"]


def test_vocabulary_file(tmp_path):
    vocab_path = os.path.join(tmp_path, "vocab.txt")
    with open(vocab_path, "w") as file:
        file.write("a\nb\nc\n")
    layer = StringLookup(output_mode="int", vocabulary=vocab_path, oov_token="[OOV]", mask_token="[MASK]",
                         name="index")
    assert [str(v) for v in layer.get_vocabulary()] == ["[MASK]", "[OOV]", "a", "b", "c"]
    assert layer.get_config().get("vocabulary", None) is None
    os.remove(vocab_path)  # the vocabulary was read when the layer was made
    assert layer(["c", "[MASK]", "z"]).tolist() == [4, 0, 1]


def test_adapt_flow():
    layer = StringLookup(output_mode="int")
    layer.adapt(["a", "a", "a", "b", "b", "c"])
    output = layer(["b", "c", "d"])
    assert isinstance(output, torch.Tensor)
    np.testing.assert_allclose(output, np.array([2, 3, 0]))
    assert "a" in [str(v) for v in layer.get_vocabulary()]


def test_adapt_with_generator():
    def vocab_gen():
        yield ["cat", "dog"]
        yield ["bird", "cat"]

    layer = StringLookup()
    layer.adapt(vocab_gen())
    vocab = [str(v) for v in layer.get_vocabulary()]
    assert "cat" in vocab and "dog" in vocab and "bird" in vocab


def test_adapt_with_infinite_generator_and_steps():
    def vocab_gen():
        while True:
            yield ["cat", "dog", "bird"]

    layer = StringLookup()
    layer.adapt(vocab_gen(), steps=3)
    assert "cat" in [str(v) for v in layer.get_vocabulary()]


def test_fixed_vocabulary():
    layer = StringLookup(output_mode="int", vocabulary=["a", "b", "c"])
    output = layer(["b", "c", "d"])
    assert isinstance(output, torch.Tensor)
    np.testing.assert_allclose(output, np.array([2, 3, 0]))


def test_set_vocabulary():
    layer = StringLookup(output_mode="int")
    layer.set_vocabulary(["a", "b", "c"])
    output = layer(["b", "c", "d"])
    assert isinstance(output, torch.Tensor)
    np.testing.assert_allclose(output, np.array([2, 3, 0]))


def test_torch_backend_compatibility():
    forward_lookup = StringLookup(vocabulary=["a", "b", "c"], oov_token="[OOV]")
    output_numeric = forward_lookup(["a", "b", "[OOV]", "d"])
    assert isinstance(output_numeric, torch.Tensor)
    np.testing.assert_allclose(output_numeric.cpu(), torch.tensor([1, 2, 0, 0]))

    inverse_lookup = StringLookup(vocabulary=["a", "b", "c"], oov_token="[OOV]", invert=True)
    output_string = inverse_lookup(torch.tensor([1, 2, 0], dtype=torch.int64))
    assert isinstance(output_string, list)
    assert output_string == ["a", "b", "[OOV]"]


def test_invert_lookup_basic():
    layer = StringLookup(vocabulary=["a", "b", "c"], invert=True)
    output = layer([1, 2, 0])
    assert np.array(output).astype(str).tolist() == ["a", "b", "[UNK]"]


def test_output_mode_count_shape():
    layer = StringLookup(vocabulary=["a", "b"], output_mode="count")
    output = layer(["a", "a", "a", "b", "b"])
    assert output.shape[-1] == len(layer.get_vocabulary())


def test_output_mode_multi_hot_binary():
    layer = StringLookup(vocabulary=["a", "b"], output_mode="multi_hot")
    np.testing.assert_allclose(layer(["a", "b"]), [0, 1, 1])


def test_mask_token_basic():
    layer = StringLookup(vocabulary=["a"], mask_token="[MASK]")
    output = layer(["[MASK]", "a"])
    assert int(output[0]) == 0


def test_get_vocabulary_include_special_tokens_false():
    layer = StringLookup(vocabulary=["a", "b", "c"])
    assert layer.get_vocabulary(include_special_tokens=False) == ["a", "b", "c"]


# -- index_lookup_test.py, the string-vocabulary cases ---------------------------------------------
KWARGS = {"max_tokens": 7, "num_oov_indices": 1, "mask_token": "", "oov_token": "[OOV]"}


def test_basics_string_vocab():
    adapt_data = ["one", "one", "one", "two", "two", "three"]
    input_data = ["one", "two", "four"]
    vocabulary = ["one", "two", "three"]
    vocabulary_with_special_tokens = ["", "[OOV]", "one", "two", "three"]

    def check(layer):
        assert layer.get_vocabulary() == ["", "[OOV]", "one", "two", "three"]
        assert layer.get_vocabulary(include_special_tokens=False) == ["one", "two", "three"]
        assert list(layer(input_data)) == [2, 3, 1]

    # adapt + list inputs, then a NumPy array
    layer = StringLookup(**KWARGS)
    layer.adapt(adapt_data)
    check(layer)
    assert list(layer(np.array(input_data))) == [2, 3, 1]
    # fixed vocabulary, without and with the special tokens
    for vocab in (vocabulary, vocabulary_with_special_tokens):
        layer = StringLookup(vocabulary=vocab, **KWARGS)
        check(layer)
        roundtrip(layer)
    # set_vocabulary, without and with the special tokens
    for vocab in (vocabulary, vocabulary_with_special_tokens):
        layer = StringLookup(**KWARGS)
        layer.set_vocabulary(vocab)
        check(layer)


def test_output_modes():
    single_sample_input_data = ["one", "two", "four"]
    batch_input_data = [["one", "two", "four", "two"]]
    kwargs = {**KWARGS, "vocabulary": ["one", "two", "three"]}

    layer = StringLookup(**kwargs, output_mode="int")
    np.testing.assert_allclose(layer(single_sample_input_data), [2, 3, 1])
    np.testing.assert_allclose(layer(batch_input_data), [[2, 3, 1, 3]])

    layer = StringLookup(**kwargs, output_mode="multi_hot")
    np.testing.assert_allclose(layer(single_sample_input_data), [1, 1, 1, 0])
    np.testing.assert_allclose(layer(batch_input_data), [[1, 1, 1, 0]])

    layer = StringLookup(**kwargs, output_mode="one_hot")
    np.testing.assert_allclose(layer(single_sample_input_data), [[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0]])

    layer = StringLookup(**kwargs, output_mode="count")
    np.testing.assert_allclose(layer(single_sample_input_data), [1, 1, 1, 0])
    np.testing.assert_allclose(layer(batch_input_data), [[1, 1, 2, 0]])

    layer = StringLookup(**kwargs, output_mode="tf_idf", idf_weights=np.array([0.1, 0.2, 0.3]))
    np.testing.assert_allclose(layer(single_sample_input_data), [0.2, 0.1, 0.2, 0.0], rtol=1e-6)
    np.testing.assert_allclose(layer(batch_input_data), [[0.2, 0.1, 0.4, 0.0]], rtol=1e-6)


def test_invert():
    kwargs = {**KWARGS, "vocabulary": ["one", "two", "three"], "invert": True, "output_mode": "int"}
    layer = StringLookup(**kwargs)
    assert layer([2, 3, 1]) == ["one", "two", "[OOV]"]
    assert layer([[2, 3, 1, 3]])[0] == ["one", "two", "[OOV]", "two"]


def test_max_tokens_less_than_two():
    with pytest.raises(ValueError, match="If set, `max_tokens` must be greater than 1."):
        StringLookup(max_tokens=1, num_oov_indices=1, mask_token=None, oov_token=None)


def test_max_tokens_none_with_pad_to_max_tokens():
    with pytest.raises(ValueError, match="If pad_to_max_tokens is True, must set `max_tokens`."):
        StringLookup(num_oov_indices=1, max_tokens=None, mask_token=None, oov_token=None, pad_to_max_tokens=True)


def test_negative_num_oov_indices():
    with pytest.raises(ValueError, match="`num_oov_indices` must be greater than or equal to 0."):
        StringLookup(max_tokens=10, num_oov_indices=-1, mask_token=None, oov_token=None)


def test_invert_with_non_int_output_mode():
    with pytest.raises(ValueError, match=r"`output_mode` must be `'int'` when `invert` is true."):
        StringLookup(num_oov_indices=1, invert=True, output_mode="one_hot")


def test_sparse_true_with_int_output_mode():
    # Keras's StringLookup refuses sparse=True off the TensorFlow backend before IndexLookup's own check
    with pytest.raises(ValueError, match=r"`sparse=True` can only be used with the TensorFlow backend."):
        StringLookup(num_oov_indices=1, sparse=True, output_mode="int")


def test_idf_weights_set_with_non_tfidf_output_mode():
    with pytest.raises(ValueError, match=r"`idf_weights` should only be set if `output_mode` is `'tf_idf'`"):
        StringLookup(num_oov_indices=1, idf_weights=[0.5, 0.1, 0.3], output_mode="int")


def test_unrecognized_kwargs():
    with pytest.raises(ValueError, match="Unrecognized keyword argument"):
        StringLookup(num_oov_indices=1, output_mode="int", extra_arg=True)


def test_non_tf_idf_with_idf_weights():
    with pytest.raises(ValueError, match="`idf_weights` should only be set if `output_mode` is"):
        StringLookup(num_oov_indices=1, output_mode="multi_hot", idf_weights=[0.5, 0.1, 0.3])


def test_vocabulary_file_does_not_exist():
    with pytest.raises(ValueError, match="Vocabulary file path/to/missing_vocab.txt does not exist"):
        StringLookup(num_oov_indices=1, output_mode="int", vocabulary="path/to/missing_vocab.txt")


def test_repeated_tokens_in_vocabulary():
    with pytest.raises(ValueError, match="The passed vocabulary has at least one repeated term."):
        StringLookup(num_oov_indices=1, mask_token=None, oov_token=None, vocabulary=["token", "token", "unique"])


def test_mask_token_in_wrong_position():
    with pytest.raises(ValueError, match="Found reserved mask token at unexpected location in `vocabulary`."):
        StringLookup(num_oov_indices=1, mask_token="mask", oov_token=None, vocabulary=["token", "mask", "unique"])


def test_ensure_known_vocab_size_without_vocabulary():
    layer = StringLookup(num_oov_indices=1, mask_token="", oov_token="[OOV]", output_mode="multi_hot",
                         pad_to_max_tokens=False, max_tokens=None)
    with pytest.raises(RuntimeError, match="When using `output_mode=multi_hot` and"):
        layer(["sample", "data"])


# -- beyond Keras's files ------------------------------------------------------------------------------
def test_keras_io_video_classification_labels():
    """keras-io video_classification: the labels of a DataFrame column through
    StringLookup(num_oov_indices=0, vocabulary=np.unique(...)), (n, 1) in, (n, 1) int64 out."""
    tags = np.array(["Punch", "CricketShot", "TennisSwing", "Punch"], dtype=object)
    layer = StringLookup(num_oov_indices=0, vocabulary=np.unique(tags))
    assert layer.get_vocabulary() == ["CricketShot", "Punch", "TennisSwing"]
    out = layer(tags[..., None])
    assert out.dtype == torch.int64 and out.tolist() == [[1], [0], [2], [1]]
    with pytest.raises(ValueError, match=r"When `num_oov_indices=0` all inputs should be in vocabulary, found OOV "
                                         r"values \['Biking'\], consider setting `num_oov_indices=1`."):
        layer(np.array(["Punch", "Biking"]))


def test_adapt_orders_by_count_then_token_descending_and_keeps_max_tokens():
    layer = StringLookup(max_tokens=4)  # the OOV index and 3 tokens
    layer.adapt(["b", "a", "c", "a", "d", "c", "e"])  # a and c twice; b, d, e once: ties by token, descending
    assert layer.get_vocabulary() == ["[UNK]", "c", "a", "e"]
    assert layer.vocabulary_size() == 4


def test_adapt_tf_idf_weights():
    # Keras: idf = log(1 + documents / (1 + documents holding the token)); the OOV index gets their mean
    layer = StringLookup(output_mode="tf_idf")
    layer.adapt([["a", "a", "b"], ["a", "c", "c"]])
    assert layer.get_vocabulary() == ["[UNK]", "a", "c", "b"]
    idf = np.log(1 + 2 / (1 + np.array([2, 1, 1])))
    np.testing.assert_allclose(layer(["a", "a", "z"]), [np.mean(idf), 2 * idf[0], 0, 0], rtol=1e-6)


def test_adapt_after_a_fixed_vocabulary_is_refused():
    layer = StringLookup(vocabulary=["a"], name="fixed")
    with pytest.raises(ValueError, match="Cannot adapt layer 'fixed' after setting a static vocabulary"):
        layer.adapt(["a", "b"])


def test_several_oov_indices_are_refused():
    with pytest.raises(NotImplementedError, match="FarmHash64"):
        StringLookup(vocabulary=["a", "b"], num_oov_indices=4)


def test_bytes_tokens_scalars_and_the_mask_outside_int_mode():
    layer = StringLookup(vocabulary=[b"a", b"b"], mask_token="[MASK]")
    assert layer.get_vocabulary() == ["[MASK]", "[UNK]", "a", "b"]
    assert layer("b").item() == 3 and layer("b").shape == ()
    multi = StringLookup(vocabulary=["a", "b"], mask_token="[MASK]", output_mode="multi_hot")
    assert multi.get_vocabulary() == ["[UNK]", "a", "b"]  # outside "int", the mask has no index
    np.testing.assert_allclose(multi([["[MASK]", "b"]]), [[0, 0, 1]])


def test_in_a_model_is_refused_with_the_way_to_do_it():
    from rnnkit.layers import Input

    with pytest.raises(TypeError, match="runs on data, not in a model"):
        StringLookup(vocabulary=["a"])(Input((3,)))
