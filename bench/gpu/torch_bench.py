#!/usr/bin/env python3
"""PyTorch's fused optimizers on the cases bench/gpu/check.mjs timed (same tensor lists, same
method): torch.optim.AdamW(fused=True) and SGD(fused=True), timed with CUDA events recorded
between consecutive steps on the current stream, median of >= 20 after warm-up, parameter sets
rotated when smaller than 4x the L2 cache. Also the device-to-device copy bandwidth seen by
PyTorch, as a cross-check of the addon's.

usage: python3 bench/gpu/torch_bench.py OUT/ours.json OUT/torch.json [--iters N]
"""
import json
import math
import statistics
import sys
import time

import torch

WARMUP = 5
ROTATE_BYTES = 256 * 2**20


def timed(step, iters):
    ev = [torch.cuda.Event(enable_timing=True) for _ in range(iters + 1)]
    ev[0].record()
    for i in range(iters):
        step()
        ev[i + 1].record()
    ev[-1].synchronize()
    return [ev[i].elapsed_time(ev[i + 1]) for i in range(iters)]


def copy_bandwidth(iters):
    rows = []
    for mib in (256, 1024, 4096):
        n = mib * 2**20 // 4
        src = torch.randn(n, device="cuda")
        dst = torch.empty_like(src)
        for _ in range(3):
            dst.copy_(src)
        ms = statistics.median(timed(lambda: dst.copy_(src), max(20, iters)))
        rows.append({"bytes": n * 4, "medianMs": ms, "GBps": 2 * n * 4 / (ms * 1e-3) / 1e9})
        del src, dst
    torch.cuda.empty_cache()
    return {"rows": rows, "ceilingGBps": max(r["GBps"] for r in rows)}


def make_optimizer(case, gen):
    params = []
    for n in case["sizes"]:
        p = torch.randn(n, device="cuda", generator=gen)
        p.grad = torch.randn(n, device="cuda", generator=gen)
        params.append(p)
    rule = case["rule"]
    if rule == "adamw":
        opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=1e-2, fused=True)
    else:
        opt = torch.optim.SGD(params, lr=1e-3, momentum=0.9 if rule == "sgdm" else 0.0, fused=True)
    return params, opt


def bench_case(case, iters):
    slots = 4 if case["rule"] == "adamw" else 3
    arena_bytes = case["params"] * 4 * slots
    rotate = max(1, math.ceil(ROTATE_BYTES / arena_bytes))
    gen = torch.Generator(device="cuda")
    gen.manual_seed(1234)
    sets = [make_optimizer(case, gen) for _ in range(rotate)]
    clip = case.get("clip")
    k = [0]

    def step():
        params, opt = sets[k[0] % rotate]
        k[0] += 1
        if clip is not None:
            # What our two-pass step does in one call: clip by the global L2 norm, then update.
            torch.nn.utils.clip_grad_norm_(params, clip, foreach=True)
        opt.step()

    timed(step, WARMUP)
    ms = statistics.median(timed(step, iters))
    del sets
    torch.cuda.empty_cache()
    return ms, rotate


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        sys.exit(2)
    iters = int(sys.argv[sys.argv.index("--iters") + 1]) if "--iters" in sys.argv else 30
    ours = json.load(open(sys.argv[1]))
    out = {
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "device": torch.cuda.get_device_name(0),
        "copy": copy_bandwidth(iters),
        "bench": [],
    }
    print(f"torch {torch.__version__} (CUDA {torch.version.cuda}) on {out['device']}")
    print(f"copy ceiling (PyTorch): {out['copy']['ceilingGBps']:.0f} GB/s")
    for case in ours.get("bench", []):
        t0 = time.time()
        row = {"name": case["name"], "rotate": None, "torchMs": None}
        try:
            row["torchMs"], row["rotate"] = bench_case(case, iters)
        except Exception as e:  # report and go on: one case must not hide the others
            row["error"] = f"{type(e).__name__}: {e}"
            torch.cuda.empty_cache()
        row["seconds"] = time.time() - t0
        out["bench"].append(row)
        ms = f"{row['torchMs']:.3f} ms" if row["torchMs"] else row.get("error")
        print(f"{case['name']:<32} torch {ms}")
        json.dump(out, open(sys.argv[2], "w"), indent=1)


if __name__ == "__main__":
    main()
