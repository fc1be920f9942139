"""Run a ported keras-io script under Keras 3 instead of rnnkit, for comparison: the rnnkit imports are
turned back into Keras's (`import rnnkit as keras` -> `import keras`, `from rnnkit import X` ->
`from keras import X`) and the rest runs unchanged, on the same stand-in data and sizes.

    KERAS_BACKEND=torch python scripts/keras_io/run_with_keras.py scripts/keras_io/bidirectional_lstm_imdb.py

Needs Keras 3 (pip install keras); the torch backend needs nothing else. Prints the per-epoch training
losses at the end. Three stand-ins where Keras needs what is not installed here (each says so when used):
- without TensorFlow, Keras's `timeseries_dataset_from_array` cannot run (it builds a tf.data.Dataset),
  so the same windows come from rnnkit's (checked against Keras's own tests in
  tests/keras_suite/test_preprocessing_timeseries.py), served as a keras.utils.PyDataset with `take`;
- without TensorFlow, Keras's `StringLookup` refuses to be made (it is built on TensorFlow's tables on
  every backend), so rnnkit's is used (checked against Keras's own tests in
  tests/keras_suite/test_string_lookup.py); it returns a torch tensor, which keras.ops.convert_to_numpy takes;
- without pydot, Keras's `plot_model` raises ImportError, so it becomes a no-op.
"""

import re
import sys


def keras_source(path: str) -> str:
    source = open(path).read()
    source = re.sub(r"^import rnnkit as keras\b", "import keras", source, flags=re.M)
    source = re.sub(r"^from rnnkit import ", "from keras import ", source, flags=re.M)
    source = re.sub(r"^import rnnkit\b.*$", "", source, flags=re.M)
    imports = [line.split("#")[0] for line in source.splitlines() if re.match(r"(import|from) ", line)]
    assert not any("rnnkit" in line for line in imports), f"{path}: an rnnkit import is left"
    return source


def patch_keras() -> None:
    import importlib.util

    import keras

    if importlib.util.find_spec("tensorflow") is None:
        import rnnkit.layers
        import rnnkit.preprocessing

        class Windows(keras.utils.PyDataset):
            def __init__(self, dataset):
                super().__init__()
                self.batches = list(dataset)  # one pass, in order (the examples do not shuffle)

            def __len__(self):
                return len(self.batches)

            def __getitem__(self, index):
                return self.batches[index]

            def take(self, count):
                return self.batches[:count]

        def timeseries_dataset_from_array(*args, **kwargs):
            print("run_with_keras: no TensorFlow, so the windows come from rnnkit's timeseries_dataset_from_array")
            return Windows(rnnkit.preprocessing.timeseries_dataset_from_array(*args, **kwargs))

        keras.preprocessing.timeseries_dataset_from_array = timeseries_dataset_from_array
        keras.utils.timeseries_dataset_from_array = timeseries_dataset_from_array

        def string_lookup(*args, **kwargs):
            print("run_with_keras: no TensorFlow, so StringLookup is rnnkit's (a dictionary with Keras's rules)")
            return rnnkit.layers.StringLookup(*args, **kwargs)

        keras.layers.StringLookup = string_lookup
    if importlib.util.find_spec("pydot") is None:
        keras.utils.plot_model = lambda *args, **kwargs: print("run_with_keras: no pydot, plot_model skipped")


if __name__ == "__main__":
    patch_keras()
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    scope = {"__name__": "__main__", "__file__": script}
    exec(compile(keras_source(script), script, "exec"), scope)
    history = scope.get("history")  # fit's History where the script keeps it, else model.history
    if not hasattr(history, "history"):
        history = getattr(scope.get("model"), "history", None)
    if history is not None:
        print("KERAS LOSSES", [round(float(v), 4) for v in history.history["loss"]])
