"""The federated rounds of bench/fl_round_bench.cpp in Debian's python3-torch, written the way a
Python FL simulation usually is: 100 clients with IID shards of 60,000 random 28x28 images, 10
sampled per round, one local epoch of torch.optim.SGD (batch 32, lr 0.1) on a logistic
regression, every step's loss read back, the update (local - global) privatized per coordinate
with numpy (vectorized; RQM's kept levels drawn as a [d, m] Bernoulli mask), the server's decode
and step, and one evaluation on 10,000 test images at the end. Prints rounds per second.

usage: fl_round_bench.py [none|rqm|pbm|gaussian] [rounds] [threads]
"""
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.utils import parameters_to_vector, vector_to_parameters

CLIP, MARGIN, LEVELS, KEEP = 0.01, 1.859, 16, 0.5
TRIALS, THETA, SIGMA = 15, 0.0052, 0.248
CLIENTS, PER_ROUND, BATCH, LR = 100, 10, 32, 0.1


def rqm_encode(x, rng):
    extent = CLIP + MARGIN
    x = np.clip(x, -CLIP, CLIP)
    u = (x + extent) * (LEVELS - 1) / (2 * extent)
    below = np.minimum(np.floor(u).astype(np.int64), LEVELS - 2)
    kept = rng.random((x.size, LEVELS)) < KEEP
    kept[:, 0] = kept[:, -1] = True
    j = np.arange(LEVELS)
    lower = np.where(kept & (j <= below[:, None]), j, -1).max(1)
    upper = np.where(kept & (j > below[:, None]), j, LEVELS).min(1)
    p = (u - lower) / (upper - lower)
    return np.where(rng.random(x.size) < p, upper, lower)


def encode(mechanism, x, rng):
    if mechanism == "rqm":
        return rqm_encode(x, rng)
    if mechanism == "pbm":
        return rng.binomial(TRIALS, 0.5 + THETA * np.clip(x, -CLIP, CLIP) / CLIP)
    if mechanism == "gaussian":
        return np.clip(x, -CLIP, CLIP) + SIGMA * rng.standard_normal(x.size)
    return x.astype(np.float64)


def decode_mean(mechanism, total, clients):
    if mechanism == "rqm":
        extent = CLIP + MARGIN
        return -extent + 2 * extent * total / (clients * (LEVELS - 1))
    if mechanism == "pbm":
        return CLIP * (total / clients - TRIALS / 2) / (TRIALS * THETA)
    return total / clients


def run(mechanism, rounds, data):
    train_x, train_y, test_x, test_y = data
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))
    global_w = parameters_to_vector(model.parameters()).detach().clone()
    shards = torch.randperm(train_x.shape[0]).chunk(CLIENTS)
    for _ in range(rounds):
        total = np.zeros(global_w.numel())
        for client in torch.randperm(CLIENTS)[:PER_ROUND].tolist():
            vector_to_parameters(global_w.clone(), model.parameters())  # a copy: it aliases
            opt = torch.optim.SGD(model.parameters(), lr=LR)
            shard = shards[client]
            order = shard[torch.randperm(shard.numel())]
            for start in range(0, order.numel(), BATCH):
                rows = order[start:start + BATCH]
                opt.zero_grad()
                loss = F.cross_entropy(model(train_x[rows]), train_y[rows])
                if not np.isfinite(loss.item()):
                    raise RuntimeError("loss is not finite")
                loss.backward()
                opt.step()
            update = (parameters_to_vector(model.parameters()).detach() - global_w).numpy()
            total += encode(mechanism, update, rng)
        global_w += torch.from_numpy(decode_mean(mechanism, total, PER_ROUND)).float()
    vector_to_parameters(global_w.clone(), model.parameters())
    with torch.no_grad():
        correct = sum((model(test_x[s:s + 1000]).argmax(1) == test_y[s:s + 1000]).sum().item()
                      for s in range(0, test_x.shape[0], 1000))
    return correct


def main():
    mechanism = sys.argv[1] if len(sys.argv) > 1 else "rqm"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    torch.manual_seed(0)
    data = (torch.rand(60000, 1, 28, 28), torch.randint(0, 10, (60000,)),
            torch.rand(10000, 1, 28, 28), torch.randint(0, 10, (10000,)))
    run(mechanism, rounds, data)  # warm-up
    t0 = time.perf_counter()
    run(mechanism, rounds, data)
    print(f"{rounds / (time.perf_counter() - t0):.2f}")


if __name__ == "__main__":
    main()
