#!/usr/bin/env python3
"""Test vectors from PyTorch for fused-optim's RAdam and NAdam tests (no torch at test time).

    python3 bench/peers/torch_vectors.py   # writes test/fixtures/{radam,nadam}-torch.json

(Debian: `apt-get install python3-torch`, then /usr/bin/python3, PyTorch 1.13.)

Each case: initial float32 parameters, one float32 gradient per step (seeded torch.Generator),
and the parameters after every step of torch.optim.RAdam / torch.optim.NAdam (CPU, float32).

NAdam: PyTorch 1.x (e.g. Debian's python3-torch 1.13) multiplies mu_t into the product of the
next step's momentum coefficient twice; 2.x and fused-optim do not. The two agree only when
beta1 = 0 (every mu is 0), so only such cases are generated for NAdam: they check the second
moment, its bias correction, eps and weight decay, not the momentum schedule. On PyTorch 2.x
any beta1 would do, but the fixture stays the same whichever version made it.
"""
import json
import os
import sys

import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def run(make_opt, n, steps, seed):
    gen = torch.Generator().manual_seed(seed)
    p0 = torch.rand(n, generator=gen, dtype=torch.float32) * 2 - 1
    grads = [torch.rand(n, generator=gen, dtype=torch.float32) * 2 - 1 for _ in range(steps)]
    p = p0.clone().requires_grad_(True)
    opt = make_opt([p])
    expected = []
    for g in grads:
        p.grad = g.clone()
        opt.step()
        expected.append(p.detach().clone().tolist())
    return p0.tolist(), [g.tolist() for g in grads], expected


def radam_cases():
    specs = [
        ("defaults, 37 elements, 9 steps (rectified from step 6)", 37, 9, dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weightDecay=0.0)),
        ("lr 0.05, beta2 0.99, eps 1e-6, weight decay 0.01, 100 elements, 12 steps", 100, 12, dict(lr=0.05, beta1=0.8, beta2=0.99, eps=1e-6, weightDecay=0.01)),
        ("beta2 0.5 (never rectified), 5 elements, 7 steps", 5, 7, dict(lr=0.1, beta1=0.9, beta2=0.5, eps=1e-8, weightDecay=0.0)),
    ]
    out = []
    for i, (name, n, steps, o) in enumerate(specs):
        make = lambda ps, o=o: torch.optim.RAdam(ps, lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"], weight_decay=o["weightDecay"])
        params, grads, expected = run(make, n, steps, 1000 + i)
        out.append(dict(name=name, options=o, params=params, grads=grads, expected=expected))
    return out


def nadam_cases():
    specs = [
        ("beta1 0, defaults otherwise, 33 elements, 8 steps", 33, 8, dict(lr=2e-3, beta1=0.0, beta2=0.999, eps=1e-8, weightDecay=0.0, momentumDecay=4e-3)),
        ("beta1 0, lr 0.05, beta2 0.9, eps 1e-4, weight decay 0.05, 64 elements, 10 steps", 64, 10, dict(lr=0.05, beta1=0.0, beta2=0.9, eps=1e-4, weightDecay=0.05, momentumDecay=4e-3)),
    ]
    out = []
    for i, (name, n, steps, o) in enumerate(specs):
        make = lambda ps, o=o: torch.optim.NAdam(ps, lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"], weight_decay=o["weightDecay"], momentum_decay=o["momentumDecay"])
        params, grads, expected = run(make, n, steps, 2000 + i)
        out.append(dict(name=name, options=o, params=params, grads=grads, expected=expected))
    return out


def write(name, cls, cases):
    path = os.path.normpath(os.path.join(ROOT, "test", "fixtures", name))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    doc = dict(source=f"torch {torch.__version__} torch.optim.{cls}, CPU float32, by bench/peers/torch_vectors.py", cases=cases)
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path}: {len(cases)} cases")


if __name__ == "__main__":
    torch.manual_seed(0)
    write("radam-torch.json", "RAdam", radam_cases())
    write("nadam-torch.json", "NAdam", nadam_cases())
    sys.exit(0)
