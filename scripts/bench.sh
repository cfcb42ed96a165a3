#!/usr/bin/env bash
# Builds and runs the benchmark suite with its same-run references. Installs Debian's OpenBLAS
# (the GEMM reference) if missing and unsets OPENBLAS_CORETYPE, which would otherwise pin
# OpenBLAS to slower AVX2 kernels; seqgrad itself never reads that variable.
# Extra arguments go to Google Benchmark, e.g. --benchmark_filter=tape.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! dpkg-query -W -f='${Status}' libopenblas-dev 2>/dev/null | grep -q "install ok installed"; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends libopenblas-dev
fi
bash scripts/setup.sh
env -u OPENBLAS_CORETYPE ./build/bench/seqgrad_bench --benchmark_min_time=0.5 "$@"
