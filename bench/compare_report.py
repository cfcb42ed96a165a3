#!/usr/bin/python3
"""Report half of bench/compare.sh: joins PyTorch's timings (pytorch_reference.py JSON, one file per
round), seqgrad's and oneDNN's Google Benchmark JSON (per-round runs and/or *_median aggregates) and
the memory program's output into one ratio table, prints it and writes RESULTS.md. Every sample of a
case (one per round, or the median aggregate of a single run) is pooled and the median kept.
Usage: compare_report.py --torch T1.json [T2.json ...] --ours O1.json [...] [--onednn D1.json ...]
                         --memory memory.txt --out RESULTS.md"""
import argparse, json, os, platform, re, subprocess, sys

ap = argparse.ArgumentParser()
ap.add_argument("--torch", nargs="+", required=True)
ap.add_argument("--ours", nargs="+", required=True)
ap.add_argument("--onednn", nargs="*", default=[])
ap.add_argument("--memory", required=True)
ap.add_argument("--out", required=True)
args = ap.parse_args()
memory_txt, out_md = args.memory, args.out

# PyTorch: name -> the round with the median time (a real sample, so its thread count goes with it)
torch_rounds = [json.load(open(f)) for f in args.torch]
torch = torch_rounds[0]
T = {}
for name in torch["results"]:
    samples = sorted((r["results"][name] for r in torch_rounds if name in r["results"]), key=lambda v: v["seconds"])
    T[name] = samples[(len(samples) - 1) // 2]


def load_gbench(files):
    """name -> {threads: (median seconds over all samples, one benchmark record)}; context of the first file."""
    samples, context = {}, {}
    for f in files:
        raw = json.load(open(f))
        context = context or raw.get("context", {})
        for b in raw["benchmarks"]:
            if b.get("error_occurred"):
                continue
            if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
                continue
            name = b["run_name"]
            m = re.search(r"threads:(\d+)", name)
            threads = int(m.group(1)) if m else 1
            key = re.sub(r"/threads:\d+", "", name)
            key = re.sub(r"/(process_time|real_time)", "", key)
            unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
            samples.setdefault(key, {}).setdefault(threads, []).append((b["real_time"] * unit, b))
    out = {}
    for key, by_threads in samples.items():
        for t, v in by_threads.items():
            v.sort(key=lambda sb: sb[0])
            out.setdefault(key, {})[t] = v[(len(v) - 1) // 2]
    return out, context


ours, _ = load_gbench(args.ours)
dnnl, dnnl_context = load_gbench(args.onednn)
HAVE_DNNL = bool(dnnl)
ROUNDS = len(args.torch)


def best(key, table=None):
    """(fastest median seconds, its thread count, {threads: (seconds, record)}) of one case."""
    v = (ours if table is None else table).get(key)
    if not v:
        return None, None, {}
    t = min(v, key=lambda k: v[k][0])
    return v[t][0], t, v


def fmt_t(s):
    return f"{s*1e3:.2f} ms" if s >= 1e-3 else f"{s*1e6:.2f} µs" if s >= 1e-6 else f"{s*1e9:.0f} ns"


def per_thread(allv):
    return f"{' / '.join(fmt_t(allv[t][0]) for t in sorted(allv))} @{'/'.join(str(t) for t in sorted(allv))} thr"


# rows: (group, config, ours, theirs, ratio) or, with a oneDNN reference,
#       (group, config, ours, theirs, ratio, oneDNN, ratio to oneDNN)
rows = []
ratios = {}
flop_rows = []  # (config, forward GEMM flops, seqgrad s, oneDNN s or None, PyTorch s or None)
KIND = {"lstm": 0, "gru": 1, "rnn": 2}
GATES = {"lstm": 4, "gru": 3, "rnn": 1}
DNNL_NAME = {"lstm": "lstm", "gru": "lbr_gru", "rnn": "vanilla_rnn"}
for kind, k in KIND.items():
    for B, Tn, I, H in [(32, 50, 64, 128), (64, 100, 128, 256), (64, 100, 256, 512)]:
        key = f"BM_train_step/cell:{k}/B:{B}/T:{Tn}/I:{I}/H:{H}"
        s, th, allv = best(key)
        ref = T.get(f"train/{kind}/B{B}_T{Tn}_I{I}_H{H}")
        ds, dth, dallv = best(key.replace("BM_train_step", "BM_onednn_train_step"), dnnl)
        if s is None or (ref is None and ds is None):
            continue
        config = f"{kind.upper()} B{B} T{Tn} I{I} H{H}"
        row = ["train step", f"{config} vs nn.{kind.upper()}" + (f" / {DNNL_NAME[kind]}" if ds else ""),
               f"{fmt_t(s)} ({per_thread(allv)})", "–", None]
        if ref is not None:
            r = s / ref["seconds"]
            ratios[f"train_{kind}_H{H}"] = (s, ref["seconds"], r)
            row[3:5] = [f"{fmt_t(ref['seconds'])} ({ref['threads']} thr)", r]
        else:
            ratios[f"train_{kind}_H{H}"] = (s, None, None)
        if ds is not None:
            row += [f"{fmt_t(ds)} ({per_thread(dallv)})", s / ds]
        rows.append(tuple(row))
        fl = dallv[dth][1].get("fwd_gemm_flops") if ds else None
        fl = fl or 2.0 * Tn * B * GATES[kind] * H * (I + H)
        flop_rows.append((config, fl, s, ds, ref["seconds"] if ref else None))
        if kind == "lstm":
            ref2 = T.get(f"train/lstm_pyloop/B{B}_T{Tn}_I{I}_H{H}")
            if ref2:
                rows.append(("train step", f"{config} vs Python-loop cell", fmt_t(s),
                             f"{fmt_t(ref2['seconds'])} ({ref2['threads']} thr)", s / ref2["seconds"]))
s, th, allv = best("BM_train_step/cell:3/B:32/T:50/I:64/H:128")
ref = T.get("train/bilstm2/B32_T50_I64_H128")
if s and ref:
    rows.append(("train step", "2-layer bidirectional LSTM B32 T50 I64 H128",
                 f"{fmt_t(s)} ({per_thread(allv)})",
                 f"{fmt_t(ref['seconds'])} ({ref['threads']} thr)", s / ref["seconds"]))
s, th, allv = best("BM_lstm_stream_step/I:128/H:256")
ref = T.get("stream/lstm/B1_I128_H256")
if s and ref:
    ratios["stream"] = (s, ref["seconds"], s / ref["seconds"])
    rows.append(("streaming", "one LSTM step B1 I128 H256 (no grad)", f"{fmt_t(s)} ({th} thr)",
                 f"{fmt_t(ref['seconds'])} ({ref['threads']} thr)", s / ref["seconds"]))
v = ours.get("BM_tape_overhead/1000", {})
ref = T.get("tape/chain1000_per_op")
if v and ref:
    per = v[1][0] / 1000
    theirs = ref["seconds"] / ref["per"]
    ratios["tape"] = (per, theirs, per / theirs)
    rows.append(("tape", "forward+backward per op (chain of 1000 tiny ops)", fmt_t(per), fmt_t(theirs), per / theirs))
gemm_best = {}
for key, v in ours.items():
    m = re.match(r"BM_gemm<float>/M:(\d+)/N:(\d+)/K:(\d+)$", key)
    if not m:
        continue
    M, N, K = map(int, m.groups())
    ref = T.get(f"gemm/{M}x{N}x{K}")
    fl = 2.0 * M * N * K
    g = {t: fl / v[t][0] * 1e-9 for t in v}
    gemm_best[(M, N, K)] = g
    ob = ours.get(f"BM_openblas_gemm<float>/M:{M}/N:{N}/K:{K}", {})
    obs = " / ".join(f"{fl / ob[t][0] * 1e-9:.0f}" for t in sorted(ob)) if ob else "–"
    if ref:
        theirs = ref["per"] / ref["seconds"] * 1e-9
        ours_s = min(v[t][0] for t in v)
        rows.append(("sgemm", f"{M}×{N}×{K} GFLOP/s (1 / 2 thr; OpenBLAS same run {obs})",
                     " / ".join(f"{g[t]:.0f}" for t in sorted(g)), f"{theirs:.0f} (torch.mm, {ref['threads']} thr)",
                     ours_s / ref["seconds"]))
OPS = {0: "add", 2: "tanh", 3: "sigmoid", 5: "sum"}
for op, name in OPS.items():
    for n in (1000, 100000, 10000000):
        s, th, allv = best(f"BM_kernel/op:{op}/n:{n}")
        ref = T.get(f"kernel/{name}/{n}")
        if s is None or ref is None:
            continue
        bytes_ = ref["per"]
        rows.append(("kernel", f"{name} n={n:.0e} GB/s", f"{bytes_ / s * 1e-9:.1f} ({th} thr)",
                     f"{bytes_ / ref['seconds'] * 1e-9:.1f} ({ref['threads']} thr)", s / ref["seconds"]))

mem = open(memory_txt).read()
mm = re.search(r"RESULT peak_above_baseline_mib=([\d.]+) analytic_mib=([\d.]+)", mem)

TARGETS = [
    ("LSTM train B64 T100 I128 H256", "train_lstm_H256", 52e-3, "≤ 52 ms"),
    ("LSTM train B64 T100 I256 H512", "train_lstm_H512", 170e-3, "≤ 170 ms"),
    ("LSTM train B32 T50 I64 H128", "train_lstm_H128", 5e-3, "≤ 5 ms"),
    ("tape overhead per op", "tape", 0.3e-6, "≤ 0.3 µs"),
    ("streaming LSTM step B1 H256", "stream", 5e-6, "≤ 5 µs"),
]


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception:
        return "?"


cpu = sh("lscpu | sed -n 's/^Model name:[ \\t]*//p'")
flags = sh("grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\\n' | grep -E '^(avx2|fma|avx512f|avx512bw|avx512vl|avx512_bf16)$' | tr '\\n' ' '")
lines = []
what = "PyTorch and oneDNN" if HAVE_DNNL else "PyTorch"
lines.append(f"# seqgrad vs {what} — benchmark results\n")
lines.append("Produced by `bash bench/compare.sh` (never run in CI). Ratios are **seqgrad time / reference time** "
             "(< 1: seqgrad faster). Each side runs at 1 and 2 threads and keeps its faster median; PyTorch uses "
             "`torch.set_num_threads(1|2)` (intra-op), seqgrad `tbb::global_control`"
             + (", oneDNN `omp_set_num_threads` (its CPU runtime is OpenMP)" if HAVE_DNNL else "") + ". "
             f"Training steps run in {ROUNDS} interleaved rounds of {{seqgrad, "
             + ("oneDNN, " if HAVE_DNNL else "") + "PyTorch}, so load hits every side alike; the median round is kept. "
             "The other rows come from one run (median of 5 repetitions; PyTorch: median round).\n")
if HAVE_DNNL:
    lines.append("oneDNN: its fused RNN primitives (`lstm`, `lbr_gru` = nn.GRU's form, `vanilla_rnn` tanh), f32, "
                 "forward_training + backward (diff_src, diff_weights_layer/iter, diff_bias), data tnc, weights in the "
                 "primitives' formats (`bench/bench_onednn.cpp`).\n")
lines.append("## Machine\n")
lines.append(f"- CPU: {cpu}, {os.cpu_count()} cores visible; flags: {flags}")
lines.append(f"- Compiler: {sh('g++ --version | head -1')}; build: CMake Release (-O3, -ffp-contract=off, no -march: ISA picked at run time)")
lines.append(f"- PyTorch {torch['torch_version']} (Debian python3-torch, {sh('/usr/bin/python3 --version')}), OPENBLAS_CORETYPE unset for all sides; "
             f"libblas.so.3 -> {sh('readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3') or '?'}")
if HAVE_DNNL:
    lines.append(f"- oneDNN {dnnl_context.get('onednn_version', '?')} (Debian libdnnl-dev, CPU runtime "
                 f"{dnnl_context.get('onednn_cpu_runtime', '?')})")
lines.append(f"- Load: {os.environ.get('LOAD', '?')}\n")
lines.append("## Ratio table\n")
if HAVE_DNNL:
    lines.append("| group | configuration | seqgrad | oneDNN | ratio vs oneDNN | PyTorch | ratio vs PyTorch |")
    lines.append("|---|---|---|---|---|---|---|")
else:
    lines.append("| group | configuration | seqgrad | PyTorch | ratio |")
    lines.append("|---|---|---|---|---|")


def fr(r):
    return "–" if r is None else f"{r:.2f}"


for row in rows:
    g, c, o, t, r = row[:5]
    d, dr = row[5:7] if len(row) == 7 else ("–", None)
    if HAVE_DNNL:
        lines.append(f"| {g} | {c} | {o} | {d} | {fr(dr)} | {t} | {fr(r)} |")
    else:
        lines.append(f"| {g} | {c} | {o} | {t} | {fr(r)} |")
lines.append("")
if flop_rows:
    lines.append("### Training step throughput\n")
    lines.append("GFLOP/s = 3 × forward GEMM flops of the step (2·T·B·G·H·(I+H), G = 4 / 3 / 1 gates; backward does "
                 "about twice the forward GEMM work) / time: the same work on every side, so the ratios above are "
                 "also per-flop ratios.\n")
    lines.append("| configuration | forward GEMM GFLOP | seqgrad GFLOP/s |" + (" oneDNN GFLOP/s |" if HAVE_DNNL else "")
                 + " PyTorch GFLOP/s |")
    lines.append("|---|---|---|" + ("---|" if HAVE_DNNL else "") + "---|")
    for config, fl, s_ours, s_dnnl, s_torch in flop_rows:
        g = lambda x: "–" if x is None else f"{3 * fl / x * 1e-9:.0f}"
        lines.append(f"| {config} | {fl * 1e-9:.2f} | {g(s_ours)} |" + (f" {g(s_dnnl)} |" if HAVE_DNNL else "")
                     + f" {g(s_torch)} |")
    lines.append("")
if mm:
    lines.append(f"Peak resident memory of the LSTM B64 T100 I128 H256 training step: **{mm.group(1)} MiB** above the "
                 f"pre-step baseline, vs **{mm.group(2)} MiB** of activations that reverse mode must keep "
                 f"(4 gates + c + h per step, plus x; float32).\n")
    lines.append("```\n" + mem.strip() + "\n```\n")
lines.append("## Targets\n")
lines.append("| target | goal | measured | met |")
lines.append("|---|---|---|---|")
for label, key, goal, gs in TARGETS:
    if key in ratios:
        s = ratios[key][0]
        lines.append(f"| {label} | {gs} | {fmt_t(s)} | {'yes' if s <= goal else 'no'} |")
g = gemm_best.get((64, 1024, 384), {})
if 2 in g:
    lines.append(f"| sgemm 64×1024×384, 2 threads | ≥ 210 GFLOP/s | {g[2]:.0f} GFLOP/s | {'yes' if g[2] >= 210 else 'no'} |")
lines.append("")
text = "\n".join(lines)
print(text)
if os.path.exists(out_md):  # keep a hand-written analysis section below the generated part
    old = open(out_md).read()
    marker = "<!-- analysis -->"
    if marker in old:
        text += "\n" + old[old.index(marker):]
open(out_md, "w").write(text if text.endswith("\n") else text + "\n")
