"""Keras's optimizers on PyTorch: Keras's names, arguments and defaults, made into torch optimizers that
do Keras 3's arithmetic.

`Adam(...)`, `SGD(...)`, ... return an `OptimizerSpec` (what compile stores and checkpoints keep); the model
builds it into a torch optimizer over its weights on the first batch. The parts:

- keras_classes: the Keras classes and the names compile takes (`get`);
- arguments: Keras's learning rate (float or schedule) and the checks on the arguments every optimizer takes;
- spec: OptimizerSpec and the torch optimizer each kind builds;
- hooks: the learning rate a schedule gives each step, the iteration count, Adam's epsilon-hat, weight decay
  and Keras's attributes (`learning_rate`, `iterations`) on the torch optimizer;
- slots: Keras's moving average of the weights (use_ema) and gradient accumulation;
- keras_variable: what OptimizerMap's selector gets for a weight (its Keras-style path, "sequential/dense/kernel",
  which Muon, OptimizerMap and `exclude_from_weight_decay` match; `rnnkit.training.variable_paths` computes
  the paths from the model);
- serialization: Keras's serialize/deserialize, by the class names the class modules register;
- optimizer_map, multi, wrappers: OptimizerMap, the torch MultiOptimizer, and the wrapper specs
  (LossScaleOptimizer, MultiOptimizer; `revive` makes any spec from a checkpoint's dict);
- validation: the checks on hyper-parameters.

The update rules torch lacks are in `rnnkit.keras_optimizers`, and Muon's and ScheduleFreeAdamW's in
`muon_update` and `schedule_free_update`.
"""

from .. import schedules
from .hooks import KerasAttributes, advance_schedule, keras_flavoured, step_undone, torch_class
from .keras_classes import (_BY_NAME, SGD, Adadelta, Adafactor, Adagrad, Adam, Adamax, AdamW, Ftrl, Lamb, Lion, Muon,
                            Nadam, RMSprop, ScheduleFreeAdamW, get)
from .keras_variable import KerasVariable
from .spec import OptimizerSpec, build, can_fuse, get_learning_rate, set_learning_rate
from .optimizer_map import OptimizerMap
from .serialization import deserialize, serialize
from .wrappers import (LossScaleOptimizer, MultiOptimizer, WrapperSpec, learning_rate_owners, loss_scale_settings,
                       revive, update_parts)

__all__ = ["Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "Ftrl", "KerasAttributes", "KerasVariable",
           "Lamb", "Lion", "LossScaleOptimizer", "MultiOptimizer", "Muon", "Nadam", "OptimizerMap", "OptimizerSpec",
           "RMSprop", "SGD", "ScheduleFreeAdamW", "advance_schedule", "build", "can_fuse", "deserialize", "get",
           "get_learning_rate", "keras_flavoured", "revive", "learning_rate_owners", "loss_scale_settings", "schedules", "serialize",
           "set_learning_rate", "step_undone", "torch_class", "update_parts", "WrapperSpec"]
