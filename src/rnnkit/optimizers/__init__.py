"""Keras's optimizers on PyTorch: Keras's names, arguments and defaults, made into torch optimizers that
do Keras 3's arithmetic.

`Adam(...)`, `SGD(...)`, ... return an `OptimizerSpec` (what compile stores and checkpoints keep); the model
builds it into a torch optimizer over its weights on the first batch. The parts:

- keras_classes: the Keras classes and the names compile takes (`get`);
- arguments: Keras's learning rate (float or schedule) and the checks on the arguments every optimizer takes;
- spec: OptimizerSpec and the torch optimizer each kind builds;
- hooks: the learning rate a schedule gives each step, the iteration count, Adam's epsilon-hat, weight decay
  and Keras's attributes (`learning_rate`, `iterations`) on the torch optimizer;
- slots: Keras's moving average of the weights (use_ema) and gradient accumulation.

The update rules torch lacks are in `rnnkit.keras_optimizers`.
"""

from .. import schedules
from .hooks import KerasAttributes, advance_schedule, keras_flavoured, step_undone, torch_class
from .keras_classes import (_BY_NAME, SGD, Adadelta, Adafactor, Adagrad, Adam, Adamax, AdamW, Ftrl, Lamb, Lion, Nadam,
                            RMSprop, deserialize, get, serialize)
from .spec import OptimizerSpec, build, can_fuse, get_learning_rate, set_learning_rate

__all__ = ["Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "Ftrl", "KerasAttributes", "Lamb", "Lion",
           "Nadam", "OptimizerSpec", "RMSprop", "SGD", "advance_schedule", "build", "can_fuse", "deserialize", "get",
           "get_learning_rate", "keras_flavoured", "schedules", "serialize", "set_learning_rate", "step_undone",
           "torch_class"]
