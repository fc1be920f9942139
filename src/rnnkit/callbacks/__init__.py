"""Keras 3's callbacks for `fit` (keras/src/callbacks/*.py), with its semantics: History (always on, called
after the user's callbacks so it records what they log), EarlyStopping, ModelCheckpoint,
ReduceLROnPlateau, LearningRateScheduler, CSVLogger, TerminateOnNaN, LambdaCallback, TensorBoard; and
rnnkit's ResetStates.
"""

from .core import (CSVLogger, Callback, EarlyStopping, History, LambdaCallback, LearningRateScheduler, ModelCheckpoint,
                   MonitorCallback, ReduceLROnPlateau, ResetStates, TerminateOnNaN)
from .tensorboard import TensorBoard

__all__ = ["CSVLogger", "Callback", "EarlyStopping", "History", "LambdaCallback", "LearningRateScheduler",
           "ModelCheckpoint", "MonitorCallback", "ReduceLROnPlateau", "ResetStates", "TensorBoard", "TerminateOnNaN"]
