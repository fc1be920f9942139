"""What every rnnkit layer shares: a Keras-style name, inference mode by default, a config."""

from __future__ import annotations

import torch
from torch import nn

from .. import checks
from ..cells.penalties import get_regularizer
from ..convert import device_of, is_converted, is_tensors, to_mask, to_tensor, to_tensors
from ..registry import rebuild
from ..symbolic import is_symbolic, record
from ..utils.session import snake_case as _snake_case  # noqa: F401  (explanation.diagram uses it)
from ..utils.session import unique_name  # the counters utils.clear_session resets
from .regularization import collect_losses, track_activity


def normalize_shape(input_shape, batch_input_shape, batch_size=None, where: str = "",
                    names: tuple[str, str, str] = ("input_shape", "batch_input_shape", "batch_size")):
    """Return the full (batch, ...) input shape a layer was declared with, or None; sizes must be
    positive integers or None (`names`: how the caller calls the three arguments, for messages)."""
    if batch_input_shape is not None:
        return checks.shape(names[1], batch_input_shape, where, allow_int=False)
    if input_shape is not None:
        shape = checks.shape(names[0], input_shape, where)
        return (checks.optional_positive_int(names[2], batch_size, where), *shape)
    return None


def waiting_for_shape(module: nn.Module) -> list[str]:
    """Names of the layers in `module` whose weights are made on the first call (input shape unknown)."""
    return [f"{type(m).__name__} {m.name!r}" for m in module.modules()
            if isinstance(m, Layer) and m.awaiting_build()]


def refuse_unbuilt(module: nn.Module, what: str) -> None:
    """Raise when `module` still has layers without weights: an optimizer made now would miss them."""
    waiting = waiting_for_shape(module)
    if waiting:
        listed = (" and ".join(waiting) if len(waiting) <= 2 else
                  ", ".join(waiting[:3]) + f" and {len(waiting) - 3} more")
        raise ValueError(
            f"{what} has no weights yet for {listed}: they are made on the first call, when the input "
            "shape is known, so an optimizer made from .parameters() now would silently miss them "
            "(PyTorch's lazy modules refuse this too). Declare the input shape (Sequential([Input((time_steps, "
            "features)), ...]) or input_shape=(time_steps, features) on the first layer), or call "
            "model.build((batch, time_steps, features)) or the model on one batch first.")


class Layer(nn.Module):
    """Base class: a `torch.nn.Module` with a Keras name and Keras's inference-by-default mode.

    Keras runs a layer called directly in inference mode (dropout off); `fit` switches training on.
    PyTorch modules start in training mode, so rnnkit layers start with ``training = False``.
    """

    supports_masking = False
    takes_ids = False  # integer inputs stay integers (Embedding); other layers get float32

    def __init__(self, name: str | None = None, input_shape=None, batch_input_shape=None,
                 batch_size: int | None = None):
        super().__init__()
        self.training = False
        self.name = name or unique_name(type(self).__name__)
        self.batch_input_shape = normalize_shape(input_shape, batch_input_shape, batch_size, type(self).__name__)

    def __call__(self, *args, **kwargs):
        # Called on symbolic tensors (Input(...) or another layer's output), a layer records a node of
        # a functional graph instead of computing (Keras's functional API).
        if args and type(args[0]) is torch.Tensor and args[0].dtype is torch.float32 and \
                kwargs.get("initial_state") is None and kwargs.get("mask") is None:
            return super().__call__(*args, **kwargs)  # the common case inside a model: nothing to convert
        if is_symbolic(args, kwargs):
            return record(self, args, kwargs)
        data_in = bool(args) and not is_tensors(args[0])  # NumPy, lists, DataFrames: Keras's eager call
        if args and not is_converted(args[0], not self.takes_ids):  # ... and float64, int tensors: the boundary
            args = (to_tensors(args[0], device_of(self), not self.takes_ids), *args[1:])
        mask = kwargs.get("mask")
        if mask is not None and not isinstance(mask, torch.Tensor):
            if args and isinstance(args[0], (list, tuple)) and isinstance(mask, (list, tuple)):
                # a merge layer (Multiply) takes one mask per input tensor, None where an input has none
                kwargs["mask"] = [None if m is None else to_mask(m, device_of(self)) for m in mask]
            else:
                kwargs["mask"] = to_mask(mask, device_of(self))
        state = kwargs.get("initial_state")
        if state is not None and not isinstance(state, torch.Tensor):
            device = device_of(self)  # a stack's states may be nested, one entry per cell
            kwargs["initial_state"] = [[to_tensor(t, device) for t in s] if isinstance(s, (list, tuple)) else
                                       to_tensor(s, device) for s in
                                       (state if isinstance(state, (list, tuple)) else [state])]
        if data_in and not self.training:  # like model(x): no autograd graph, so `layer(x).numpy()` works
            with torch.no_grad():
                return super().__call__(*args, **kwargs)
        return super().__call__(*args, **kwargs)

    def _first_node(self, what: str):
        nodes = self.__dict__.get("_inbound_nodes")
        if not nodes:
            raise ValueError(f"Layer {self.name!r} has never been called on a symbolic tensor (Input(...) or a "
                             f"layer's output), so it has no defined {what}.")
        return nodes[0]

    @property
    def input(self):
        """Keras's `layer.input`: the symbolic input of the layer's first functional call."""
        node = self._first_node("input")
        return node.args[0] if node.args else node.kwargs.get("inputs")

    @property
    def output(self):
        """Keras's `layer.output`: the symbolic output(s) of the layer's first functional call (a list for
        `return_state=True`, as Keras), e.g. `enc_out, h, c = model.layers[2].output`."""
        node = self._first_node("output")
        return list(node.outputs) if node.returns_list else node.outputs[0]

    def awaiting_build(self) -> bool:
        """Whether this layer's own weights wait for the input shape (made on the first call)."""
        return False

    @property
    def activity_regularizer(self):
        """A regularizer of the layer's outputs (Keras's: settable on every layer); its penalty, divided
        by the batch size, joins `losses` after each call."""
        return self.__dict__.get("_activity_regularizer")

    @activity_regularizer.setter
    def activity_regularizer(self, value) -> None:
        regularizer = get_regularizer(value, f"{type(self).__name__} {self.name!r}", "activity_regularizer")
        self.__dict__["_activity_regularizer"] = regularizer
        if regularizer is not None:
            track_activity(self)

    @property
    def losses(self) -> list[torch.Tensor]:
        """Keras's `layer.losses`: the activity penalties of the last call (this layer's, then those of the
        layers inside it), then one penalty per regularized trainable weight, from the weights now."""
        return collect_losses(self)

    def named_parameters(self, *args, **kwargs):
        refuse_unbuilt(self, f"{type(self).__name__} {self.name!r}")
        return super().named_parameters(*args, **kwargs)

    def compute_mask(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor | None:
        """The mask for the next layer: passed through by layers that keep the time axis."""
        return mask if self.supports_masking else None

    def get_config(self) -> dict:
        config = {"name": self.name}
        if self.batch_input_shape is not None:
            config["batch_input_shape"] = list(self.batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        """Keras's `Layer.from_config`: a new layer (new weights) from `get_config()`'s dict, as loading
        rebuilds it (nested layers and cells, activations; custom ones from the registry, a
        `custom_object_scope` or `custom_objects`). `type(layer).from_config(layer.get_config())` clones it."""
        return rebuild(cls, config, custom_objects)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
