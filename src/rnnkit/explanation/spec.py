"""A layer spec string, read without `eval`: "LSTM(4, return_sequences=True) > TimeDistributed(Dense(1))".

Grammar: spec := layer ('>' layer)* ; layer := Name '(' [arg (',' arg)*] ')' ; arg := [name '='] value ;
value := int | float | 'text' | "text" | True | False | None | (value, ...) | [value, ...] | layer.
Errors point at the offending character and list the known layers or that layer's arguments.

>>> [type(l).__name__ for l in parse("LSTM(4, return_sequences=True) > TimeDistributed(Dense(1))")]
['LSTM', 'TimeDistributed']
"""

from __future__ import annotations

import inspect
import re

from ..checks import short
from ..layers.serialize import builtin_layers

_NUMBER = re.compile(r"-?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CONSTANTS = {"True": True, "False": False, "None": None}
_SPEC_LAYERS = {k: v for k, v in builtin_layers().items() if k != "Lambda"}  # no code from text, ever


class SpecError(ValueError):
    """A spec string that cannot be read; the message shows where.

    `reason` (what is wrong), `column` (1-based) and `near` (the text around it, at most ~80 characters)
    are there for one-line reports such as the command line's."""

    def __init__(self, reason: str, text: str = "", at: int = 0):
        start = max(0, min(at - _CONTEXT // 2, len(text) - _CONTEXT))
        window = text[start:start + _CONTEXT]
        head, tail = ("..." if start else ""), ("..." if start + _CONTEXT < len(text) else "")
        self.reason, self.column, self.near = reason, at + 1, f"{head}{window}{tail}"
        caret = " " * (len(head) + at - start)
        super().__init__(f"{reason}\n  {self.near}\n  {caret}^ (column {at + 1})" if text else reason)


_CONTEXT = 80  # characters of the spec shown around an error: a 2 MB spec is never echoed whole
MAX_LENGTH = 20_000  # characters of a spec (some 2,000 layers): past it, parsing would build layers for minutes


class _Reader:
    def __init__(self, text: str):
        self.text, self.pos = text, 0

    def fail(self, message: str, at: int | None = None):
        raise SpecError(message, self.text, self.pos if at is None else at)

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            found = repr(self.peek()) if self.peek() else "the end"
            self.fail(f"expected {char!r} but found {found}")
        self.pos += 1

    def name(self) -> str:
        self.skip()
        m = _NAME.match(self.text, self.pos)
        if not m:
            self.fail(f"expected a layer name such as LSTM(...) but found {self.peek()!r}" if self.peek()
                      else "expected a layer name but the spec ended")
        self.pos = m.end()
        return m.group()

    def layer(self):
        start = self.pos
        self.skip()
        start = self.pos
        name = self.name()
        if name not in _SPEC_LAYERS:
            self.fail(f"unknown layer {short(name, 40)}; known layers: {', '.join(sorted(_SPEC_LAYERS))}", start)
        self.expect("(")
        args, kwargs = [], {}
        while self.peek() != ")":
            self.skip()
            arg_at = self.pos
            m = _NAME.match(self.text, self.pos)
            after = self.text[m.end():].lstrip() if m else ""
            if m and after.startswith("=") and not after.startswith("=="):
                self.pos = m.end()
                self.expect("=")
                kwargs[m.group()] = (self.value(), arg_at)
            else:
                if kwargs:
                    self.fail("a positional argument cannot follow a keyword argument", arg_at)
                args.append(self.value())
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != ")":
                self.fail(f"expected ',' or ')' but found {self.peek()!r}" if self.peek() else
                          "expected ')' but the spec ended")
        self.pos += 1
        return self._build(name, args, kwargs, start)

    def _build(self, name: str, args: list, kwargs: dict, at: int):
        cls = _SPEC_LAYERS[name]
        params = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
        for key, (_, key_at) in kwargs.items():
            if key not in params:
                self.fail(f"{name} has no argument {short(key, 40)}; its arguments: {', '.join(params)}", key_at)
        try:
            return cls(*args, **{k: v for k, (v, _) in kwargs.items()})
        except (TypeError, ValueError) as err:
            self.fail(f"{name}(...) rejected its arguments: {err}", at)

    def value(self):
        c = self.peek()
        if c in "([":
            close = ")" if c == "(" else "]"
            self.pos += 1
            items = []
            while self.peek() != close:
                items.append(self.value())
                if self.peek() == ",":
                    self.pos += 1
                elif self.peek() != close:
                    self.fail(f"expected ',' or {close!r}")
            self.pos += 1
            return tuple(items) if close == ")" else items
        if c in "'\"":
            end = self.text.find(c, self.pos + 1)
            if end < 0:
                self.fail("this string is never closed")
            text = self.text[self.pos + 1:end]
            self.pos = end + 1
            return text
        m = _NUMBER.match(self.text, self.pos)
        if m:
            self.pos = m.end()
            return float(m.group()) if any(ch in m.group() for ch in ".eE") else int(m.group())
        m = _NAME.match(self.text, self.pos)
        if m and m.group() in _CONSTANTS:
            self.pos = m.end()
            return _CONSTANTS[m.group()]
        if m and m.group() in _SPEC_LAYERS:
            return self.layer()
        if not c:
            self.fail("expected a value but the spec ended")
        self.fail(f"expected a value (number, 'text', True/False/None, tuple or layer) but found "
                  f"{short(m.group(), 40) if m else repr(c)}")


def parse(text: str) -> list:
    """The layers of a spec string, in order (build a model with Sequential([Input(...), *layers]))."""
    if not isinstance(text, str) or not text.strip():
        raise SpecError("empty spec: write layers joined by '>', e.g. \"LSTM(4) > Dense(1)\"")
    if len(text) > MAX_LENGTH:
        raise SpecError(f"the spec has {len(text):,} characters, more than the {MAX_LENGTH:,} rnnkit reads. Build a "
                        "model that size in Python (Sequential([...])), or save it and pass the file", text, MAX_LENGTH)
    reader = _Reader(text)
    layers = [reader.layer()]
    while reader.peek():
        reader.expect(">")
        layers.append(reader.layer())
    return layers
