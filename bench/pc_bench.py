"""Hidden Chow-Liu tree circuit throughput in Debian's python3-torch, the peer of
bench/pc_bench.cpp: the same circuit (read from circuit.json / params.bin) evaluated on the same
images, vectorized over the batch as pyjuice evaluates a circuit (one matrix product per tree
edge for the whole batch), and EM's expected counts as pyjuice computes them: the parameter
flows, theta * d log p / d theta, by backpropagation.
  python3 pc_bench.py ll DIR THREADS     prints images/s and the sum of log p(x)
  python3 pc_bench.py em DIR THREADS     prints images/s and a weighted checksum of the counts
"""
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch


def load(folder):
    j = json.loads((folder / "circuit.json").read_text())
    d, m, v = j["variables"], j["states"], j["values"]
    raw = np.fromfile(folder / "params.bin", dtype="<f8")
    prior = torch.from_numpy(raw[: d * m].reshape(d, m).copy())
    trans = torch.from_numpy(raw[d * m : d * m + d * m * m].reshape(d, m, m).copy())
    emis = torch.from_numpy(raw[d * m + d * m * m :].reshape(d, m, v).copy())
    pixels = np.fromfile(folder / "pixels.bin", dtype=np.uint8).reshape(-1, d)
    return j["parent"], j["order"], prior, trans, emis, torch.from_numpy(pixels.astype(np.int64))


def log_likelihood(parent, order, prior, trans, emis, x):
    """Σ_images log p(x): an upward pass, children before parents, each node's vector rescaled
    to sum 1 (the scale goes to the log-likelihood) so nothing underflows."""
    b, d = x.shape
    m = prior.shape[1]
    # p(x_v | z_v) for every image, node and state: [D, B, M]
    ev = torch.gather(emis, 2, x.t().unsqueeze(1).expand(d, m, b)).transpose(1, 2)
    # unbind, not ev[v]: indexing a node out of a big tensor costs a full-size zero gradient per
    # node in backward; unbind's backward stacks the nodes' gradients once.
    evs, ts, ps = ev.unbind(0), trans.unbind(0), prior.unbind(0)
    incoming = [None] * d
    total = torch.zeros(b, dtype=torch.float64)
    for v in reversed(order):
        up = evs[v] if incoming[v] is None else evs[v] * incoming[v]
        scale = up.sum(1, keepdim=True)
        total = total + scale.squeeze(1).log()
        up = up / scale
        p = parent[v]
        if p < 0:
            total = total + (up @ ps[v]).log()
        else:
            msg = up @ ts[v].t()  # msg[b, a] = Σ_z T[a][z] up[b, z]
            incoming[p] = msg if incoming[p] is None else incoming[p] * msg
    return total.sum()


def weights(n, offset):
    i = np.arange(offset, offset + n, dtype=np.uint64)
    return torch.from_numpy(((i * np.uint64(2654435761)) % np.uint64(1000)).astype(np.float64) / 1000)


def main():
    mode, folder, threads = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    parent, order, prior, trans, emis, x = load(folder)
    n = x.shape[0]
    if mode == "ll":
        t0 = time.perf_counter()
        with torch.no_grad():
            ll = log_likelihood(parent, order, prior, trans, emis, x).item()
        print(f"{n / (time.perf_counter() - t0):.2f} {ll:.10e}")
    elif mode == "em":
        params = [p.clone().requires_grad_(True) for p in (prior, trans, emis)]
        t0 = time.perf_counter()
        log_likelihood(parent, order, *params, x).backward()
        # Roots' priors only count where the node is a root.
        roots = torch.tensor([1.0 if q < 0 else 0.0 for q in parent], dtype=torch.float64)
        counts = [params[0].detach() * params[0].grad * roots[:, None],
                  params[1].detach() * params[1].grad, params[2].detach() * params[2].grad]
        seconds = time.perf_counter() - t0
        checksum, offset = 0.0, 0
        for c in counts:
            flat = c.reshape(-1)
            checksum += float((weights(flat.numel(), offset) * flat).sum())
            offset += flat.numel()
        print(f"{n / seconds:.2f} {checksum:.10e}")
    else:
        sys.exit("usage: pc_bench.py ll|em DIR THREADS")


if __name__ == "__main__":
    main()
