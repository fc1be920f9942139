"""Training: the Trainer (compile, fit, evaluate, predict and the steps they run), the fit loop and the
compiled train step."""

from .trainer import Trainer

__all__ = ["Trainer"]
