"""Cohen et al.'s CERTIFY loop (locuslab/smoothing code/core.py, same structure: repeat the image,
draw randn_like noise, scale, add, classify, bincount) in Debian's python3-torch, for the model of
bench/certify_bench.cpp. Prints noisy samples per second.

usage: certify_bench.py [cnn|mlp|rrcm] [images] [n] [batch] [threads]
"""
import sys
import time

import numpy as np
import torch
from scipy.stats import beta, norm

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from train_step_bench import Net  # the same architecture as flowlab's classifier
from rrcm_encoder import RrcmEncoder  # flowlab's rrcm architecture, written again in Python


def sample_noise(model, x, num, batch_size, sigma):
    with torch.no_grad():
        counts = np.zeros(10, dtype=int)
        remaining = num
        while remaining > 0:
            this_batch = min(batch_size, remaining)
            remaining -= this_batch
            batch = x.repeat((this_batch, 1, 1, 1))
            noise = torch.randn_like(batch) * sigma
            predictions = model(batch + noise).argmax(1)
            counts += np.bincount(predictions.numpy(), minlength=10)
        return counts


def certify(model, x, n0, n, alpha, batch_size, sigma):
    c_a = sample_noise(model, x, n0, batch_size, sigma).argmax()
    counts = sample_noise(model, x, n, batch_size, sigma)
    n_a = counts[c_a]
    p_a = beta.ppf(alpha, n_a, n - n_a + 1) if n_a > 0 else 0.0
    return (c_a, sigma * norm.ppf(p_a)) if p_a >= 0.5 else (-1, 0.0)


def main():
    arch = sys.argv[1] if len(sys.argv) > 1 else "mlp"
    images = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
    batch = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
    threads = int(sys.argv[5]) if len(sys.argv) > 5 else 2
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    if arch == "rrcm":
        model = RrcmEncoder(condition_sigma=0.25).eval()
    else:
        model = Net(arch, 16 if arch == "cnn" else 256).eval()
    x = torch.rand(images, 1, 28, 28)
    certify(model, x[0:1], 100, n, 0.001, batch, 0.25)  # warm-up
    t0 = time.perf_counter()
    for i in range(images):
        certify(model, x[i:i + 1], 100, n, 0.001, batch, 0.25)
    print(f"{images * (100 + n) / (time.perf_counter() - t0):.1f}")


if __name__ == "__main__":
    main()
