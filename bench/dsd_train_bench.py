"""The DSD training loop of bench/dsd_train_bench.cpp in Debian's python3-torch: 200 full-batch
projected gradient-descent steps (torch.optim.SGD, lr 1, momentum 0.9) on the logistic loss of a
one-hidden-layer CNN / LCN / FCN with the soft-threshold activation, every step's loss read back.
Prints trainings per second.

usage: dsd_train_bench.py [cnn|lcn|fcn] [k] [d] [n] [trainings] [threads]
"""
import sys
import time

import torch
import torch.nn.functional as F


def forward(arch, w, x, b):
    if arch == "cnn":
        z = x.matmul(w[0])
    elif arch == "lcn":
        z = (x * w.unsqueeze(0)).sum(2)
    else:
        z = x.reshape(x.shape[0], -1).matmul(w.t())
    return (F.relu(z - b) - F.relu(-z - b)).sum(1)


def project(w):
    with torch.no_grad():
        w.div_(w.norm(2, 1, keepdim=True).clamp_min(1e-30))


def train(arch, init, x, y, b, steps=200):
    w = init.clone()
    project(w)
    w.requires_grad_(True)
    opt = torch.optim.SGD([w], lr=1.0, momentum=0.9)
    total = 0.0
    for _ in range(steps):
        opt.zero_grad()
        f = forward(arch, w, x, b)
        loss = F.softplus(-y * f).mean()
        total += loss.item()
        loss.backward()
        opt.step()
        project(w)
    return w.detach(), total


def main():
    arch = sys.argv[1] if len(sys.argv) > 1 else "cnn"
    k = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    d = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 256
    trainings = int(sys.argv[5]) if len(sys.argv) > 5 else 20
    torch.set_num_threads(int(sys.argv[6]) if len(sys.argv) > 6 else 1)
    torch.manual_seed(0)
    x = torch.randn(n, k, d) * 0.5
    y = torch.randint(0, 2, (n,)).float() * 2 - 1
    units, fan_in = (1, d) if arch == "cnn" else (k, d) if arch == "lcn" else (k, k * d)
    gen = torch.Generator().manual_seed(1)
    run = lambda: train(arch, torch.randn(units, fan_in, generator=gen) / fan_in ** 0.5, x, y, 0.45)
    run()  # warm-up
    t0 = time.perf_counter()
    for _ in range(trainings):
        run()
    print(f"{trainings / (time.perf_counter() - t0):.2f}")


if __name__ == "__main__":
    main()
