"""Run every workload with rnnkit and its peers, then write benchmarks/RESULTS.md (and results.json).

    python -m benchmarks                 # everything (about 20 minutes on 2 cores)
    python -m benchmarks --only w3 w6    # some workloads
    python -m benchmarks --no-keras      # without the Keras peers (no optional extra needed)
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import tempfile
import time
from pathlib import Path

from rnnkit.training.compiled import MAX_UNROLL

from . import peers_rnnkit, peers_torch, specs
from .harness import interleaved, matmul_gflops, run_keras, timed
from .report import write_report
from .windows_bench import bench_windows

HERE = Path(__file__).parent
WORKLOADS = ["windows", "bitsum", "w3", "w4", "airline", "w5a", "w5b", "w6"]


def _keras_backends(enabled: bool) -> list[str]:
    if not enabled or importlib.util.find_spec("keras") is None:
        return []
    return [backend for backend in ("jax", "torch") if importlib.util.find_spec(backend) is not None]


def run(name: str, backends: list[str]) -> dict:
    if name == "windows":
        return {"rnnkit": bench_windows()}
    table = {s.name: s for s in specs.TRAINING}
    table.update({"airline": specs.AIRLINE, "w5a": specs.W5A, "w5b": specs.W5B, "w6": specs.W6})
    spec = table[name]
    kind = ("training" if isinstance(spec, specs.Training) else "airline" if name == "airline"
            else "streaming" if name == "w6" else "generation")
    if kind == "training":
        fns = {"rnnkit": peers_rnnkit.training(spec), "torch": peers_torch.training(spec)}
        if spec.steps <= MAX_UNROLL and spec.batch <= 32:  # where a compiled step may pay (compiled_step.py)
            fns["rnnkit_jit"] = peers_rnnkit.training(spec, jit_compile=True)
        result = interleaved(fns)
    elif kind == "generation":
        mine, theirs = peers_rnnkit.generation(spec), peers_torch.generation(spec)
        times = interleaved({"generate": mine["generate"], "seeds_loop": mine["seeds_loop"],
                             "carried": theirs["carried"]}, repeats=5)
        result = {"rnnkit": {k: times[k] for k in ("generate", "seeds_loop")}, "torch": {"carried": times["carried"]}}
        result["torch"]["window"] = timed(theirs["window"], repeats=1, warmup=0)  # slow: once
    elif kind == "airline":
        mine = peers_rnnkit.airline(spec)
        times = interleaved({"seed_loop": mine["seed_loop"], "one_call": mine["one_call"], "jit": mine["jit"],
                             "torch": peers_torch.airline(spec)}, repeats=3)
        result = {"rnnkit": {k: times[k] for k in ("seed_loop", "one_call", "jit")}, "torch": times["torch"]}
        result["rnnkit"]["samples"] = mine["samples"]
    else:
        result = {"rnnkit": peers_rnnkit.streaming(spec), "torch": peers_torch.streaming(spec)}
    for backend in backends:
        result[f"keras_{backend}"] = run_keras(backend, name)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=WORKLOADS, help="run only these workloads")
    parser.add_argument("--no-keras", action="store_true", help="skip the Keras peers")
    args = parser.parse_args(argv)
    # A fresh compile cache, so that the compiled step's first call shows its true cold start.
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", tempfile.mkdtemp(prefix="rnnkit-bench-inductor-"))
    backends = _keras_backends(not args.no_keras)
    names = args.only or WORKLOADS
    path = HERE / "results.json"
    results = json.loads(path.read_text()) if args.only and path.exists() else {}
    print(f"FLOP floor: {2048}^3 matrix product ...", flush=True)
    results["matmul_gflops"] = matmul_gflops()
    print(f"  {results['matmul_gflops']:.0f} GFLOP/s", flush=True)
    for k, name in enumerate(names, 1):
        t0 = time.perf_counter()
        print(f"[{k}/{len(names)}] {name} (peers: rnnkit, torch{''.join(', keras-' + b for b in backends)}) ...",
              flush=True)
        results[name] = run(name, backends)
        print(f"  done in {time.perf_counter() - t0:.0f} s: {json.dumps(results[name])[:300]}", flush=True)
        path.write_text(json.dumps(results, indent=1))  # a crash later keeps what was measured
    out = write_report(results, HERE / "RESULTS.md")
    print(f"wrote {out} and {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
