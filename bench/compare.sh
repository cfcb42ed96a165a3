#!/usr/bin/env bash
# Side-by-side with PyTorch on this machine (never run in CI): installs Debian's python3-torch if
# missing, times the same configurations in PyTorch (nn.LSTM/GRU/RNN and a Python-loop LSTM cell,
# each with 1 and with 2 intra-op threads, the faster kept) and in seqgrad (1 and 2 threads, the
# faster kept), prints one table of ratios (ours / theirs, time: < 1 means seqgrad is faster) and
# writes bench/RESULTS.md with the machine description.
#   bash bench/compare_pytorch.sh [build-dir]     (default: build, configured by scripts/setup.sh)
# OPENBLAS_CORETYPE is unset for both sides: it would pin PyTorch's OpenBLAS to slower kernels.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD=${1:-build}
PY=/usr/bin/python3  # Debian's python3-torch is installed for the system interpreter only
if ! "$PY" -c "import torch" 2>/dev/null; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-torch
fi
if [ ! -x "$BUILD/bench/seqgrad_bench" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$BUILD" -j2 --target seqgrad_bench seqgrad_bench_memory

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
echo "load before: $(uptime)"
echo "== PyTorch"
env -u OPENBLAS_CORETYPE "$PY" bench/pytorch_reference.py > "$OUT/torch.json"
echo "== seqgrad"
env -u OPENBLAS_CORETYPE "$BUILD/bench/seqgrad_bench" \
  --benchmark_filter='BM_train_step|BM_lstm_stream_step|BM_tape_overhead/1000$|BM_gemm<float>|BM_openblas_gemm<float>|BM_kernel' \
  --benchmark_repetitions=5 --benchmark_report_aggregates_only=true --benchmark_min_time=0.2 \
  --benchmark_format=json --benchmark_out="$OUT/ours.json" --benchmark_out_format=json > /dev/null
"$BUILD/bench/seqgrad_bench_memory" > "$OUT/memory.txt"
echo "load after: $(uptime)"
LOAD="$(uptime)" "$PY" bench/compare_report.py "$OUT/torch.json" "$OUT/ours.json" "$OUT/memory.txt" bench/RESULTS.md
