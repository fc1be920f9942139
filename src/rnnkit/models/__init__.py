"""Models: Sequential, the functional Model, the seeds' topologies, and loading them from files.

`from keras.models import Model, Sequential, load_model` ports as `from rnnkit.models import ...`.
"""

from .base import BaseModel
from .functional import Model
from .loading import load_keras, load_model
from .sequential import Sequential
from .topologies import Autoencoder, ManyToMany, ManyToOne, OneToMany, Seq2Seq

__all__ = ["Autoencoder", "BaseModel", "ManyToMany", "ManyToOne", "Model", "OneToMany", "Seq2Seq", "Sequential",
           "load_keras", "load_model"]
