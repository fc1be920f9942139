"""StringLookup: strings to vocabulary indices (and back), Keras 3's preprocessing layer.

Keras 3 builds it on TensorFlow's hash tables on every backend (without TensorFlow, Keras refuses to
make one); here it is a dictionary, with Keras's rules (keras/src/layers/preprocessing/index_lookup.py):
the indices start with the mask token (index 0, output_mode="int" only) and the OOV indices, then the
vocabulary; `adapt` orders the tokens by count, ties by the tokens themselves, both descending; a token
outside the vocabulary takes the OOV index (num_oov_indices=1) or is an error (num_oov_indices=0).

It runs on data, outside a model: PyTorch tensors hold no strings, so an `Input(dtype="string")` has
no rnnkit counterpart. Map labels or words first, then feed the indices to the model:

>>> labels = StringLookup(num_oov_indices=0, vocabulary=["cat", "dog"])
>>> labels(np.array([["dog"], ["cat"]]))
tensor([[1],
        [0]])
>>> StringLookup(vocabulary=["cat", "dog"], invert=True)([2, 0])
['dog', '[UNK]']
"""

from __future__ import annotations

import collections
import os

import numpy as np
import torch

from ..registry import BUILTIN, register_serializable
from ..symbolic import is_symbolic
from .base import Layer

Tensor = torch.Tensor
OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
_DROPPED = -2  # the index of a mask token outside output_mode="int": left out of the encodings, as Keras drops it


@register_serializable(package=BUILTIN)
class StringLookup(Layer):
    """Keras's `StringLookup`: tokens -> int64 indices (a torch tensor, as Keras's torch backend returns),
    or with output_mode "one_hot", "multi_hot", "count" or "tf_idf" their encodings over the vocabulary;
    with invert=True, indices -> tokens (a list of str, nested as the input).

    Args (Keras's):
        max_tokens: the most indices, special ones included (None: no limit).
        num_oov_indices: 0 (a token outside the vocabulary is an error) or 1. Keras's several OOV
            buckets hash the token with TensorFlow's FarmHash64, which rnnkit does not reproduce.
        mask_token: a token mapped to 0 (output_mode="int"), or dropped from the encodings.
        oov_token: the token `invert` gives for the OOV index (and that get_vocabulary lists).
        vocabulary: a list or 1-D array of tokens (special tokens first, or none), or a text file's path
            (one token per line); or learn it with `adapt(data)`.
        idf_weights: with output_mode="tf_idf" and a vocabulary: one weight per token.
        invert: indices -> tokens. output_mode: as above. pad_to_max_tokens: encodings of max_tokens
            entries. encoding: of bytes tokens. sparse=True and salt= are TensorFlow's hashing and
            sparse tensors: refused.
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]", vocabulary=None,
                 idf_weights=None, invert=False, output_mode="int", pad_to_max_tokens=False, sparse=False,
                 encoding="utf-8", name=None, salt=None, **kwargs):
        if sparse:
            raise ValueError("`sparse=True` can only be used with the TensorFlow backend.")
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(f"If set, `max_tokens` must be greater than 1. Received: max_tokens={max_tokens}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"If pad_to_max_tokens is True, must set `max_tokens`. Received: max_tokens={max_tokens}")
        if num_oov_indices < 0:
            raise ValueError("`num_oov_indices` must be greater than or equal to 0. "
                             f"Received: num_oov_indices={num_oov_indices}")
        if num_oov_indices > 1 or salt is not None:
            raise NotImplementedError(
                f"StringLookup: num_oov_indices={num_oov_indices}, salt={salt!r}: Keras spreads tokens outside the "
                "vocabulary over several OOV indices with TensorFlow's FarmHash64 (or SipHash with a salt), which "
                "rnnkit does not reproduce. Use num_oov_indices=1 (one OOV index) or 0 (unknown tokens refused).")
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        if not (isinstance(output_mode, str) and output_mode in OUTPUT_MODES):
            raise ValueError(f"Unknown value for `output_mode` argument of StringLookup. Allowed values are: "
                             f"{OUTPUT_MODES}. Received: output_mode={output_mode}")
        if invert and output_mode != "int":
            raise ValueError("`output_mode` must be `'int'` when `invert` is true. "
                             f"Received: output_mode={output_mode}")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError("`idf_weights` should only be set if `output_mode` is `'tf_idf'`. Received: "
                             f"idf_weights={idf_weights} and output_mode={output_mode}")
        frozen_size = kwargs.pop("vocabulary_size", None)
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        for ignored in ("trainable", "dtype", "vocabulary_dtype", "oov_method"):
            kwargs.pop(ignored, None)
        if kwargs:
            raise ValueError(f"Unrecognized keyword argument(s): {kwargs}")
        super().__init__(name)
        self.max_tokens, self.num_oov_indices = max_tokens, int(num_oov_indices)
        self.mask_token, self.oov_token = mask_token, oov_token
        self.invert, self.output_mode = bool(invert), output_mode
        self.pad_to_max_tokens, self.sparse, self.encoding = bool(pad_to_max_tokens), False, encoding
        self._frozen_vocab_size = frozen_size
        # The vocabulary as given, for get_config; a file's path is not kept (Keras keeps its lines as an asset)
        self.input_vocabulary = None if isinstance(vocabulary, str) else _listed(vocabulary)
        self.input_idf_weights = _listed(idf_weights)
        self._has_input_vocabulary = bool(has_input_vocabulary)
        self._tokens: list[str] = []  # the vocabulary without the special tokens, in index order
        self._index: dict[str, int] = {}
        self._idf_weights: np.ndarray | None = None
        self._token_counts: collections.Counter = collections.Counter()
        self._document_counts: collections.Counter = collections.Counter()
        self._num_documents = 0
        if output_mode == "tf_idf" and self._has_input_vocabulary and idf_weights is None:
            raise ValueError("When specifying the `vocabulary` argument, in TF-IDF output mode, the `idf_weights` "
                             "argument must also be provided.")
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # -- the vocabulary --------------------------------------------------------------------------------
    def _oov_start_index(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self) -> int:
        return self._oov_start_index() + self.num_oov_indices

    def _text(self, token) -> str:
        return token.decode(self.encoding) if isinstance(token, bytes) else str(token)

    def vocabulary_size(self) -> int:
        """The number of indices, the mask's and OOV ones included."""
        return len(self._tokens) + self._token_start_index()

    def get_vocabulary(self, include_special_tokens: bool = True) -> list[str]:
        """The token of each index (the OOV token for the OOV index); without the mask and OOV tokens when
        include_special_tokens=False."""
        vocab = [self.oov_token] * self._token_start_index() + list(self._tokens)
        if self.mask_token is not None and self.output_mode == "int":
            vocab[0] = self.mask_token
        return vocab if include_special_tokens else vocab[self._token_start_index():]

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Set the vocabulary (a list or 1-D array of tokens, or a text file's path) and, for tf_idf, the
        tokens' weights; Keras's checks and messages."""
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError("`idf_weights` must be set if output_mode is 'tf_idf'.")
        elif idf_weights is not None:
            raise ValueError("`idf_weights` should only be set if output_mode is `'tf_idf'`. Received: "
                             f"output_mode={self.output_mode} and idf_weights={idf_weights}")
        if isinstance(vocabulary, str):
            if not os.path.exists(vocabulary):
                raise ValueError(f"Vocabulary file {vocabulary} does not exist.")
            if self.output_mode == "tf_idf":
                raise ValueError("output_mode `'tf_idf'` does not support loading a vocabulary from file.")
            with open(vocabulary, encoding=self.encoding) as f:
                lines = f.read().splitlines()
            self._set_tokens(lines)  # TensorFlow's text-file table: each line a token, after the special indices
            self._record_vocabulary_size()
            return
        if isinstance(vocabulary, Tensor):
            raise TypeError("StringLookup: a torch tensor holds no strings; pass the vocabulary as a list or a "
                            "NumPy array of str.")
        vocabulary = [self._text(t) for t in np.asarray(vocabulary, dtype=object).reshape(-1)]
        if not vocabulary:
            raise ValueError(f"Cannot set an empty vocabulary. Received: vocabulary={np.array(vocabulary)}")
        token_start = self._token_start_index()
        special = [self.mask_token] * self._oov_start_index() + [self.oov_token] * self.num_oov_indices
        found_special = vocabulary[:token_start] == special
        tokens = vocabulary[token_start:] if found_special else vocabulary
        repeated = [t for t, n in collections.Counter(tokens).items() if n > 1]
        if repeated:
            raise ValueError("The passed vocabulary has at least one repeated term. Please uniquify your dataset. "
                             f"The repeated terms are: {repeated}")
        if self.mask_token is not None and self.mask_token in tokens:
            where = [i for i, t in enumerate(vocabulary) if t == self.mask_token][-1]
            raise ValueError("Found reserved mask token at unexpected location in `vocabulary`. Note that passed "
                             "`vocabulary` does not need to include the OOV and mask tokens. Either remove all mask "
                             "and OOV tokens, or include them only at the start of the vocabulary in precisely this "
                             f"order: {special}. Received: mask_token={self.mask_token} at vocabulary index [{where}]")
        if self.oov_token is not None and self.invert and self.oov_token in tokens:
            where = [i for i, t in enumerate(vocabulary) if t == self.oov_token][-1]
            raise ValueError("Found reserved OOV token at unexpected location in `vocabulary`. Note that passed "
                             "`vocabulary` does not need to include the OOV and mask tokens. Either remove all mask "
                             "and OOV tokens, or include them only at the start of the vocabulary in precisely this "
                             f"order: {special}. Received: oov_token={self.oov_token} at vocabulary index [{where}]")
        size = token_start + len(tokens)
        if self.max_tokens is not None and size > self.max_tokens:
            raise ValueError("Attempted to set a vocabulary larger than the maximum vocab size. Received vocabulary "
                             f"size is {size}; `max_tokens` is {self.max_tokens}.")
        self._set_tokens(tokens)
        self._record_vocabulary_size()
        if self.output_mode == "tf_idf":
            weights = np.asarray(idf_weights, dtype=np.float64)
            if len(vocabulary) != len(weights):
                raise ValueError("`idf_weights` must be the same length as vocabulary. len(idf_weights) is "
                                 f"{len(weights)}; len(vocabulary) is {len(vocabulary)}")
            if weights.ndim != 1:
                raise ValueError("TF-IDF data must be a 1-index array. "
                                 f"Received: type(idf_weights)={type(idf_weights)}")
            # the special tokens have no document frequency: the average weight (Keras's choice)
            front, front_value = (0, 0.0) if found_special else (token_start, float(np.average(weights)))
            self._set_idf(weights, front, front_value)

    def _set_tokens(self, tokens: list[str]) -> None:
        start = self._token_start_index()
        self._tokens = list(tokens)
        self._index = {t: start + i for i, t in enumerate(self._tokens)}

    def _set_idf(self, weights: np.ndarray, front: int, front_value: float) -> None:
        back = self.max_tokens - front - len(weights) if self.pad_to_max_tokens and self.max_tokens else 0
        self._idf_weights = np.pad(weights, (front, back), constant_values=(front_value, 0)).astype(np.float32)

    def _record_vocabulary_size(self) -> None:
        size = self.vocabulary_size()
        if self.output_mode != "int" and not self.pad_to_max_tokens and self._frozen_vocab_size is not None \
                and size != self._frozen_vocab_size:
            raise RuntimeError(f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, the "
                               "vocabulary size cannot be changed after the layer is called. Old vocab size is "
                               f"{self._frozen_vocab_size}, new vocab size is {size}")
        self._frozen_vocab_size = size

    # -- adapt -----------------------------------------------------------------------------------------
    def adapt(self, data, steps: int | None = None) -> None:
        """Learn the vocabulary from `data` (a list or array of tokens, or an iterable of batches, `steps` of
        them at most): by count, ties by the token, both descending; max_tokens keeps the first ones."""
        self._reset_counts()
        if isinstance(data, (list, tuple, np.ndarray, str, bytes)):
            batch = np.asarray(data, dtype=object)
            self.update_state(batch.reshape(-1, 1) if batch.ndim <= 1 else batch)  # 1-D: each token a document
        else:
            for i, batch in enumerate(data):
                if steps is not None and i >= steps:
                    break
                self.update_state(batch)
        self.finalize_state()

    def update_state(self, data) -> None:
        if self._has_input_vocabulary:
            raise ValueError(f"Cannot adapt layer '{self.name}' after setting a static vocabulary via `vocabulary` "
                             "argument or `set_vocabulary()` method.")
        rows = np.asarray(data, dtype=object)
        rows = rows.reshape(1, -1) if rows.ndim <= 1 else rows  # one token, or a 1-D batch: one document
        self._token_counts.update(self._text(t) for t in rows.reshape(-1))
        if self.output_mode == "tf_idf":
            for row in rows:
                self._document_counts.update({self._text(t) for t in np.asarray(row).reshape(-1)})
            self._num_documents += len(rows)

    def finalize_state(self) -> None:
        if self._has_input_vocabulary or not self._token_counts:
            self._record_vocabulary_size()
            return
        for special in (self.mask_token, self.oov_token):
            self._token_counts.pop(special, None)
        tokens = np.array(list(self._token_counts), dtype=object)
        counts = np.array([self._token_counts[t] for t in tokens])
        order = np.lexsort((tokens.astype(str), counts))[::-1]
        if self.max_tokens:
            order = order[:self.max_tokens - self._token_start_index()]
        self._set_tokens([str(t) for t in tokens[order]])
        if self.output_mode == "tf_idf":
            documents = np.array([self._document_counts[t] for t in self._tokens], dtype=np.float64)
            idf = np.log(1 + self._num_documents / (1 + documents))
            self._set_idf(idf, self._token_start_index(), float(np.mean(idf)))
        self._reset_counts()
        self._record_vocabulary_size()

    def _reset_counts(self) -> None:
        self._token_counts.clear()
        self._document_counts.clear()
        self._num_documents = 0

    # -- lookups ---------------------------------------------------------------------------------------
    def __call__(self, inputs, *args, **kwargs):
        if is_symbolic((inputs,), {}):
            raise TypeError(f"StringLookup {self.name!r} runs on data, not in a model: PyTorch tensors hold no "
                            "strings, so there is no Input(dtype='string'). Look the tokens up first "
                            "(ids = lookup(words)) and give the model the indices.")
        return torch.nn.Module.__call__(self, inputs, *args, **kwargs)

    def forward(self, inputs, training: bool | None = None):
        if self.invert:
            return self._tokens_of(inputs)
        tokens = np.asarray(inputs, dtype=object)
        indices = self._indices_of(tokens)
        if self.output_mode == "int":
            return torch.from_numpy(indices)
        return torch.from_numpy(self._encode(indices))

    def _indices_of(self, tokens: np.ndarray) -> np.ndarray:
        oov = self._oov_start_index() if self.num_oov_indices == 1 else -1
        mask_index = 0 if self.output_mode == "int" else _DROPPED
        index, mask = self._index, self.mask_token
        flat = [self._text(t) for t in tokens.reshape(-1)]
        out = np.array([mask_index if mask is not None and t == mask else index.get(t, oov) for t in flat],
                       dtype=np.int64).reshape(tokens.shape)
        if self.num_oov_indices == 0 and (out == -1).any():
            unknown = [t for t, i in zip(flat, out.reshape(-1)) if i == -1]
            raise ValueError(f"When `num_oov_indices=0` all inputs should be in vocabulary, found OOV values "
                             f"{unknown}, consider setting `num_oov_indices=1`.")
        return out

    def _encode(self, indices: np.ndarray) -> np.ndarray:
        """Keras's encode_categorical_inputs: one_hot per token (a last axis of 1 squeezed), multi_hot and
        count over the tokens of each sample (the last axis; a 1-D input is one sample), tf_idf = count x idf."""
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        if depth is None:
            raise RuntimeError(f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, you must "
                               "set the layer's vocabulary before calling it. Either pass a `vocabulary` argument to "
                               "the layer, or call `adapt` with some sample data.")
        if indices.ndim == 0:
            indices = indices[None]
        if self.output_mode == "one_hot" and indices.ndim > 1 and indices.shape[-1] == 1:
            indices = indices[..., 0]
        hot = (indices[..., None] == np.arange(depth)).astype(np.int64)  # the dropped mask matches no index
        if self.output_mode == "one_hot":
            return hot
        axis = 1 if indices.ndim > 1 else 0
        if self.output_mode == "multi_hot":
            return hot.max(axis=axis)
        counts = hot.sum(axis=axis)
        if self.output_mode == "count":
            return counts
        if self._idf_weights is None:
            raise ValueError("When `output_mode` is `'tf_idf'`, `idf_weights` must be provided.")
        return (counts * self._idf_weights[:depth]).astype(np.float32)

    def _tokens_of(self, indices) -> list:
        """invert=True: a list of str (nested as the input), as Keras's torch backend returns."""
        values = indices.detach().cpu().numpy() if isinstance(indices, Tensor) else np.asarray(indices)
        vocab = self.get_vocabulary()
        mask = self.mask_token

        def token(i: int) -> str:
            if mask is not None and i == 0:
                return mask
            return vocab[i] if self._token_start_index() <= i < len(vocab) else self.oov_token

        tokens = np.array([token(int(i)) for i in values.reshape(-1)], dtype=object).reshape(values.shape)
        return tokens.tolist()

    # -- config ----------------------------------------------------------------------------------------
    def get_config(self) -> dict:
        return {**super().get_config(), "invert": self.invert, "max_tokens": self.max_tokens,
                "num_oov_indices": self.num_oov_indices, "oov_token": self.oov_token, "mask_token": self.mask_token,
                "output_mode": self.output_mode, "sparse": self.sparse, "pad_to_max_tokens": self.pad_to_max_tokens,
                "idf_weights": self.input_idf_weights, "vocabulary": self.input_vocabulary,
                "vocabulary_size": self._frozen_vocab_size, "encoding": self.encoding}


def _listed(values):
    """A vocabulary or weights as a plain list for the config (None stays None; a path is not a list)."""
    if values is None or isinstance(values, str):
        return None
    if isinstance(values, Tensor):
        values = values.detach().cpu().numpy()
    return [v.decode() if isinstance(v, bytes) else v for v in np.asarray(values).tolist()]
