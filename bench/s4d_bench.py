"""A minimal S4D classifier (the reference example.py's backbone with its S4D layer) in Debian's
python3-torch, the same shapes as bench/s4d_bench.cpp: ZOH Vandermonde kernel, FFT convolution
padded to 2L, D skip, GELU, 1x1 conv + GLU, post-norm residual blocks, mean pooling.

usage: s4d_bench.py [train|infer] [d_model] [state] [layers] [batch] [length] [steps] [threads];
prints sequences/s. With S4D_FFT_LENGTH=fast in the environment the convolution uses flowlab's FFT
length instead (the smallest 5-smooth number >= 2L), to show how much of a ratio that choice is.
"""
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def fft_length(length):
    n = 2 * length
    if os.environ.get("S4D_FFT_LENGTH") != "fast":
        return n
    while True:
        m = n
        for p in (2, 3, 5):
            while m % p == 0:
                m //= p
        if m == 1:
            return n
        n += 1


class S4DLayer(nn.Module):
    def __init__(self, h, n):
        super().__init__()
        half = n // 2
        self.log_dt = nn.Parameter(
            torch.rand(h) * (math.log(0.1) - math.log(0.001)) + math.log(0.001))
        self.log_a_real = nn.Parameter(torch.log(0.5 * torch.ones(h, half)))
        self.a_imag = nn.Parameter(math.pi * torch.arange(half).repeat(h, 1).float())
        self.b = nn.Parameter(torch.view_as_real(torch.ones(h, half, dtype=torch.cfloat)))
        self.c = nn.Parameter(torch.randn(h, half, 2) * math.sqrt(0.5))
        self.d = nn.Parameter(torch.randn(h))
        self.output = nn.Conv1d(h, 2 * h, 1)

    def kernel(self, length):
        dt = torch.exp(self.log_dt)
        a = torch.complex(-torch.exp(self.log_a_real), self.a_imag)
        dt_a = a * dt.unsqueeze(-1)
        a_bar = torch.exp(dt_a)
        b_bar = (a_bar - 1) / a * torch.view_as_complex(self.b)
        powers = torch.exp(torch.log(a_bar).unsqueeze(-1) * torch.arange(length))
        k = torch.einsum("hn,hnl->hl", torch.view_as_complex(self.c) * b_bar, powers)
        return 2 * k.real

    def forward(self, u):
        length = u.shape[-1]
        k = self.kernel(length)
        n = fft_length(length)
        y = torch.fft.irfft(torch.fft.rfft(u, n=n) * torch.fft.rfft(k, n=n), n=n)[..., :length]
        y = F.gelu(y + u * self.d.unsqueeze(-1))
        return F.glu(self.output(y), dim=1)


class Net(nn.Module):
    def __init__(self, h, n, layers):
        super().__init__()
        self.register_buffer("mean", torch.full((1,), 0.286))
        self.register_buffer("stdev", torch.full((1,), 0.353))
        self.encoder = nn.Linear(1, h)
        self.layers = nn.ModuleList(S4DLayer(h, n) for _ in range(layers))
        self.norms = nn.ModuleList(nn.LayerNorm(h) for _ in range(layers))
        self.decoder = nn.Linear(h, 10)

    def forward(self, x):
        z = self.encoder((x - self.mean) / self.stdev).transpose(1, 2)
        for layer, norm in zip(self.layers, self.norms):
            z = norm((z + layer(z)).transpose(1, 2)).transpose(1, 2)
        return self.decoder(z.mean(2))


def main():
    a = sys.argv
    mode = a[1] if len(a) > 1 else "train"
    d_model, state, layers, batch, length, steps, threads = (
        int(a[i]) if len(a) > i else default
        for i, default in zip(range(2, 9), (64, 64, 4, 50, 784, 20, 2)))
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = Net(d_model, state, layers)
    x = torch.rand(batch, length, 1)
    y = torch.randint(0, 10, (batch,))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)

    def train_step():
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()

    def infer_step():
        with torch.no_grad():
            net(x)

    net.train(mode == "train")
    step = train_step if mode == "train" else infer_step
    for _ in range(3):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    print(f"{steps * batch / (time.perf_counter() - t0):.1f}")


if __name__ == "__main__":
    main()
