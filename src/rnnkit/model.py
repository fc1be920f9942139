"""Models with Keras's training API: `Sequential`, and the shared compile/fit/predict/state machinery."""

from __future__ import annotations

import contextlib
from typing import Iterable

import numpy as np
import torch
from torch import nn

from . import losses, optimizers, training
from .callbacks import Callback, History
from .layers.base import Layer, unique_name
from .layers.core import Input
from .layers.recurrent import RNN, as_tensor
from .layers.symbolic import is_symbolic, record
from .layers.wrappers import call_layer

Tensor = torch.Tensor


def _to_numpy(out):
    if isinstance(out, (list, tuple)):
        return [_to_numpy(o) for o in out]
    return out.detach().cpu().numpy()


def _concat(chunks: list):
    if isinstance(chunks[0], list):
        return [np.concatenate([c[k] for c in chunks]) for k in range(len(chunks[0]))]
    return np.concatenate(chunks)


class BaseModel(nn.Module):
    """compile / fit / predict / evaluate / states, shared by every rnnkit model."""

    def __init__(self, name: str | None = None):
        super().__init__()
        self.training = False
        self.name = name or unique_name(type(self).__name__)
        self.loss_fn = None
        self.loss_name: str | None = None
        self.metric_fns: list = []
        self.optimizer: torch.optim.Optimizer | None = None
        self._optimizer_spec = None
        self.stop_training = False
        self.jit_compile = False
        self._compiled = None  # the CompiledStep, made on the first batch of fit

    def __call__(self, *args, **kwargs):
        if is_symbolic(args, kwargs):  # a model used as a layer of a functional graph: encoder(inputs)
            return record(self, args, kwargs)
        # Like Keras's model(x): called on NumPy data outside training, run inference without building
        # an autograd graph, so `model(x).numpy()` works as the seeds write it. Tensors keep autograd.
        if args and isinstance(args[0], np.ndarray) and not self.training:
            with torch.no_grad():
                return super().__call__(*args, **kwargs)
        return super().__call__(*args, **kwargs)

    # -- states -----------------------------------------------------------------------------------
    def recurrent_layers(self) -> list[RNN]:
        return [m for m in self.modules() if isinstance(m, RNN)]

    @property
    def stateful(self) -> bool:
        return any(layer.stateful for layer in self.recurrent_layers())

    def reset_states(self) -> None:
        """Zero the states of every stateful layer: the next batch starts new sequences."""
        for layer in self.recurrent_layers():
            if layer.stateful:
                layer.reset_states()

    def get_states(self) -> dict[str, list[Tensor] | None]:
        """{layer name: [h, c] or [h]} for every stateful layer (None where nothing is kept yet)."""
        return {layer.name: layer.states for layer in self.recurrent_layers() if layer.stateful}

    def set_states(self, states: dict) -> None:
        layers = {layer.name: layer for layer in self.recurrent_layers() if layer.stateful}
        unknown = set(states) - set(layers)
        if unknown:
            raise ValueError(f"set_states: no stateful layer named {sorted(unknown)}; stateful layers: {sorted(layers)}.")
        for name, value in states.items():
            layers[name].reset_states(value)

    def select_states(self, rows) -> "BaseModel":
        """Keep only some rows of the kept states (predict only stocks 3 and 7: `select_states([3, 7])`).

        Row k of the next batch then continues row rows[k] of the earlier batches.
        """
        index = torch.as_tensor(np.asarray(rows)).reshape(-1)
        if index.dtype == torch.bool:
            index = index.nonzero().reshape(-1)
        if index.numel() == 0 or index.is_floating_point():
            raise ValueError(f"select_states takes row numbers (or a boolean mask), received {rows!r}.")
        layers = [layer for layer in self.recurrent_layers() if layer.stateful]
        kept = [layer for layer in layers if layer.states is not None]
        if not kept:
            raise ValueError("select_states: no states are kept yet (the model is fresh or was reset); "
                             "predict or fit first, or use resize_states(batch_size) for fresh states.")
        batch = kept[0].states[0].shape[0]
        if int(index.max()) >= batch or int(index.min()) < -batch:
            raise ValueError(f"select_states: rows {index.tolist()} are out of range for states kept for "
                             f"{batch} rows (valid: 0..{batch - 1}).")
        for layer in kept:
            layer.reset_states([s[index] for s in layer.states])
        self._set_fixed_batch_size(len(index))
        return self

    def resize_states(self, batch_size: int) -> "BaseModel":
        """Start fresh (zero) states for batches of `batch_size` rows, keeping the weights.

        What Keras users do by building a second model with another batch size and copying the weights
        (e.g. train with batch 32, then forecast one series step by step with batch 1).
        """
        if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"resize_states needs a positive batch size, received {batch_size!r}.")
        for layer in self.recurrent_layers():
            if layer.stateful:
                zeros = layer.cell.get_initial_state(int(batch_size), torch.float32,
                                                     next(layer.parameters()).device)
                layer.reset_states(zeros)
        self._set_fixed_batch_size(int(batch_size))
        return self

    def _set_fixed_batch_size(self, batch_size: int) -> None:
        """Models declared with a fixed batch (batch_input_shape) follow select/resize_states."""

    # -- files ----------------------------------------------------------------------------------------
    def save(self, path, scaler=None, include_optimizer: bool = True) -> None:
        """One file with config, weights, kept states, scaler and optimizer state (see rnnkit.persist)."""
        from . import persist
        persist.save(self, path, scaler=scaler, include_optimizer=include_optimizer)

    def save_weights(self, path) -> None:
        from . import persist
        persist.save(self, path, include_optimizer=False)

    def load_weights(self, path) -> None:
        """Copy weights from an rnnkit file; if they do not fit, raise and change nothing."""
        from . import persist
        persist.load_weights(self, path)

    @contextlib.contextmanager
    def preserve_states(self):
        """Run code that must not advance the kept states (a peek): they are restored on exit."""
        saved = {layer: layer._kept for layer in self.recurrent_layers()}
        try:
            yield self
        finally:
            for layer, kept in saved.items():
                layer._kept = kept

    # -- compile --------------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics: Iterable | None = None,
                jit_compile: bool | str = False) -> None:
        """Choose the optimizer (Keras name, rnnkit.optimizers spec or torch optimizer), loss and metrics.

        `jit_compile=True` makes `fit` run forward, loss and backward as one graph compiled by
        torch.compile: several times faster per batch for small models and short sequences, after a
        cold start of seconds per batch shape (see `rnnkit.compiled_step`). Keras's default "auto"
        means False here, because the cold start only pays back over long fits."""
        if loss is None:
            raise ValueError(f"compile needs a loss, e.g. loss='mse'. Known names: {sorted(losses.LOSSES)}.")
        if jit_compile not in (True, False, "auto"):
            raise ValueError(f"jit_compile must be True, False or 'auto', received {jit_compile!r}.")
        self.jit_compile = jit_compile is True
        self._compiled = None
        self._optimizer_spec = optimizers.get(optimizer)
        self.optimizer = self._optimizer_spec if isinstance(self._optimizer_spec, torch.optim.Optimizer) else None
        self.loss_fn, self.loss_name = losses.get(loss)
        self.metric_fns = [losses.get_metric(m, self.loss_name) for m in (metrics or [])]

    def _ensure_optimizer(self) -> torch.optim.Optimizer:
        if self.loss_fn is None:
            raise RuntimeError("The model is not compiled: call model.compile(optimizer='adam', loss='mse') first.")
        if self.optimizer is None:
            self.optimizer = optimizers.build(self._optimizer_spec, [p for p in self.parameters() if p.requires_grad])
        return self.optimizer

    def _compiled_step(self):
        """The compiled train step (`jit_compile=True`), made on the first batch; None when eager."""
        if not self.jit_compile:
            return None
        if self._compiled is None:
            from .compiled_step import CompiledStep
            self._compiled = CompiledStep(self)
        return self._compiled

    def _targets(self, y, out) -> Tensor:
        if self.loss_fn is None:
            raise RuntimeError("The model is not compiled: call model.compile(optimizer='adam', loss='mse') first.")
        if isinstance(out, (list, tuple)):
            raise ValueError(f"{self.name} has {len(out)} outputs, and training a model with several outputs "
                             "is not supported yet. Train a model with one output (e.g. concatenate the "
                             "outputs into one), or train each output's model separately.")
        integer_targets = self.loss_name == "sparse_categorical_crossentropy"
        y = as_tensor(y, dtype=None if integer_targets else torch.float32).to(out.device)
        if integer_targets and y.is_floating_point():
            y = y.long()
        if self.loss_name in losses.LOSSES:  # built-in losses: refuse shapes that would broadcast
            if y.dim() == 1 and out.dim() == 2 and out.shape[1] == 1:
                y = y[:, None]  # Keras accepts (N,) targets for (N, 1) outputs
            losses.check_targets(self.loss_name, tuple(y.shape), tuple(out.shape), None)
        return y

    # -- batches ------------------------------------------------------------------------------------
    def _train_step(self, xb, yb) -> dict[str, float]:
        return training.train_step(self, xb, yb)

    def _training_forward(self, xb, yb):
        """The forward pass used for training; models that need the targets (teacher forcing) override it."""
        return self(xb, training=True)

    def generate(self, x, steps: int, **kwargs) -> np.ndarray:
        """Prime on x and generate `steps` new steps (see `rnnkit.generate`)."""
        from .generate import generate
        return generate(self, x, steps, **kwargs)

    def _evaluate_batch(self, xb, yb) -> dict[str, float]:
        self.eval()
        with torch.no_grad():
            out = self(xb if not isinstance(xb, np.ndarray) else as_tensor(xb), training=False)
            yb = self._targets(yb, out)
            values = {"loss": float(self.loss_fn(yb, out))}
            for fn, name in self.metric_fns:
                values[name] = float(fn(yb, out))
        return values

    def _evaluate_arrays(self, x, y, batch_size: int) -> dict[str, float]:
        totals, n = {}, training.num_samples(x)
        for index in training.batch_indices(n, batch_size, False, np.random.default_rng()):
            values = self._evaluate_batch(training.take(x, index), training.take(y, index))
            for k, v in values.items():
                totals[k] = totals.get(k, 0.0) + v * len(index)
        return {k: v / n for k, v in totals.items()}

    def _fixed_batch_size(self) -> int | None:
        return None

    def _batch_size(self, batch_size: int | None, n: int | None, what: str) -> int:
        if batch_size is None:
            kept = [layer.states[0].shape[0] for layer in self.recurrent_layers()
                    if layer.stateful and layer.states is not None]
            batch_size = self._fixed_batch_size() or (kept[0] if kept else 32)
        if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, received {batch_size!r}.")
        if self.stateful and n is not None and n % batch_size:
            raise ValueError(
                f"{what}: this model is stateful, so row i of each batch continues row i of the previous "
                f"batch; {n} samples do not split into batches of {batch_size} (remainder {n % batch_size}). "
                f"Use a batch_size that divides {n}, or trim the data to {n - n % batch_size} samples.")
        return int(batch_size)

    # -- Keras API ------------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size: int | None = None, epochs: int = 1, verbose: int = 1,
            callbacks: list[Callback] | None = None, validation_split: float = 0.0, validation_data=None,
            shuffle: bool = True, initial_epoch: int = 0, steps_per_epoch: int | None = None,
            validation_steps: int | None = None, nb_epoch: int | None = None, seed: int | None = None) -> History:
        """Train for `epochs` passes over (x, y) (or `steps_per_epoch` batches of a generator).

        A stateful model carries its states from batch to batch (row i continues row i), so it needs
        `shuffle=False` and a sample count that `batch_size` divides.
        """
        epochs = nb_epoch if nb_epoch is not None else epochs  # Keras 1 spelling (seed 000)
        if training.is_iterator(x):
            if not steps_per_epoch:
                raise ValueError("x is a generator: pass steps_per_epoch (batches per epoch).")
            return training.fit(self, x, None, batch_size or 0, epochs, verbose, list(callbacks or []),
                                validation_data, False, initial_epoch, steps_per_epoch, validation_steps, seed)
        if x is None or y is None:
            raise ValueError("fit needs x and y (or a generator of (x, y) batches as x).")
        n = training.num_samples(x)
        if n != training.num_samples(y):
            raise ValueError(f"x has {n} samples but y has {training.num_samples(y)}; they must match.")
        training.check_finite(x, "x")
        training.check_finite(y, "y")
        if validation_split and validation_data is None:
            x, y, validation_data = training.split_validation(x, y, validation_split)
            n = training.num_samples(x)
        if self.stateful and shuffle:
            raise ValueError(
                "fit: this model is stateful (row i of each batch continues row i of the previous batch), "
                "so shuffling would feed it pieces of unrelated sequences. Pass shuffle=False.")
        batch_size = self._batch_size(batch_size, n, "fit")
        if validation_data is not None and not training.is_iterator(validation_data):
            training.check_finite(validation_data[0], "validation x")
        return training.fit(self, x, y, batch_size, epochs, verbose, list(callbacks or []), validation_data,
                            shuffle, initial_epoch, None, validation_steps, seed)

    fit_generator = fit  # Keras 2 spelling (seed 002)

    def predict(self, x, batch_size: int | None = None, verbose: int = 0, steps: int | None = None):
        """Outputs for `x` as NumPy, batch by batch in order (a stateful model carries its states)."""
        if training.is_iterator(x):
            if not steps:
                raise ValueError("x is a generator: pass steps (batches to predict).")
            chunks = [self.predict_on_batch(next(x)) for _ in range(steps)]
            return _concat(chunks)
        n = training.num_samples(x)
        batch_size = self._batch_size(batch_size, n, "predict")
        chunks = [self.predict_on_batch(training.take(x, idx))
                  for idx in training.batch_indices(n, batch_size, False, np.random.default_rng())]
        return _concat(chunks)

    def predict_on_batch(self, x):
        self.eval()
        with torch.no_grad():
            return _to_numpy(self(x if not isinstance(x, np.ndarray) else as_tensor(x), training=False))

    def evaluate(self, x, y=None, batch_size: int | None = None, verbose: int = 0, steps: int | None = None):
        """The loss (and metrics, as a list [loss, *metrics]) on (x, y)."""
        if training.is_iterator(x):
            values = training._validate(self, x, 0, steps)
            values = {k[4:]: v for k, v in values.items()}
        else:
            training.check_finite(x, "x")
            n = training.num_samples(x)
            values = self._evaluate_arrays(x, y, self._batch_size(batch_size, n, "evaluate"))
        return values["loss"] if len(values) == 1 else list(values.values())

    def train_on_batch(self, x, y):
        """One optimisation step on one batch; returns the loss (or [loss, *metrics])."""
        training.check_finite(x, "x")
        values = self._train_step(x, y)
        self.eval()
        return values["loss"] if len(values) == 1 else list(values.values())

    def test_on_batch(self, x, y):
        values = self._evaluate_batch(x, y)
        return values["loss"] if len(values) == 1 else list(values.values())

    @property
    def layers(self) -> list[nn.Module]:
        """The model's layers (its direct sub-modules unless a subclass says otherwise)."""
        return list(self.children())

    def get_layer(self, name: str) -> nn.Module:
        for layer in self.layers:
            if getattr(layer, "name", None) == name:
                return layer
        raise ValueError(f"No layer named {name!r}; layers: {[getattr(l, 'name', '?') for l in self.layers]}.")

    def count_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


class Sequential(BaseModel):
    """A stack of layers, each feeding the next (Keras's `Sequential`).

    >>> from rnnkit.layers import Input, LSTM, Dense
    >>> model = Sequential([Input((3, 1)), LSTM(4), Dense(1)])
    >>> model.count_params()  # 4 * (4 * (1 + 4) + 4) + (4 + 1)
    101
    >>> model.predict(np.zeros((2, 3, 1))).shape
    (2, 1)
    """

    def __init__(self, layers: Iterable[nn.Module] | None = None, name: str | None = None):
        super().__init__(name)
        self._layers = nn.ModuleList()
        self.input_spec: Input | None = None
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self) -> list[nn.Module]:
        return list(self._layers)

    def add(self, layer) -> None:
        if isinstance(layer, Input):
            if len(self._layers):
                raise ValueError("Input must come first in a Sequential model.")
            self.input_spec = layer
            return
        if not isinstance(layer, nn.Module):
            raise TypeError(f"Sequential takes layers (torch.nn.Module), received {type(layer).__name__}.")
        if len(self._layers) and isinstance(self._layers[-1], RNN) and self._layers[-1].return_state:
            raise ValueError(f"{self._layers[-1].name!r} has return_state=True, so it returns a list "
                             "[output, *states] that the next layer cannot take. Use the functional API.")
        if not len(self._layers) and self.input_spec is None and getattr(layer, "batch_input_shape", None):
            self.input_spec = Input(batch_shape=layer.batch_input_shape)
        self._layers.append(layer)
        if self.input_spec is not None and self.input_spec.batch_shape[-1] is not None:
            self.build()

    def get_config(self) -> dict:
        from .layers.serialize import serialize
        spec = self.input_spec
        return {"name": self.name, "input": None if spec is None else list(spec.batch_shape),
                "layers": [serialize(layer) for layer in self._layers]}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Sequential":
        from .layers.serialize import deserialize
        first = [Input(batch_shape=config["input"])] if config.get("input") else []
        return cls(first + [deserialize(spec, custom_objects) for spec in config["layers"]], name=config.get("name"))

    def _set_fixed_batch_size(self, batch_size: int) -> None:
        if self.input_spec is not None and self.input_spec.batch_shape[0] is not None:
            self.input_spec = Input(batch_shape=(batch_size, *self.input_spec.batch_shape[1:]))

    def _fixed_batch_size(self) -> int | None:
        return self.input_spec.batch_shape[0] if self.input_spec is not None else None

    def forward(self, x, training: bool | None = None, mask=None, carry: dict | None = None):
        mask = None if mask is None else as_tensor(mask, dtype=None).bool()
        for layer in self._layers:
            if carry is not None and isinstance(layer, RNN):
                out = layer(x, mask=mask, training=training, carry=carry)
            else:
                out = call_layer(layer, x, training, mask)
            mask = layer.compute_mask(x, mask) if isinstance(layer, Layer) else None
            x = out
        return x

    def _dummy_input(self, time_steps: int = 1) -> Tensor:
        shape = [d if d is not None else time_steps for d in self.input_spec.batch_shape[1:]]
        return torch.zeros(1, *shape)

    def build(self, input_shape=None) -> None:
        """Create every lazily-sized weight by a dry run, without touching kept states."""
        if input_shape is not None:
            self.input_spec = Input(input_shape[1:], batch_size=input_shape[0])
        if self.input_spec is None:
            raise ValueError("Cannot build: no input shape. Start the model with Input((time_steps, features)).")
        with torch.no_grad(), self.preserve_states():
            self(self._dummy_input())

    def summary(self, print_fn=print) -> None:
        """Print each layer's output shape and parameter count, as Keras does."""
        from .summary import sequential_summary
        print_fn(sequential_summary(self))
