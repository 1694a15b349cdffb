"""SPEN training speed in Debian's python3-torch, the peer of bench/spen_bench.cpp.

A straightforward PyTorch implementation of the same network on the same batches: k-hop
ego-networks, subgraphs grouped by size, the equivariant layers of the reference code (the basis
operations stacked and contracted with einsum: mode `reference`) or in flowlab's factored form
(`factored`), merge back by averaging (index_add), ELU, GraphNorm, invariant readout, MLP head,
AdamW and cross-entropy. Prints graphs per second of training.
  python3 spen_bench.py train GRAPHS_FILE HOPS EPOCHS THREADS reference|factored
"""
import sys
import time

import torch


def read_graphs(path):
    graphs, g = [], None
    for line in open(path):
        f = line.split()
        if not f or f[0].startswith("#"):
            continue
        if f[0] == "graph":
            g = {"label": int(f[1]), "nodes": int(f[2]), "edges": [], "labels": [0] * int(f[2])}
            graphs.append(g)
        elif f[0] == "labels":
            g["labels"] = [int(x) for x in f[1:]]
        elif f[0] == "edge":
            g["edges"].append((int(f[1]), int(f[2])))
    return graphs


def encode(g, hops):
    n = g["nodes"]
    adj = [set() for _ in range(n)]
    for a, b in g["edges"]:
        adj[a].add(b)
        adj[b].add(a)
    members = []
    for v in range(n):
        seen, frontier = {v}, {v}
        for _ in range(hops):
            frontier = {u for w in frontier for u in adj[w]} - seen
            seen |= frontier
        members.append(sorted(seen))
    pair_id = {}
    for m in members:
        for a in m:
            for b in m:
                pair_id[(a, b)] = 0
    pairs = sorted(pair_id, key=lambda p: p[0] * n + p[1])
    for i, p in enumerate(pairs):
        pair_id[p] = i
    entries = [[pair_id[(a, b)] for a in m for b in m] for m in members]
    pair_cover = [0] * len(pairs)
    node_cover = [0] * n
    for m, e in zip(members, entries):
        for p in e:
            pair_cover[p] += 1
        for a in m:
            node_cover[a] += 1
    deg = [len(adj[v]) for v in range(n)]
    norm_adj = [0.0] * len(pairs)
    for a, b in g["edges"]:
        w = 1.0 / (deg[a] * deg[b]) ** 0.5
        norm_adj[pair_id[(a, b)]] = w
        norm_adj[pair_id[(b, a)]] = w
    return dict(g, members=members, pairs=pairs, entries=entries, pair_cover=pair_cover,
                node_cover=node_cover, norm_adj=norm_adj,
                diag=[pair_id[(v, v)] for v in range(n)])


def join(batch, labels_count, size_weights):
    """One block-diagonal batch: input features, covers, graph ids, subgraphs grouped by size."""
    inputs, pair_graph, node_graph, pair_cover, node_cover, groups = [], [], [], [], [], {}
    nodes = pairs = 0
    for b, g in enumerate(batch):
        x = torch.zeros(len(g["pairs"]), 1 + labels_count)
        x[:, 0] = torch.tensor(g["norm_adj"])
        for v in range(g["nodes"]):
            x[g["diag"][v], 1 + g["labels"][v]] = 1.0
        inputs.append(x)
        pair_graph += [b] * len(g["pairs"])
        node_graph += [b] * g["nodes"]
        pair_cover += g["pair_cover"]
        node_cover += g["node_cover"]
        for m, e in zip(g["members"], g["entries"]):
            grp = groups.setdefault(len(m), ([], [], []))
            grp[0].extend(pairs + p for p in e)
            grp[1].extend(nodes + a for a in m)
            grp[2].append(b)
        nodes += g["nodes"]
        pairs += len(g["pairs"])
    dense = [(m, min(m, size_weights) - 1, len(grp[2]), torch.tensor(grp[0]),
              torch.tensor(grp[1]), torch.tensor(grp[2])) for m, grp in sorted(groups.items())]
    return (torch.cat(inputs), torch.tensor(pair_graph), torch.tensor(node_graph),
            torch.tensor(pair_cover, dtype=torch.float32)[:, None],
            torch.tensor(node_cover, dtype=torch.float32)[:, None], dense, len(batch), nodes,
            pairs)


# The reference formulation: stack the basis operations (channels first) and contract them.
def ops_2_to_2(x):  # N x C x m x m
    m = x.shape[-1]
    diag = torch.diagonal(x, dim1=-2, dim2=-1)
    dmean, rmean, cmean = diag.mean(-1), x.mean(-1), x.mean(-2)
    amean = x.mean((-2, -1))
    eye = torch.eye(m)
    every = lambda s: s[..., None, None].expand(-1, -1, m, m)
    rows = lambda v: v[..., :, None].expand(-1, -1, m, m)
    cols = lambda v: v[..., None, :].expand(-1, -1, m, m)
    return torch.stack([torch.diag_embed(diag), every(dmean) * eye, torch.diag_embed(rmean),
                        torch.diag_embed(cmean), every(amean) * eye, x, x.transpose(-2, -1),
                        rows(diag), cols(diag), rows(rmean), cols(rmean), rows(cmean),
                        cols(cmean), every(dmean), every(amean)], 2)


def ops_2_to_1(x):
    m = x.shape[-1]
    diag = torch.diagonal(x, dim1=-2, dim2=-1)
    every = lambda s: s[..., None].expand(-1, -1, m)
    return torch.stack([diag, every(diag.mean(-1)), x.mean(-1), x.mean(-2),
                        every(x.mean((-2, -1)))], 2)


def ops_1_to_2(v):
    m = v.shape[-1]
    mean = v.mean(-1)
    every = mean[..., None, None].expand(-1, -1, m, m)
    return torch.stack([torch.diag_embed(v), every * torch.eye(m), v[..., :, None].expand(-1, -1, m, m),
                        v[..., None, :].expand(-1, -1, m, m), every], 2)


def ops_1_to_1(v):
    return torch.stack([v, v.mean(-1, keepdim=True).expand_as(v)], 2)


class Layer(torch.nn.Module):
    def __init__(self, in2, in1, out, sets, invariant, factored):
        super().__init__()
        self.in1, self.factored = in1, factored
        w = lambda k, i: torch.nn.Parameter(torch.randn(sets, k, i, out) * (2.0 / (i + out)) ** 0.5)
        b = lambda *s: torch.nn.Parameter(torch.zeros(sets, *s))
        if invariant:
            self.w20, self.b20 = w(2, in2), b(out)
            self.w10, self.b10 = w(1, in1), b(out)
            return
        self.w22, self.b22, self.w21, self.b21 = w(15, in2), b(2, out), w(5, in2), b(out)
        if in1:
            self.w12, self.b12, self.w11, self.b11 = w(5, in1), b(out), w(2, in1), b(out)

    def forward(self, s, x2, x1):  # channels last: N x m x m x C, N x m x C
        if self.factored:
            return self.factored_forward(s, x2, x1)
        xf = x2.permute(0, 3, 1, 2)
        eye = torch.eye(x2.shape[1])[None, :, :, None]
        t2 = torch.einsum("ncbij,bcd->nijd", ops_2_to_2(xf), self.w22[s]) + self.b22[s, 0] \
            + eye * self.b22[s, 1]
        t1 = torch.einsum("ncbi,bcd->nid", ops_2_to_1(xf), self.w21[s]) + self.b21[s]
        if not self.in1:
            return t2, t1
        vf = x1.permute(0, 2, 1)
        t2 = torch.cat([t2, torch.einsum("ncbij,bcd->nijd", ops_1_to_2(vf), self.w12[s])
                        + self.b12[s]], -1)
        t1 = torch.cat([t1, torch.einsum("ncbi,bcd->nid", ops_1_to_1(vf), self.w11[s])
                        + self.b11[s]], -1)
        return t2, t1

    def factored_forward(self, s, x, v):
        w = self.w22[s]
        rows = lambda w, ids: torch.cat([w[i] for i in ids], 0)
        diag = torch.diagonal(x, dim1=1, dim2=2).transpose(1, 2)
        sc = torch.cat([diag.mean(1), x.mean((1, 2))], -1)
        vec = torch.cat([diag, x.mean(2), x.mean(1)], -1)
        on_diag = vec @ rows(w, [0, 2, 3]) + (sc @ rows(w, [1, 4]) + self.b22[s, 1])[:, None]
        along_r = vec @ rows(w, [7, 9, 11]) + (sc @ rows(w, [13, 14]) + self.b22[s, 0])[:, None]
        along_c = vec @ rows(w, [8, 10, 12])
        t2 = x @ w[5] + x.transpose(1, 2) @ w[6] + along_r[:, :, None] + along_c[:, None]
        t2.diagonal(0, 1, 2).add_(on_diag.transpose(1, 2))
        w = self.w21[s]
        t1 = vec @ rows(w, [0, 2, 3]) + (sc @ rows(w, [1, 4]) + self.b21[s])[:, None]
        if not self.in1:
            return t2, t1
        w = self.w12[s]
        mean = v.mean(1)
        u = (v @ w[2] + (mean @ w[4] + self.b12[s])[:, None])[:, :, None] + (v @ w[3])[:, None]
        u.diagonal(0, 1, 2).add_((v @ w[0] + (mean @ w[1])[:, None]).transpose(1, 2))
        w = self.w11[s]
        return (torch.cat([t2, u], -1),
                torch.cat([t1, v @ w[0] + (mean @ w[1] + self.b11[s])[:, None]], -1))

    def invariant(self, s, x2, x1):
        sc = torch.cat([torch.diagonal(x2, dim1=1, dim2=2).mean(-1), x2.mean((1, 2))], -1)
        return torch.cat([sc @ torch.cat([self.w20[s, 0], self.w20[s, 1]]) + self.b20[s],
                          x1.mean(1) @ self.w10[s, 0] + self.b10[s]], -1)


def segment_mean(x, seg, n):
    s = torch.zeros(n, x.shape[1]).index_add_(0, seg, x)
    c = torch.zeros(n).index_add_(0, seg, torch.ones(x.shape[0]))
    return s / c.clamp_min(1)[:, None]


class GraphNorm(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.alpha = torch.nn.Parameter(torch.ones(c))
        self.gamma = torch.nn.Parameter(torch.ones(c))
        self.beta = torch.nn.Parameter(torch.zeros(c))

    def forward(self, x, seg, n):
        centred = x - self.alpha * segment_mean(x, seg, n)[seg]
        var = segment_mean(centred * centred, seg, n)[seg]
        return self.gamma * centred / torch.sqrt(var + 1e-5) + self.beta


class Spen(torch.nn.Module):
    def __init__(self, widths, head, labels, classes, sets, factored):
        super().__init__()
        self.layers, self.n2, self.n1 = torch.nn.ModuleList(), torch.nn.ModuleList(), torch.nn.ModuleList()
        in2, in1 = 1 + labels, 0
        for w in widths[:-1]:
            self.layers.append(Layer(in2, in1, w, sets, False, factored))
            out = w if in1 == 0 else 2 * w
            self.n2.append(GraphNorm(out))
            self.n1.append(GraphNorm(out))
            in2 = in1 = out
        self.readout = Layer(in2, in1, widths[-1], sets, True, factored)
        dims = [2 * widths[-1]] + head
        mods = []
        for a, b in zip(dims, dims[1:]):
            mods += [torch.nn.Linear(a, b), torch.nn.ReLU()]
        self.head = torch.nn.Sequential(*mods, torch.nn.Linear(dims[-1], classes))

    def forward(self, joined):
        t2, pair_graph, node_graph, pair_cover, node_cover, groups, B, nodes, pairs = joined
        t1 = None
        for layer, n2, n1 in zip(self.layers, self.n2, self.n1):
            s2 = s1 = None
            for m, s, count, ep, nd, _ in groups:
                x2 = t2[ep].view(count, m, m, -1)
                x1 = t1[nd].view(count, m, -1) if t1 is not None else None
                o2, o1 = layer(s, x2, x1)
                if s2 is None:
                    s2 = torch.zeros(pairs, o2.shape[-1])
                    s1 = torch.zeros(nodes, o1.shape[-1])
                s2 = s2.index_add(0, ep, o2.reshape(-1, o2.shape[-1]))
                s1 = s1.index_add(0, nd, o1.reshape(-1, o1.shape[-1]))
            t2 = n2(torch.nn.functional.elu(s2 / pair_cover), pair_graph, B)
            t1 = n1(torch.nn.functional.elu(s1 / node_cover), node_graph, B)
        outs, gids = [], []
        for m, s, count, ep, nd, gid in groups:
            outs.append(torch.nn.functional.elu(self.readout.invariant(
                s, t2[ep].view(count, m, m, -1), t1[nd].view(count, m, -1))))
            gids.append(gid)
        return self.head(segment_mean(torch.cat(outs), torch.cat(gids), B))


def main():
    _, mode, path, hops, epochs, threads, form = sys.argv
    torch.set_num_threads(int(threads))
    torch.manual_seed(0)
    graphs = [encode(g, int(hops)) for g in read_graphs(path)]
    classes = max(g["label"] for g in graphs) + 1
    net = Spen([32, 32, 32], [64], 1, classes, 16, form == "factored")
    opt = torch.optim.AdamW(net.parameters(), lr=0.003, weight_decay=0.0)
    batch = 10
    gen = torch.Generator().manual_seed(1)
    t0 = time.perf_counter()
    for _ in range(int(epochs)):
        order = torch.randperm(len(graphs), generator=gen).tolist()
        for start in range(0, len(order), batch):
            chunk = [graphs[i] for i in order[start:start + batch]]
            joined = join(chunk, 1, 16)
            loss = torch.nn.functional.cross_entropy(
                net(joined), torch.tensor([g["label"] for g in chunk]))
            opt.zero_grad()
            loss.backward()
            opt.step()
    print(f"{len(graphs) * int(epochs) / (time.perf_counter() - t0):.3f}")


if __name__ == "__main__":
    main()
