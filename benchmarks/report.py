"""benchmarks/RESULTS.md from the measured results: tables, ratios, GFLOP/s and the targets, met or not."""

from __future__ import annotations

import datetime
import platform
import sys
from pathlib import Path

import numpy as np
import torch

from . import specs

PEERS = {"keras_jax": "Keras 3 (JAX)", "keras_torch": "Keras 3 (torch backend)"}


def _s(v: float | None) -> str:
    if v is None:
        return "n/a"
    return f"{v * 1e3:.3g} ms" if v < 1 else f"{v:.3g} s"


def _row(label: str, s: float | None, base: float, flop: float | None, peak: float, note: str = "") -> str:
    if s is None:
        return f"| {label} | {note or 'not measured'} | | | |"
    ratio = f"{s / base:.2f}" if base else ""
    overhead_bound = flop and flop / s / 1e9 < 1.0  # the floor says nothing about such tiny work
    gflops = (f"{flop / s / 1e9:.2g}" if overhead_bound else f"{flop / s / 1e9:.1f}") if flop else ""
    floor = "" if not flop or overhead_bound else f"{s / (flop / (peak * 1e9)):.1f}x"
    return f"| {label} | {_s(s)}{' ' + note if note else ''} | {ratio} | {gflops} | {floor} |"


def _keras_rows(r: dict, key: str, base: float, flop, peak, pick=lambda d: d.get("s"), how: str = "") -> list[str]:
    rows = []
    for peer, label in PEERS.items():
        label = f"{label}{' ' + how if how else ''}"
        if peer not in r:
            rows.append(f"| {label} | not installed (`pip install -e .[bench]`) | | | |")
        elif "error" in r[peer]:
            rows.append(f"| {label} | failed: {r[peer]['error'][:120]} | | | |")
        else:
            first = r[peer].get("first_s")
            note = f"(first call {_s(first)})" if first else ""
            rows.append(_row(label, pick(r[peer]), base, flop, peak, note))
    return rows


def _best_rnnkit(eager_s: float, how: str, jit: dict | None) -> tuple[float, str]:
    """rnnkit's faster way, eager or `jit_compile=True` (whose cold start is then named), and its time."""
    if jit and jit["s"] < eager_s:
        return jit["s"], f"{how} with `jit_compile=True`, after its {_s(jit['first_s'] - jit['s'])} cold start"
    return eager_s, how


def _jit_row(r: dict | None, base: float, flop, peak, label: str) -> list[str]:
    """The compiled step's row, if it ran; its cold start (first call minus a warm one) is the compile."""
    if r is None:
        return []
    return [_row(label, r["s"], base, flop, peak, f"(cold start {_s(r['first_s'] - r['s'])})")]


HEAD = ["| | best of repeats | peer / rnnkit | GFLOP/s | time / FLOP floor |", "|---|---|---|---|---|"]


def _fastest_peer(r: dict, base: float) -> tuple[str, float]:
    """The fastest of plain PyTorch and the Keras backends that ran, and its time over rnnkit's."""
    found = [("plain PyTorch", r["torch"]["s"])] + [(PEERS[p], r[p]["s"]) for p in PEERS if "s" in r.get(p, {})]
    label, s = min(found, key=lambda p: p[1])
    return label, s / base


def write_report(results: dict, path: Path) -> Path:
    peak = results["matmul_gflops"]
    versions = {v["keras"] for r in results.values() if isinstance(r, dict)
                for k, v in r.items() if k.startswith("keras_") and isinstance(v, dict) and "keras" in v}
    kv = ", ".join(sorted(versions)) or "not installed"
    lines = ["# Benchmark results", "",
             f"{datetime.date.today()}, {platform.machine()} ({platform.processor() or 'CPU'}), "
             f"{torch.get_num_threads()} threads, Python {sys.version.split()[0]}, PyTorch {torch.__version__}, "
             f"NumPy {np.__version__}, Keras {kv}. Written by `python -m benchmarks`.", "",
             "Each time is the best of repeated runs after a warm-up (on this shared VM noise only adds time; "
             "results.json keeps the medians too); slow peers get fewer repeats within a time budget. Every "
             "peer is measured in the same run: rnnkit and plain PyTorch round-robin in one process, Keras in "
             "a fresh process per backend. Why each number is what it is: [NOTES.md](NOTES.md). GFLOP/s uses the "
             "LSTM layers' FLOP: training 24*B*H*(F+H), inference 8*B*H*(F+H) per layer per step. The FLOP "
             f"floor is that work at the speed of a 2048^3 float32 matrix product measured in this run: "
             f"**{peak:.0f} GFLOP/s** (oneDNN's LSTM kernel beats it at large batches, so it is not the CPU's "
             "peak). Rows marked `jit_compile=True` train with rnnkit's compiled step; their cold start is the "
             "first call's time minus a warm call's, compiled into an empty cache (torch keeps compiled graphs "
             "on disk, so a later process starts faster).", ""]
    targets = []

    if "windows" in results:
        w = results["windows"]["rnnkit"]
        speed = w["speedup_same_length_1M"]
        lines += ["## windows: 10M-step series, look_back 64", "",
                  "| | time | peak memory (MiB) |", "|---|---|---|",
                  f"| rnnkit `windows`, 10M steps | {_s(w['windows_10M_s'])} | {w['windows_10M_peak_MB']:.2f} |",
                  f"| rnnkit `windows`, 1M steps | {_s(w['windows_1M_s'])} | |",
                  f"| seeds' `create_dataset` loop, 1M steps | {_s(w['create_dataset_1M_s'])} | "
                  f"{w['create_dataset_1M_peak_MB']:.0f} |", "",
                  f"At the same length (1M) `windows` is {speed:.0f}x faster. The loop ran on 1M steps only "
                  f"(on 10M its output alone would need ~2.4 GiB); the 10M series is {w['series_10M_MB']:.0f} MiB "
                  "and `windows` copies none of it.", ""]
        targets.append(f"- windows >= 100x the seeds' loop with O(1) extra memory: **{'met' if speed >= 100 else 'missed'}** "
                       f"({speed:.0f}x; {w['windows_10M_peak_MB']:.2f} MiB peak for a {w['series_10M_MB']:.0f} MiB series).")

    for spec in specs.TRAINING:
        if spec.name not in results:
            continue
        r, flop = results[spec.name], spec.flop()
        base = r["rnnkit"]["s"]
        lines += [f"## {spec.title}", "", *HEAD,
                  _row("rnnkit `fit`", base, base, flop, peak),
                  *_jit_row(r.get("rnnkit_jit"), base, flop, peak, "rnnkit `fit`, `jit_compile=True`"),
                  _row("plain PyTorch (nn.LSTM, hand loop, Adam)", r["torch"]["s"], base, flop, peak),
                  *_keras_rows(r, spec.name, base, flop, peak), ""]
        best, how = _best_rnnkit(base, "`fit`", r.get("rnnkit_jit"))
        label, ratio = _fastest_peer(r, best)
        targets.append(f"- {spec.name}: >= 1.0x the fastest peer: **{'met' if ratio >= 1 else 'missed'}** "
                       f"(rnnkit as {how}; fastest peer {label}, peer/rnnkit {ratio:.3f}); time / FLOP floor "
                       f"{best / (flop / (peak * 1e9)):.1f}x (target <= 2x: "
                       f"**{'met' if best <= 2 * flop / (peak * 1e9) else 'missed'}**).")

    if "airline" in results:
        r, spec = results["airline"], specs.AIRLINE
        flop = spec.flop(r["rnnkit"]["samples"])
        base = r["rnnkit"]["seed_loop"]["s"]
        jit = r["rnnkit"].get("jit")
        lines += [f"## {spec.title}", "", f"{r['rnnkit']['samples']} samples, so {r['rnnkit']['samples'] * spec.epochs} "
                  "optimisation steps of batch 1.", "", *HEAD,
                  _row("rnnkit, the seed's loop as written", base, base, flop, peak),
                  _row("rnnkit, one `fit(epochs=100, callbacks=[ResetStates()])`", r["rnnkit"]["one_call"]["s"], base,
                       flop, peak),
                  *_jit_row(jit, base, flop, peak, "rnnkit, the seed's loop, `compile(..., jit_compile=True)`"),
                  _row("plain PyTorch (state carried by hand, batch 1)", r["torch"]["s"], base, flop, peak),
                  *_keras_rows(r, "airline", base, flop, peak), ""]
        best, how = _best_rnnkit(base, "the seed's loop", jit)
        label, ratio = _fastest_peer(r, best)
        targets.append(f"- airline: >= 1.0x the fastest peer: **{'met' if ratio >= 1 else 'missed'}** "
                       f"(rnnkit as {how}; fastest peer {label}, peer/rnnkit {ratio:.3f}). Batch 1 with 4 units is all overhead: "
                       f"{flop / base / 1e9:.3f} GFLOP/s, so the FLOP floor says nothing here.")

    for spec in (specs.W5A, specs.W5B):
        if spec.name not in results:
            continue
        r, flop = results[spec.name], spec.flop()
        base = r["rnnkit"]["generate"]["s"]
        lines += [f"## {spec.title}", "", *HEAD,
                  _row("rnnkit `generate`", base, base, flop, peak),
                  _row("rnnkit, the seeds' loop (stateful model, `predict` per step)", r["rnnkit"]["seeds_loop"]["s"],
                       base, flop, peak),
                  _row("plain PyTorch, states carried by hand (one step per call)", r["torch"]["carried"]["s"], base,
                       flop, peak),
                  _row("plain PyTorch, `model(window)` per step (stateless, window slides)",
                       r["torch"].get("window", {}).get("s"), base, None, peak),
                  *_keras_rows(r, spec.name, base, flop, peak, how="`predict` per step (the seeds' loop)"), ""]
        for peer in PEERS:
            if peer in r and "s" in r[peer]:
                ratio = r[peer]["s"] / base
                targets.append(f"- {spec.name}: >= 100x {PEERS[peer]} `predict` per step: "
                               f"**{'met' if ratio >= 100 else 'missed'}** ({ratio:.1f}x).")
        for key, what in [("carried", "an eager loop with states carried by hand"),
                          ("window", "an eager `model(window)` loop")]:
            if key in r["torch"]:
                ratio = r["torch"][key]["s"] / base
                at_floor = (f"; rnnkit at {base / (flop / (peak * 1e9)):.1f}x the FLOP floor"
                            if flop / base / 1e9 >= 1 else "; dispatch-bound, far from any FLOP floor")
                targets.append(f"- {spec.name}: >= 2x {what}: **{'met' if ratio >= 2 else 'missed'}** ({ratio:.2f}x"
                               f"{at_floor}).")

    if "w6" in results:
        r, spec = results["w6"], specs.W6
        step_floor = spec.step_flop() / (peak * 1e9)
        lat = lambda d: f"{d['p50_s'] * 1e3:.3f} | {d['p99_s'] * 1e3:.3f} | {d['max_s'] * 1e3:.3f}"
        lines += [f"## {spec.title}", "", "| | p50 (ms) | p99 (ms) | max (ms) |", "|---|---|---|---|",
                  f"| rnnkit `Stream.step` | {lat(r['rnnkit'])} |",
                  f"| plain PyTorch, states carried by hand | {lat(r['torch'])} |"]
        for peer, label in PEERS.items():
            if peer in r and "error" not in r[peer]:
                lines.append(f"| {label} `predict` (stateful model) | {lat(r[peer]['predict'])} |")
                lines.append(f"| {label} `model(x)` (the docs' advice for one batch) | {lat(r[peer]['call'])} |")
            elif peer in r:
                lines.append(f"| {label} | failed: {r[peer]['error'][:120]} | | |")
        lines += ["", f"One step is {spec.step_flop() / 1e6:.0f} MFLOP: {step_floor * 1e3:.3f} ms at the FLOP floor.", ""]
        p99 = r["rnnkit"]["p99_s"]
        targets.append(f"- w6: p99 < 1 ms for 400 series: **{'met' if p99 < 1e-3 else 'missed'}** "
                       f"(p99 {p99 * 1e3:.3f} ms, p50 {r['rnnkit']['p50_s'] * 1e3:.3f} ms; the floor is "
                       f"{step_floor * 1e3:.3f} ms).")

    lines += ["## Targets (issue 8), as measured above", "", *targets, ""]
    seed002 = path.parent / "RESULTS-seed002.md"
    if seed002.exists():
        lines += ["Seed 002's full-size script (batch 1000, 150 unrolled steps) is measured separately by "
                  "`python -m benchmarks.seed002`: see [RESULTS-seed002.md](RESULTS-seed002.md).", ""]
    path.write_text("\n".join(lines))
    return path
