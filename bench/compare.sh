#!/usr/bin/env bash
# Side by side with PyTorch and oneDNN on this machine (never run in CI). Installs Debian's
# python3-torch, libopenblas-dev and libdnnl-dev if missing, then times the training step of the standard cells in
# ROUNDS interleaved rounds of {seqgrad, oneDNN's fused RNN primitives, PyTorch} so load on the
# machine hits every side alike, and keeps the median round per case (each side at 1 and 2
# threads, the faster kept). The other suites (streaming, tape, sgemm, kernels, memory) run once.
# Prints one table of ratios (ours / theirs, time: < 1 means seqgrad is faster) and writes
# bench/RESULTS.md with the machine description. The oneDNN columns appear only when the
# seqgrad_bench_onednn target was built (bench/CMakeLists.txt: when oneDNN is found).
#   bash bench/compare.sh [build-dir]     (default: build, configured by scripts/setup.sh)
#   ROUNDS=5 bash bench/compare.sh        (default 3 rounds)
#   RESULTS=/tmp/r.md bash bench/compare.sh   (write the report elsewhere, e.g. for a trial run)
# OPENBLAS_CORETYPE is unset for every side: it would pin PyTorch's OpenBLAS to slower kernels.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD=${1:-build}
ROUNDS=${ROUNDS:-3}
RESULTS=${RESULTS:-bench/RESULTS.md}
PY=/usr/bin/python3  # Debian's python3-torch is installed for the system interpreter only
missing=()
if ! "$PY" -c "import torch" 2>/dev/null; then missing+=(python3-torch); fi
# OpenBLAS too: without it python3-torch (installed without recommends) gets the reference BLAS
# through libblas.so.3 and nn.LSTM runs ~20x slower (2.8 s instead of ~0.15 s at B64 T100 H256).
for pkg in libopenblas-dev libdnnl-dev; do
  if ! dpkg-query -W -f='${Status}' $pkg 2>/dev/null | grep -q "install ok installed"; then missing+=($pkg); fi
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release
else
  cmake "$BUILD" > /dev/null  # re-detects oneDNN if it was just installed
fi
cmake --build "$BUILD" -j2 --target seqgrad_bench seqgrad_bench_memory
DNNL=""
if grep -qs seqgrad_bench_onednn "$BUILD/build.ninja" "$BUILD/bench/Makefile"; then
  cmake --build "$BUILD" -j2 --target seqgrad_bench_onednn
  DNNL="$BUILD/bench/seqgrad_bench_onednn"
  # Same step as seqgrad at a tiny shape: outputs and every gradient must agree before timing.
  if ! "$DNNL" --check; then
    echo "oneDNN --check failed: no oneDNN columns" >&2
    DNNL=""
  fi
else
  echo "seqgrad_bench_onednn not built (oneDNN not found): no oneDNN columns"
fi

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
# One round = each side once with a short minimum time; rounds interleave the sides.
TRAIN_FLAGS=(--benchmark_min_time=0.3 --benchmark_format=json --benchmark_out_format=json)
echo "load before: $(uptime)"
for r in $(seq 1 "$ROUNDS"); do
  echo "== round $r/$ROUNDS: seqgrad train step"
  env -u OPENBLAS_CORETYPE "$BUILD/bench/seqgrad_bench" --benchmark_filter='BM_train_step' "${TRAIN_FLAGS[@]}" \
    --benchmark_out="$OUT/ours_train_$r.json" > /dev/null
  if [ -n "$DNNL" ]; then
    echo "== round $r/$ROUNDS: oneDNN train step"
    env -u OPENBLAS_CORETYPE "$DNNL" "${TRAIN_FLAGS[@]}" --benchmark_out="$OUT/onednn_$r.json" > /dev/null
  fi
  echo "== round $r/$ROUNDS: PyTorch"
  env -u OPENBLAS_CORETYPE "$PY" bench/pytorch_reference.py 3 > "$OUT/torch_$r.json"
done
echo "== seqgrad: streaming, tape, sgemm, kernels"
env -u OPENBLAS_CORETYPE "$BUILD/bench/seqgrad_bench" \
  --benchmark_filter='BM_lstm_stream_step|BM_tape_overhead/1000$|BM_gemm<float>|BM_openblas_gemm<float>|BM_kernel' \
  --benchmark_repetitions=5 --benchmark_report_aggregates_only=true --benchmark_min_time=0.2 \
  --benchmark_format=json --benchmark_out="$OUT/ours_rest.json" --benchmark_out_format=json > /dev/null
"$BUILD/bench/seqgrad_bench_memory" > "$OUT/memory.txt"
echo "load after: $(uptime)"
ONEDNN_ARGS=()
if [ -n "$DNNL" ]; then ONEDNN_ARGS=(--onednn "$OUT"/onednn_*.json); fi
LOAD="$(uptime)" "$PY" bench/compare_report.py --torch "$OUT"/torch_*.json --ours "$OUT"/ours_*.json \
  "${ONEDNN_ARGS[@]}" --memory "$OUT/memory.txt" --out "$RESULTS"
