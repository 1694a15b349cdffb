"""The same training step as bench/train_step_bench.cpp in Debian's python3-torch.

usage: train_step_bench.py [cnn|mlp] [width] [batch] [steps] [threads]; prints samples/s.
"""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self, arch, width):
        super().__init__()
        self.register_buffer("mean", torch.full((1,), 0.286))
        self.register_buffer("stdev", torch.full((1,), 0.353))
        if arch == "cnn":
            w = width
            self.layers = nn.Sequential(
                nn.Conv2d(1, w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(w, 2 * w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                nn.Linear(2 * w * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
        else:
            self.layers = nn.Sequential(
                nn.Flatten(), nn.Linear(784, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                nn.Linear(width, 10))

    def forward(self, x):
        return self.layers((x - self.mean) / self.stdev)


def main():
    arch = sys.argv[1] if len(sys.argv) > 1 else "cnn"
    width = int(sys.argv[2]) if len(sys.argv) > 2 else (16 if arch == "cnn" else 256)
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 128
    steps = int(sys.argv[4]) if len(sys.argv) > 4 else 200
    threads = int(sys.argv[5]) if len(sys.argv) > 5 else 2
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = Net(arch, width).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(batch, 1, 28, 28)
    y = torch.randint(0, 10, (batch,))

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(20):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    print(f"{steps * batch / (time.perf_counter() - t0):.1f}")


if __name__ == "__main__":
    main()
