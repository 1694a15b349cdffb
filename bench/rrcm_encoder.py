"""flowlab's rrcm architecture (ops/rrcm/encoder.cpp) written again in PyTorch for the benchmarks'
Python peer: three 3x3 conv blocks (width, 2 width, 2 width channels; max pooling after the first
two), each modulated by FiLM from a sinusoidal embedding of the noise level t (cos and sin of
250 ln t at frequencies 10000^(-i/F)), the input scaled by c_in(t) = 1 / sqrt(t^2 + 1), a linear
map to the representation h and a linear head. The input layer standardizes [0,1] pixels.
"""
import math

import torch
from torch import nn


def karras_grid(points, t_min=0.002, t_max=10.0, rho=7.0):
    hi, lo = t_max ** (1 / rho), t_min ** (1 / rho)
    return [(hi + k / (points - 1) * (lo - hi)) ** rho for k in range(points)]


class RrcmEncoder(nn.Module):
    def __init__(self, width=16, dim=128, classes=10, frequencies=16, condition_sigma=0.25,
                 pixel_mean=0.286, pixel_std=0.353, grid_points=40):
        super().__init__()
        self.register_buffer("mean", torch.full((1,), pixel_mean))
        self.register_buffer("stdev", torch.full((1,), pixel_std))
        channels = [1, width, 2 * width, 2 * width]
        self.convs = nn.ModuleList(
            nn.Conv2d(channels[i], channels[i + 1], 3, padding=1) for i in range(3))
        self.frequencies = frequencies
        self.embedding = nn.Sequential(nn.Linear(2 * frequencies, 64), nn.SiLU(),
                                       nn.Linear(64, 2 * sum(channels[1:])))
        self.to_representation = nn.Linear(2 * width * 7 * 7, dim)
        self.head = nn.Linear(dim, classes)
        grid = karras_grid(grid_points)
        target = condition_sigma / pixel_std
        self.level = min(grid, key=lambda t: abs(t - target))

    def level_features(self, t):
        freqs = torch.exp(torch.arange(self.frequencies, dtype=t.dtype) *
                          (-math.log(10000.0) / self.frequencies))
        angle = (250.0 * t.log()).unsqueeze(1) * freqs.unsqueeze(0)
        return torch.cat([angle.cos(), angle.sin()], 1)

    def represent(self, x, t):
        film = self.embedding(self.level_features(t))
        z = x * (t.square() + 1.0).rsqrt().view(-1, 1, 1, 1)
        offset = 0
        for i, conv in enumerate(self.convs):
            z = conv(z)
            c = z.size(1)
            scale = film[:, offset:offset + c].view(-1, c, 1, 1)
            shift = film[:, offset + c:offset + 2 * c].view(-1, c, 1, 1)
            offset += 2 * c
            z = torch.relu(z * (1 + scale) + shift)
            if i < 2:
                z = torch.max_pool2d(z, 2)
        return self.to_representation(z.flatten(1))

    def forward(self, x):
        t = torch.full((1,), self.level)
        return self.head(self.represent((x - self.mean) / self.stdev, t))
