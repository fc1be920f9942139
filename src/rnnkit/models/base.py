"""What every rnnkit model shares: Keras's training API (Trainer), the states of its stateful layers
(one StateStore for the whole model), files, layers."""

from __future__ import annotations

import json

import numpy as np
import torch
from torch import nn

from .. import mixed_precision
from ..convert import is_converted, is_tensors, to_mask, to_tensor
from ..io import keras_files
from ..layers.base import refuse_unbuilt, unique_name
from ..layers.rnn import RNN
from ..state import StateStore, preserved, share_store
from ..symbolic import is_symbolic, record
from ..training.trainer import Trainer
from ..utils.serialization import serialize_keras_object

Tensor = torch.Tensor


class BaseModel(Trainer, nn.Module):
    """compile / fit / predict / evaluate (from Trainer), states, files and layers of every rnnkit model."""

    def __init__(self, name: str | None = None, dtype: str | mixed_precision.Policy | None = None):
        nn.Module.__init__(self)
        self.training = False
        self.name = name or unique_name(type(self).__name__)
        self._dtype_policy = mixed_precision.get(dtype)  # fixed now, as Keras fixes a layer's
        self._init_trainer()
        self.state_store = StateStore()  # shared with every layer inside (adopt_states)

    @property
    def dtype_policy(self) -> mixed_precision.Policy:
        """The model's mixed-precision policy (`rnnkit.mixed_precision`): the `dtype=` it was built with,
        else the global policy when it was built. Settable: `model.dtype_policy = "mixed_bfloat16"`."""
        return self._dtype_policy

    @dtype_policy.setter
    def dtype_policy(self, policy: str | mixed_precision.Policy) -> None:
        self._dtype_policy = mixed_precision.get(policy)
        self._train_function = None  # a compiled step traced under the old policy is dropped

    def __call__(self, *args, **kwargs):
        policy = self._dtype_policy
        if not policy.mixed or is_symbolic(args, kwargs):
            return self._call(*args, **kwargs)
        # float16/bfloat16 arithmetic inside, float32 outside: outputs (so losses and predictions) and
        # kept states are float32, as the weights are
        with mixed_precision.autocast(policy, self.data_device()):
            out = self._call(*args, **kwargs)
        if kwargs.get("state_store") is None and not torch.compiler.is_compiling():
            for layer in self._stateful_layers():  # a given store is its owner's to cast (the compiled step)
                kept = layer.states
                if kept is not None and mixed_precision.has_low_precision(kept):
                    layer.reset_states([s.float() for s in kept])
        return mixed_precision.full_precision(out)

    def _call(self, *args, **kwargs):
        if args and type(args[0]) is Tensor and args[0].dtype is torch.float32 and kwargs.get("mask") is None:
            return super().__call__(*args, **kwargs)  # already what the layers take
        if is_symbolic(args, kwargs):  # a model used as a layer of a functional graph: encoder(inputs)
            return record(self, args, kwargs)
        if args and not is_converted(args[0], [not ids for ids in self.inputs_are_ids()]):
            # Like Keras's model(x): data that is not tensors crosses the data boundary, and outside
            # training runs without building an autograd graph, so `model(x).numpy()` works. Tensors
            # (float64 or integer ones too) are cast and keep their graph.
            data_in = not is_tensors(args[0])
            args = (self.convert_x(args[0]), *args[1:])
            if kwargs.get("mask") is not None:
                kwargs["mask"] = to_mask(kwargs["mask"], self.data_device())
            if data_in and not self.training:
                with torch.no_grad():
                    return super().__call__(*args, **kwargs)
        return super().__call__(*args, **kwargs)

    def named_parameters(self, *args, **kwargs):
        refuse_unbuilt(self, f"Model {self.name!r}")
        return super().named_parameters(*args, **kwargs)

    # -- states -----------------------------------------------------------------------------------
    def adopt_states(self) -> None:
        """Make every layer inside keep its states in this model's store (called when layers join)."""
        share_store(self)

    def recurrent_layers(self) -> list[RNN]:
        return [m for m in self.modules() if isinstance(m, RNN)]

    def _stateful_layers(self) -> list[RNN]:
        return [m for m in self.recurrent_layers() if m.stateful]

    @property
    def stateful(self) -> bool:
        return bool(self._stateful_layers())

    def reset_states(self) -> None:
        """Zero the states of every stateful layer: the next batch starts new sequences."""
        for layer in self._stateful_layers():
            layer.reset_states()

    def get_states(self) -> dict[str, list[Tensor] | None]:
        """{layer name: [h, c] or [h]} for every stateful layer (None where nothing is kept yet)."""
        return {layer.name: layer.states for layer in self._stateful_layers()}

    def set_states(self, states) -> None:
        """Set kept states from {layer name: [h, c] or [h]} -- `get_states()`, or a Stream's `states`."""
        layers = {layer.name: layer for layer in self._stateful_layers()}
        unknown = set(states) - set(layers)
        if unknown:
            raise ValueError(f"set_states: no stateful layer named {sorted(unknown)}; stateful layers: {sorted(layers)}.")
        for name, value in states.items():
            layers[name].reset_states(value)

    def preserve_states(self):
        """Run code that must not advance the kept states (a peek): they are restored on exit."""
        return preserved(self)

    def select_states(self, rows) -> "BaseModel":
        """Keep only some rows of the kept states (predict only stocks 3 and 7: `select_states([3, 7])`).

        Row k of the next batch then continues row rows[k] of the earlier batches.
        """
        index = to_tensor(np.asarray(rows)) if not isinstance(rows, Tensor) else rows
        index = index.reshape(-1)
        if isinstance(rows, Tensor) and rows.dtype == torch.bool or np.asarray(rows).dtype == bool:
            index = index.bool().nonzero().reshape(-1)
        if index.numel() == 0 or (index.is_floating_point() and not bool((index == index.round()).all())):
            raise ValueError(f"select_states takes row numbers (or a boolean mask), received {rows!r}.")
        index = index.long()
        kept = [layer for layer in self._stateful_layers() if layer.states is not None]
        if not kept:
            raise ValueError("select_states: no states are kept yet (the model is fresh or was reset); "
                             "predict or fit first, or use resize_states(batch_size) for fresh states.")
        batch = kept[0].states[0].shape[0]
        if int(index.max()) >= batch or int(index.min()) < -batch:
            raise ValueError(f"select_states: rows {index.tolist()} are out of range for states kept for "
                             f"{batch} rows (valid: 0..{batch - 1}).")
        for layer in kept:
            layer.reset_states([s[index.to(s.device)] for s in layer.states])
        self._set_fixed_batch_size(len(index))
        return self

    def resize_states(self, batch_size: int) -> "BaseModel":
        """Start fresh (zero) states for batches of `batch_size` rows, keeping the weights.

        What Keras users do by building a second model with another batch size and copying the weights
        (e.g. train with batch 32, then forecast one series step by step with batch 1).
        """
        if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"resize_states needs a positive batch size, received {batch_size!r}.")
        for layer in self._stateful_layers():
            layer.reset_states(layer.get_initial_state(int(batch_size)))
        self._set_fixed_batch_size(int(batch_size))
        return self

    def _set_fixed_batch_size(self, batch_size: int) -> None:
        """Models declared with a fixed batch (batch_input_shape) follow select/resize_states."""

    # -- files ----------------------------------------------------------------------------------------
    def save(self, path, scaler=None, include_optimizer: bool = True) -> None:
        """One file with config, weights, kept states, scaler and optimizer state. Under Keras's names
        (`.keras`, `.h5`) it is Keras's own format, which Keras 3 opens, carrying rnnkit's file inside so
        that `rnnkit.load` / `load_model` restore kept states and optimizer too (io/keras_files.py)."""
        keras_files.save_model(self, path, scaler=scaler, include_optimizer=include_optimizer)

    def to_json(self, **kwargs) -> str:
        """Keras's `to_json`: the architecture (no weights) as JSON, `serialize_keras_object(model)`;
        `rnnkit.models.model_from_json` rebuilds the model from it. `kwargs` go to `json.dumps`."""
        return json.dumps(serialize_keras_object(self), **kwargs)

    def save_weights(self, path) -> None:
        """The weights: Keras 3's weights file for `*.weights.h5`, Keras's legacy one for `*.h5`,
        rnnkit's format otherwise."""
        keras_files.save_weights(self, path)

    def load_weights(self, path) -> None:
        """Copy weights from an rnnkit file or a Keras weights/model file; if they do not fit, raise and
        change nothing."""
        keras_files.load_weights(self, path)

    # -- layers ---------------------------------------------------------------------------------------
    @property
    def layers(self) -> list[nn.Module]:
        """The model's layers (its direct sub-modules unless a subclass says otherwise)."""
        return list(self.children())

    def get_layer(self, name: str) -> nn.Module:
        for layer in self.layers:
            if getattr(layer, "name", None) == name:
                return layer
        raise ValueError(f"No layer named {name!r}; layers: {[getattr(l, 'name', '?') for l in self.layers]}.")

    def get_weights(self) -> list[np.ndarray]:
        """Every weight as a NumPy array, layer by layer (Keras's `get_weights`): the parameters and the
        non-trainable weights (BatchNormalization's moving statistics); kept states are not weights."""
        return [t.detach().cpu().numpy().copy() for t in self.state_dict().values()]

    def set_weights(self, weights) -> None:
        """Set every weight from a list in `get_weights()`'s order; a wrong count or shape changes nothing."""
        own = self.state_dict()
        weights = list(weights)
        if len(weights) != len(own):
            raise ValueError(f"set_weights: {self.name!r} has {len(own)} weights, received a list of {len(weights)}. "
                             "Pass the list get_weights() returns (of a model of the same architecture).")
        for (name, current), value in zip(own.items(), weights):
            if tuple(np.shape(value)) != tuple(current.shape):
                raise ValueError(f"set_weights: weight {name!r} has shape {tuple(current.shape)}, received an array "
                                 f"of shape {tuple(np.shape(value))}. Pass the weights in get_weights()'s order.")
        with torch.no_grad():
            for current, value in zip(own.values(), weights):
                current.copy_(torch.as_tensor(np.asarray(value), dtype=current.dtype))

    def count_params(self) -> int:
        return sum(p.numel() for p in self.parameters())
