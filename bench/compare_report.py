#!/usr/bin/python3
"""Report half of bench/compare_pytorch.sh: joins PyTorch's timings (pytorch_reference.py JSON),
seqgrad's Google Benchmark JSON (median aggregates) and the memory program's output into one ratio
table, prints it and writes RESULTS.md.  Usage: compare_report.py torch.json ours.json memory.txt OUT.md"""
import json, os, platform, re, subprocess, sys

torch_json, ours_json, memory_txt, out_md = sys.argv[1:5]
torch = json.load(open(torch_json))
T = torch["results"]
ours_raw = json.load(open(ours_json))

# name -> {threads: (seconds, counters)} from the *_median aggregates
ours = {}
for b in ours_raw["benchmarks"]:
    if b.get("aggregate_name") != "median":
        continue
    name = b["run_name"]
    m = re.search(r"threads:(\d+)", name)
    threads = int(m.group(1)) if m else 1
    key = re.sub(r"/threads:\d+", "", name)
    key = re.sub(r"/(process_time|real_time)", "", key)
    unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
    ours.setdefault(key, {})[threads] = (b["real_time"] * unit, b)


def best(key):
    v = ours.get(key)
    if not v:
        return None, None, {}
    t = min(v, key=lambda k: v[k][0])
    return v[t][0], t, v


def fmt_t(s):
    return f"{s*1e3:.2f} ms" if s >= 1e-3 else f"{s*1e6:.2f} µs" if s >= 1e-6 else f"{s*1e9:.0f} ns"


rows = []  # (group, config, ours str, theirs str, ratio)
ratios = {}
KIND = {"lstm": 0, "gru": 1, "rnn": 2}
for kind, k in KIND.items():
    for B, Tn, I, H in [(32, 50, 64, 128), (64, 100, 128, 256), (64, 100, 256, 512)]:
        key = f"BM_train_step/cell:{k}/B:{B}/T:{Tn}/I:{I}/H:{H}"
        s, th, allv = best(key)
        ref = T.get(f"train/{kind}/B{B}_T{Tn}_I{I}_H{H}")
        if s is None or ref is None:
            continue
        detail = " / ".join(fmt_t(allv[t][0]) for t in sorted(allv))
        r = s / ref["seconds"]
        ratios[f"train_{kind}_H{H}"] = (s, ref["seconds"], r)
        rows.append(("train step", f"{kind.upper()} B{B} T{Tn} I{I} H{H} vs nn.{kind.upper()}",
                     f"{fmt_t(s)} ({detail} @1/2 thr)", f"{fmt_t(ref['seconds'])} ({ref['threads']} thr)", r))
        if kind == "lstm":
            ref2 = T.get(f"train/lstm_pyloop/B{B}_T{Tn}_I{I}_H{H}")
            if ref2:
                rows.append(("train step", f"LSTM B{B} T{Tn} I{I} H{H} vs Python-loop cell", fmt_t(s),
                             f"{fmt_t(ref2['seconds'])} ({ref2['threads']} thr)", s / ref2["seconds"]))
s, th, allv = best("BM_train_step/cell:3/B:32/T:50/I:64/H:128")
ref = T.get("train/bilstm2/B32_T50_I64_H128")
if s and ref:
    rows.append(("train step", "2-layer bidirectional LSTM B32 T50 I64 H128",
                 f"{fmt_t(s)} ({' / '.join(fmt_t(allv[t][0]) for t in sorted(allv))} @1/2 thr)",
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
lines.append("# seqgrad vs PyTorch — benchmark results\n")
lines.append("Produced by `bash bench/compare_pytorch.sh` (never run in CI). Ratios are **seqgrad time / "
             "PyTorch time** (< 1: seqgrad faster). Each side runs at 1 and 2 threads and keeps its faster median; "
             "PyTorch uses `torch.set_num_threads(1|2)` (intra-op), seqgrad `tbb::global_control`.\n")
lines.append("## Machine\n")
lines.append(f"- CPU: {cpu}, {os.cpu_count()} cores visible; flags: {flags}")
lines.append(f"- Compiler: {sh('g++ --version | head -1')}; build: CMake Release (-O3, -ffp-contract=off, no -march: ISA picked at run time)")
lines.append(f"- PyTorch {torch['torch_version']} (Debian python3-torch, {sh('/usr/bin/python3 --version')}), OPENBLAS_CORETYPE unset for both sides")
lines.append(f"- Load: {os.environ.get('LOAD', '?')}\n")
lines.append("## Ratio table\n")
lines.append("| group | configuration | seqgrad | PyTorch | ratio |")
lines.append("|---|---|---|---|---|")
for g, c, o, t, r in rows:
    lines.append(f"| {g} | {c} | {o} | {t} | {r:.2f} |")
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
