"""The knowledge-graph embedding loop of bench/kge_bench.cpp in Debian's python3-torch: 1-N
scoring of every training query (each triple and its inverse) against all entities, binary
cross-entropy with the true tail as the one positive, Adam (lr 0.03) with an exponential decay
(0.95) per epoch, batch 128, and filtered validation MRR after every epoch; or the filtered
ranking of every test triple both ways (batch 512).

Two formulations of the same model:
  reference  the NFE paper's code as published: the distance expanded into several matrix
             products plus elementwise terms over the [B, E] scores, the loss through a one-hot
             mask
  factored   flowlab's: one matrix product [u, bias_q, 1][v, 1, bias_e]^T, the loss as
             sum softplus(s) - s_t (autograd does the backward)

usage: kge_bench.py train DIR MODEL DIM EPOCHS THREADS FORMULATION
       kge_bench.py eval DIR MODEL DIM THREADS FORMULATION
Prints seconds per epoch (train) or seconds for the whole test ranking (eval).
"""
import math
import sys
import time
from collections import defaultdict

import torch
import torch.nn.functional as F

C = math.sqrt(2 / math.pi)


def read_graph(path):
    def names(f):
        with open(f"{path}/{f}") as fh:
            return fh.read().splitlines()

    def triples(f):
        with open(f"{path}/{f}") as fh:
            rows = [tuple(int(x) for x in line.split()) for line in fh if line.strip()]
        return rows

    return len(names("entities.txt")), len(names("relations.txt")), {
        s: triples(f"{s}.txt") for s in ("train", "valid", "test")}


def with_inverses(rows, n_rel):
    out = []
    for h, r, t in rows:
        out.append((h, r, t))
        out.append((t, r + n_rel, h))
    return torch.tensor(out, dtype=torch.int64)


class Kge(torch.nn.Module):
    def __init__(self, model, n_ent, n_rel, dim, gamma, formulation):
        super().__init__()
        parts = 3 if model == "nfe2" else 2
        self.model, self.dim, self.gamma, self.formulation = model, dim, gamma, formulation
        self.entity = torch.nn.Parameter(torch.empty(n_ent, parts * dim).uniform_(-0.1, 0.1))
        self.relation = torch.nn.Parameter(torch.empty(n_rel, 2 * dim).uniform_(-0.1, 0.1))

    def query(self, h, r):
        e = self.entity[h].chunk(3 if self.model == "nfe2" else 2, -1)
        b, a = self.relation[r].chunk(2, -1)
        mu = a * e[0] + b
        return mu, [(a * s).abs() for s in e[1:]]

    def forward(self, h, r):
        mu1, sig = self.query(h, r)
        tails = self.entity.chunk(3 if self.model == "nfe2" else 2, -1)
        mu2, tsig = tails[0], [s.abs() for s in tails[1:]]
        sq = lambda x: x.pow(2).sum(-1)
        if self.formulation == "reference":
            def dist(x, y, w):  # w * |x - y|^2 for every pair, expanded
                return w * (sq(x).unsqueeze(-1) + sq(y).unsqueeze(0) - 2 * x.matmul(y.t()))
            if self.model == "nfe1":
                d = dist(mu1, mu2, 1.0) + dist(sig[0], tsig[0], 1.0)
            else:
                s1, s2, s3, s4 = sig[0], sig[1], tsig[0], tsig[1]
                d = dist(mu1, mu2, 1.0) + dist(s1, s3, 0.5) + dist(s2, s4, 0.5)
                d = d + C * ((mu1 * (s2 - s1)).sum(-1).unsqueeze(-1) + mu1.matmul((s3 - s4).t())
                             - (s2 - s1).matmul(mu2.t()) - (mu2 * (s3 - s4)).sum(-1).unsqueeze(0))
            return self.gamma - d
        # factored: score = bias_q + bias_e + u.v in one product
        if self.model == "nfe1":
            u = torch.cat([2 * mu1, 2 * sig[0]], 1)
            bq = self.gamma - sq(mu1) - sq(sig[0])
            v = torch.cat([mu2, tsig[0]], 1)
            be = -sq(mu2) - sq(tsig[0])
        else:
            s1, s2, s3, s4 = sig[0], sig[1], tsig[0], tsig[1]
            dq, dt = s2 - s1, s3 - s4
            u = torch.cat([mu1, s1, s2, dq], 1)
            bq = self.gamma - sq(mu1) - 0.5 * sq(s1) - 0.5 * sq(s2) - C * (mu1 * dq).sum(-1)
            v = torch.cat([2 * mu2 - C * dt, s3, s4, C * mu2], 1)
            be = -sq(mu2) - 0.5 * sq(s3) - 0.5 * sq(s4) + C * (mu2 * dt).sum(-1)
        ones_q = torch.ones(u.shape[0], 1)
        ones_e = torch.ones(v.shape[0], 1)
        return torch.cat([u, bq.unsqueeze(1), ones_q], 1).matmul(
            torch.cat([v, ones_e, be.unsqueeze(1)], 1).t())


def loss_of(scores, tails, formulation):
    if formulation == "reference":
        mask = torch.zeros_like(scores).scatter(1, tails.unsqueeze(-1), 1)
        return F.softplus((1 - 2 * mask) * scores).sum(-1).mean()
    return (F.softplus(scores).sum(-1) - scores.gather(1, tails.unsqueeze(1)).squeeze(1)).mean()


def known_tails(*splits):
    known = defaultdict(list)
    for h, r, t in torch.cat(splits).tolist():
        known[(h, r)].append(t)
    return known


def filtered_ranks(model, queries, known, n_ent, batch=512):
    ranks = []
    with torch.no_grad():
        for i in range(0, len(queries), batch):
            q = queries[i:i + batch]
            s = model(q[:, 0], q[:, 1])
            target = s.gather(1, q[:, 2:3])
            flat = [j * n_ent + t for j, (h, r, tt) in enumerate(q.tolist())
                    for t in known[(h, r)]]
            s.view(-1).index_fill_(0, torch.tensor(flat, dtype=torch.int64), -math.inf)
            ranks.append(1 + (s >= target).sum(1))
    return torch.cat(ranks)


def main():
    mode, path, model_name, dim = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    epochs = int(sys.argv[5]) if mode == "train" else 0
    threads, formulation = int(sys.argv[-2]), sys.argv[-1]
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    n_ent, n_rel, g = read_graph(path)
    gamma = 1.0 if model_name == "nfe1" else 0.0
    model = Kge(model_name, n_ent, 2 * n_rel, dim, gamma, formulation)
    if mode == "eval":  # timed as the op runs: the queries and the filter built, then ranked
        model.eval()
        for timed in (False, True):  # a warm-up, then the timed run
            t0 = time.perf_counter()
            train, valid, test = (with_inverses(g[s], n_rel) for s in ("train", "valid", "test"))
            known = known_tails(train, valid, test)
            ranks = filtered_ranks(model, test, known, n_ent)
            (1.0 / ranks.double()).mean().item()
        print(f"{time.perf_counter() - t0:.4f}")
        return
    train, valid, test = (with_inverses(g[s], n_rel) for s in ("train", "valid", "test"))
    known = known_tails(train, valid, test)
    opt = torch.optim.Adam(model.parameters(), lr=0.03)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, 0.95)
    t0 = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(train))
        for i in range(0, len(train), 128):
            rows = train[perm[i:i + 128]]
            opt.zero_grad()
            loss = loss_of(model(rows[:, 0], rows[:, 1]), rows[:, 2], formulation)
            if math.isfinite(loss.item()):
                loss.backward()
                opt.step()
        sched.step()
        (1.0 / filtered_ranks(model, valid, known, n_ent).double()).mean().item()
    print(f"{(time.perf_counter() - t0) / epochs:.4f}")


if __name__ == "__main__":
    main()
