"""The data boundary of the training API: what a model's inputs and outputs are called, where data goes,
and x, y and sample_weight as the steps take them (one entry per output for a model with several).

Models override the questions (`input_count`, `input_names`, `output_names_for_compile`,
`inputs_are_ids`); the steps and the loops only ask them.
"""

from __future__ import annotations

import torch

from .. import convert


class DataBoundary:
    """The names, device and conversions of a model's data; Steps inherits it."""

    def input_count(self) -> int:
        return 1

    def input_names(self) -> list[str] | None:
        return None

    def output_names_for_compile(self) -> list[str] | None:
        """The names of the model's outputs when it returns a list of them (a loss per output), else None."""
        return None

    def inputs_are_ids(self) -> list[bool]:
        """Per input: whether integer data stays integer (ids for an Embedding) rather than float32."""
        return [False] * self.input_count()

    def data_device(self) -> torch.device:
        """Where data goes: the device of the model's weights (looked up once; `.to()` forgets it)."""
        device = self.__dict__.get("_data_device")
        if device is None:
            device = convert.device_of(self)
            if convert.has_weights(self):  # lazily sized weights: ask again later
                self.__dict__["_data_device"] = device
        return device

    def _apply(self, fn, *args, **kwargs):
        self.__dict__.pop("_data_device", None)  # .to(), .cuda(), .half() move the weights
        return super()._apply(fn, *args, **kwargs)

    def convert_x(self, x):
        """x as the model takes it: tensor(s) on the model's device; a dict by input name as a list."""
        names = self.input_names()
        if isinstance(x, dict) and names is not None:
            missing = [name for name in names if name not in x]
            if missing:
                raise ValueError(f"x is a dict, so it must name every input of the model {names}; missing "
                                 f"{missing} (received keys {list(x)}).")
            x = [x[name] for name in names]
        return convert.model_inputs(x, self.input_count(), self.data_device(),
                                    [not ids for ids in self.inputs_are_ids()], names)

    def convert_y(self, y):
        if self._output_losses is None:
            integer_targets = self.loss_name == "sparse_categorical_crossentropy"
            return convert.to_tensors(y, self.data_device(), integers_as_float=not integer_targets)
        return [None if t is None else convert.to_tensor(t, self.data_device(), integers_as_float=not sparse)
                for t, sparse in zip(self._per_output(y, "y"), self._sparse_outputs())]

    def _sparse_outputs(self) -> list[bool]:
        sparse = [False] * len(self.output_names_for_compile())
        for entry in self._output_losses:
            sparse[entry.index] = entry.name == "sparse_categorical_crossentropy"
        return sparse

    def _per_output(self, value, what: str) -> list:
        """y (or sample_weight) of a model with a list of outputs as one entry per output: a list with one
        per output, or one per output with a loss, or a dict by output name; a lone array serves the only
        output with a loss (a lone sample_weight: every output)."""
        names = self.output_names_for_compile()
        with_loss = [entry.index for entry in self._output_losses]
        if isinstance(value, dict):
            unknown = set(value) - set(names)
            if unknown:
                raise ValueError(f"{what} is a dict, so its keys must be output names {names}; received unknown "
                                 f"keys {sorted(unknown)}.")
            return [value.get(name) for name in names]
        if isinstance(value, (list, tuple)) and len(value) and (value[0] is None or hasattr(value[0], "shape")):
            if len(value) == len(names):
                return list(value)
            if len(value) == len(with_loss):
                out = [None] * len(names)
                for i, v in zip(with_loss, value):
                    out[i] = v
                return out
            raise ValueError(f"{what} must have one entry per output: the model has {len(names)} outputs {names} "
                             f"({len(with_loss)} with a loss), received a list of {len(value)}. Pass a list in the "
                             "outputs' order or a dict {output name: array}.")
        if what == "sample_weight":
            return [value] * len(names)
        if len(with_loss) == 1:
            out = [None] * len(names)
            out[with_loss[0]] = value
            return out
        raise ValueError(f"The model has {len(names)} outputs {names}, so {what} must be a list with one array per "
                         "output or a dict {output name: array}; received one array.")
