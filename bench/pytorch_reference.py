#!/usr/bin/python3
"""PyTorch side of bench/compare_pytorch.sh: the same configurations as seqgrad's suites, timed
with 1 and with 2 intra-op threads (the faster is kept). Prints one JSON object {name: seconds}
(median of repeats) plus "torch_version". Run with OPENBLAS_CORETYPE unset."""
import json, statistics, sys, time

import torch

torch.manual_seed(0)
REPEATS = int(sys.argv[1]) if len(sys.argv) > 1 else 7


def median_time(fn, repeats=REPEATS, min_seconds=0.2):
    fn()  # warm-up
    fn()
    # inner loop so short cases take at least ~min_seconds / repeats each
    t0 = time.perf_counter(); fn(); one = time.perf_counter() - t0
    inner = max(1, int(min_seconds / repeats / max(one, 1e-9)))
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - t0) / inner)
    return statistics.median(samples)


TRAIN = [(32, 50, 64, 128), (64, 100, 128, 256), (64, 100, 256, 512)]


def train_builtin(kind, B, T, I, H, layers=1, bidirectional=False):
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[kind]
    m = cls(I, H, num_layers=layers, bidirectional=bidirectional, batch_first=True)
    x = torch.rand(B, T, I) * 2 - 1
    y = torch.rand(B, T, H * (2 if bidirectional else 1)) * 2 - 1

    def step():
        for p in m.parameters():
            p.grad = None
        out, _ = m(x)
        torch.nn.functional.mse_loss(out, y).backward()
    return step


def train_loop_lstm(B, T, I, H):
    """An LSTM cell written as a Python loop of tensor ops, as a researcher writes a custom cell."""
    k = 1 / H ** 0.5
    W = ((torch.rand(4 * H, I) * 2 - 1) * k).requires_grad_()
    U = ((torch.rand(4 * H, H) * 2 - 1) * k).requires_grad_()
    b = ((torch.rand(4 * H) * 2 - 1) * k).requires_grad_()
    x = torch.rand(B, T, I) * 2 - 1
    y = torch.rand(B, T, H) * 2 - 1

    def step():
        for p in (W, U, b):
            p.grad = None
        h = torch.zeros(B, H); c = torch.zeros(B, H); outs = []
        for t in range(T):
            z = x[:, t] @ W.t() + h @ U.t() + b
            i, f, g, o = z.chunk(4, 1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            outs.append(h)
        torch.nn.functional.mse_loss(torch.stack(outs, 1), y).backward()
    return step


def stream_step(I=128, H=256):
    cell = torch.nn.LSTMCell(I, H)
    x = torch.rand(1, I)
    state = [torch.zeros(1, H), torch.zeros(1, H)]

    def step():
        with torch.no_grad():
            state[0], state[1] = cell(x, (state[0], state[1]))
    return step


def tape_chain(ops=1000):
    x0 = torch.full((4,), 0.5)

    def step():
        x = x0.clone().requires_grad_()
        h = x
        for _ in range(ops // 2):
            h = torch.tanh(h * 0.9)
        h.sum().backward()
    return step, ops


def gemm(M, N, K):
    a = torch.rand(M, K); b = torch.rand(K, N)
    return (lambda: torch.mm(a, b)), 2.0 * M * N * K


def cases():
    for kind in ("lstm", "gru", "rnn"):
        for B, T, I, H in TRAIN:
            yield f"train/{kind}/B{B}_T{T}_I{I}_H{H}", train_builtin(kind, B, T, I, H)
    for B, T, I, H in TRAIN:
        yield f"train/lstm_pyloop/B{B}_T{T}_I{I}_H{H}", train_loop_lstm(B, T, I, H)
    yield "train/bilstm2/B32_T50_I64_H128", train_builtin("lstm", 32, 50, 64, 128, layers=2, bidirectional=True)
    yield "stream/lstm/B1_I128_H256", stream_step()
    fn, ops = tape_chain()
    yield "tape/chain1000_per_op", (lambda: fn(), ops)
    for M, N, K in [(64, 512, 192), (64, 1024, 384), (64, 2048, 768), (6400, 512, 192), (6400, 1024, 384),
                    (6400, 2048, 768), (1024, 1024, 1024)]:
        f, flops = gemm(M, N, K)
        yield f"gemm/{M}x{N}x{K}", (f, flops)
    for n in (1000, 100000, 10000000):
        a = torch.rand(n); b = torch.rand(n)
        yield f"kernel/add/{n}", (lambda a=a, b=b: torch.add(a, b), 12.0 * n)
        yield f"kernel/tanh/{n}", (lambda a=a: torch.tanh(a), 8.0 * n)
        yield f"kernel/sigmoid/{n}", (lambda a=a: torch.sigmoid(a), 8.0 * n)
        yield f"kernel/sum/{n}", (lambda a=a: torch.sum(a), 4.0 * n)


def main():
    out = {"torch_version": torch.__version__, "results": {}}
    for name, case in cases():
        fn, per = case if isinstance(case, tuple) else (case, None)
        best = None
        for threads in (1, 2):
            torch.set_num_threads(threads)
            t = median_time(fn)
            if best is None or t < best[0]:
                best = (t, threads)
        out["results"][name] = {"seconds": best[0], "threads": best[1], "per": per}
        print(f"{name}: {best[0]*1e3:.4f} ms ({best[1]} thr)", file=sys.stderr, flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
