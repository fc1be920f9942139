"""Keras's `Progbar` (keras/src/utils/progbar.py): a progress line for a loop of known or unknown length,
with metrics averaged over the steps (or shown as they are, for stateful ones).

It writes Keras's line, "12/40 ━━━━━━━━━━━━━━━━━━━━ 3s 80ms/step - loss: 0.5000", redrawn in place in a
terminal (colours as rich would show them, when rich finds a terminal), one line per update otherwise
(at most every `interval` seconds, the final one always). verbose=2 writes only the final line, 0
nothing. `get_file` shows its downloads with it.

>>> bar = Progbar(target=3, verbose=0)
>>> bar.update(1, [("loss", 1.0)]); bar.update(2, [("loss", 3.0)])
>>> bar._values["loss"]
[4.0, 2]
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np
from rich.console import Console


def _terminal() -> bool:
    return Console(file=sys.stdout).is_terminal


class Progbar:
    """`Progbar(target, width=20, verbose=1, interval=0.05, stateful_metrics=None, stateless_metrics=None,
    unit_name="step")`; `update(current, values=None, finalize=None)` and `add(n, values=None)`.

    `values` are (name, value) pairs for the last step(s). Without `stateful_metrics` and
    `stateless_metrics` every value is averaged over the steps (weighted by how many steps each update
    covers); a name in `stateful_metrics` is shown as given, and with `stateless_metrics` only the names
    it lists are averaged. Only one of the two may be given.
    """

    def __init__(self, target, width: int = 20, verbose: int = 1, interval: float = 0.05,
                 stateful_metrics=None, stateless_metrics=None, unit_name: str = "step"):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError(
                "Only one of `stateful_metrics` or `stateless_metrics` can be provided. `stateful_metrics` is used "
                "to make metrics stateless by default (with an exclusion list), while `stateless_metrics` is used "
                "to make metrics stateful by default (with an exclusion list).")
        self.target, self.width, self.verbose = target, width, verbose
        self.interval, self.unit_name = interval, unit_name
        if stateful_metrics is not None:
            self.stateful_metrics, self.stateless_metrics = set(stateful_metrics), None
        elif stateless_metrics is not None:
            self.stateful_metrics, self.stateless_metrics = None, set(stateless_metrics)
        else:
            self.stateful_metrics, self.stateless_metrics = set(), None
        self._dynamic_display = _terminal()
        self._seen_so_far = 0
        self._values: dict[str, list] = {}  # name -> [sum of value * steps, steps]
        self._values_order: list[str] = []
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first_step = None
        self._prev_total_width = 0

    def _stateless(self, name: str) -> bool:
        if self.stateful_metrics is not None:
            return name not in self.stateful_metrics
        return name in self.stateless_metrics

    def update(self, current, values=None, finalize: bool | None = None) -> None:
        """Record step `current` (counted from 1) with `values`, and redraw. `finalize` (default: current
        has reached target) ends the line."""
        if finalize is None:
            finalize = False if self.target is None else current >= self.target
        for k, v in values or []:
            if k not in self._values_order:
                self._values_order.append(k)
            if not self._stateless(k) or finalize:
                # a stateful value is shown as given; so is the last value of a finished bar (Keras: an
                # epoch's end reports the epoch's value, not an average of it with the batches')
                self._values[k] = [v, 1]
            else:
                steps = max(current - self._seen_so_far, 1)
                if k not in self._values:
                    self._values[k] = [v * steps, steps]
                else:
                    self._values[k][0] += v * steps
                    self._values[k][1] += steps
        self._seen_so_far = current
        now = time.time()
        per_unit = self._estimate_step_duration(current, now)
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            self._write(self._line(current, now, per_unit, finalize), finalize)
        elif self.verbose == 2 and finalize and self.target is not None and self.target > 0:
            digits = int(math.log10(self.target)) + 1
            info = f"{current:{digits}d}/{self.target} - {now - self._start:.0f}s -"
            info += self._format_time(per_unit) + self._metrics_text()
            sys.stdout.write(info + "\n")
            sys.stdout.flush()
        self._last_update = now

    def add(self, n, values=None) -> None:
        """`update(steps seen so far + n, values)`."""
        self.update(self._seen_so_far + n, values)

    # -- the line --------------------------------------------------------------------------------------------
    def _line(self, current, now: float, per_unit: float, finalize: bool) -> tuple[str, str]:
        """(plain text, the same with Keras's colours)."""
        if self.target is not None and self.target > 0:
            digits = int(math.log10(self.target)) + 1
            count = f"{current:{digits}d}/{self.target}"
            done = int(self.width * float(current) / self.target)
            done = min(max(done, 0), self.width)
            plain = f"{count} {'━' * done}{'━' * (self.width - done)}"
            styled = (f"\x1b[1m{count}\x1b[0m " + (f"\x1b[32m{'━' * done}\x1b[0m" if done else "")
                      + f"\x1b[37m{'━' * (self.width - done)}\x1b[0m")
        else:
            plain = styled = f"{current:7d}/Unknown"
        if self.target is not None and self.target > 0 and not finalize:
            eta = per_unit * (self.target - current)
            if eta > 3600:
                when = "%d:%02d:%02d" % (eta // 3600, (eta % 3600) // 60, eta % 60)
            elif eta > 60:
                when = "%d:%02d" % (eta // 60, eta % 60)
            else:
                when = "%ds" % eta
        else:
            when = f"{now - self._start:.0f}s"  # the time since the start
        info = self._format_time(per_unit) + self._metrics_text()
        return f"{plain} {when}{info}", f"{styled} \x1b[1m{when}\x1b[0m{info}"

    def _write(self, line: tuple[str, str], finalize: bool) -> None:
        plain, styled = line
        if self._dynamic_display:
            text = "\r" + styled
            if self._prev_total_width > len(plain):
                text += " " * (self._prev_total_width - len(plain))
        else:
            text = "\n" + plain
        if finalize:
            text += "\n"
        sys.stdout.write(text)
        sys.stdout.flush()
        self._prev_total_width = len(plain)

    def _metrics_text(self) -> str:
        text = ""
        for k in self._values_order:
            total, count = self._values[k]
            if not isinstance(total, float):
                total = np.mean(total)
            average = total / max(1, count)
            text += f" - {k}: {average:.4f}" if abs(average) > 1e-3 else f" - {k}: {average:.4e}"
        return text

    def _format_time(self, per_unit: float) -> str:
        if per_unit >= 1 or per_unit == 0:
            return f" {per_unit:.0f}s/{self.unit_name}"
        if per_unit >= 1e-3:
            return f" {per_unit * 1e3:.0f}ms/{self.unit_name}"
        return f" {per_unit * 1e6:.0f}us/{self.unit_name}"

    def _estimate_step_duration(self, current, now: float) -> float:
        """Seconds per step, leaving out the first step (often slow: compiling, caches) once there are more."""
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return per_unit
