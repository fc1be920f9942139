"""Models: Sequential, the functional Model, the seeds' topologies, loading and saving them, and Keras's
`clone_model`, `model_from_json` and `save_model`.

`from keras.models import Model, Sequential, load_model` ports as `from rnnkit.models import ...`.
"""

from .base import BaseModel
from .cloning import clone_model
from .functional import Model
from .loading import load_keras, load_model, model_from_json, save_model
from .sequential import Sequential
from .topologies import Autoencoder, ManyToMany, ManyToOne, OneToMany, Seq2Seq

__all__ = ["Autoencoder", "BaseModel", "ManyToMany", "ManyToOne", "Model", "OneToMany", "Seq2Seq", "Sequential",
           "clone_model", "load_keras", "load_model", "model_from_json", "save_model"]
