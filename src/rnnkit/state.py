"""The one owner of recurrent state: a `StateStore` maps each recurrent layer's name to its states.

A stateful layer keeps, between calls, the final states of the last batch ([h, c] for LSTM, [h]
otherwise): row i of the next batch continues row i. Those states live in a `StateStore`, keyed by the
layer's name, and nowhere else. A model and every layer inside it share one store (`share_store`),
so saving, snapshots (`preserved`), row selection and resizing are operations on one mapping. The
same class carries states where nothing is kept: the compiled train step passes a fresh store through
the forward call (a pure function of its inputs), and `generate`/`Stream` hold their own, whose
contents a stateful model takes back with `model.set_states(stream.states)`.

>>> import torch
>>> store = StateStore()
>>> store.put("lstm", [torch.zeros(2, 4), torch.zeros(2, 4)])
>>> with store.preserved():
...     store.put("lstm", [torch.ones(2, 4), torch.ones(2, 4)])
>>> float(store["lstm"][0].sum()), list(store)
(0.0, ['lstm'])
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Iterator

import torch

Tensor = torch.Tensor


class StateStore(Mapping):
    """{layer name: list of state tensors}. Read like a dict; written only through `put`/`drop`."""

    def __init__(self, states: Mapping | None = None):
        self._states: dict[str, list[Tensor]] = {k: list(v) for k, v in (states or {}).items()}

    # -- Mapping --------------------------------------------------------------------------------------
    def __getitem__(self, key: str) -> list[Tensor]:
        return self._states[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._states)

    def __len__(self) -> int:
        return len(self._states)

    def __repr__(self) -> str:
        shapes = {k: [tuple(s.shape) for s in v] for k, v in self._states.items()}
        return f"StateStore({shapes})"

    # -- writing -------------------------------------------------------------------------------------
    def put(self, key: str, states) -> None:
        self._states[key] = list(states)

    def drop(self, key: str | None = None) -> None:
        """Forget the states of `key` (its next call starts from zeros), or of every layer."""
        if key is None:
            self._states.clear()
        else:
            self._states.pop(key, None)

    def snapshot(self) -> dict[str, list[Tensor]]:
        return {k: list(v) for k, v in self._states.items()}

    def restore(self, snapshot: Mapping) -> None:
        self._states = {k: list(v) for k, v in snapshot.items()}

    @contextlib.contextmanager
    def preserved(self):
        """Code inside may advance the states; they are put back as they were on exit."""
        saved = self.snapshot()
        try:
            yield self
        finally:
            self.restore(saved)


def stores_in(root: torch.nn.Module) -> list[StateStore]:
    """The distinct stores used by `root` and the modules inside it (one after `share_store`)."""
    found: dict[int, StateStore] = {}
    for m in root.modules():
        store = getattr(m, "state_store", None)
        if isinstance(store, StateStore):
            found.setdefault(id(store), store)
    return list(found.values())


def keyed_modules(root: torch.nn.Module) -> list[torch.nn.Module]:
    """Modules under `root` that keep states in a store (recurrent layers: they have a `state_key`)."""
    return [m for m in root.modules() if getattr(m, "state_key", None) is not None]


def share_store(root: torch.nn.Module) -> StateStore:
    """Make `root` and every module inside it use `root.state_store`, moving kept states there.

    Called when a model is assembled. Two stateful layers with the same name in one model would share
    one entry, so that is refused with the fix.
    """
    store = root.state_store
    owners: dict[str, torch.nn.Module] = {}
    for m in keyed_modules(root):
        key = m.state_key
        if key in owners and owners[key] is not m and (m.stateful or owners[key].stateful):
            raise ValueError(f"Two recurrent layers in {getattr(root, 'name', 'this model')!r} are named {key!r}; "
                             "states are kept by layer name, so names must be unique. Pass name='...' to one "
                             "of them.")
        owners[key] = m
    for m in root.modules():
        own = getattr(m, "state_store", None)
        if isinstance(own, StateStore) and own is not store:
            for key, value in own.items():
                if key in owners:
                    store.put(key, value)
            m.state_store = store
    return store


@contextlib.contextmanager
def preserved(root: torch.nn.Module):
    """Run code that must not change the kept states under `root` (a peek, a dry run)."""
    with contextlib.ExitStack() as stack:
        for store in stores_in(root):
            stack.enter_context(store.preserved())
        yield


@contextlib.contextmanager
def isolated(root: torch.nn.Module):
    """Like `preserved`, and the layers under `root` start from zero states inside (example runs)."""
    with preserved(root):
        for m in keyed_modules(root):
            m.state_store.drop(m.state_key)
        yield
