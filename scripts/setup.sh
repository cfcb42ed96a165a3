#!/usr/bin/env bash
# Installs the Debian 12 packages seqgrad needs (only those missing), then configures and builds
# everything into build/ (Release). Run by scripts/test.sh and scripts/main.sh.
#
#   bash scripts/setup.sh                              # packages + Release build
#   bash scripts/setup.sh --packages-only [EXTRA...]   # packages (plus EXTRA ones), no build
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Build toolchain and libraries, all from Debian 12; Open MPI and Boost.MPI for seqgrad::dist
# (data-parallel training; optional at configure time).
packages=(g++ cmake make libtbb-dev libboost-serialization-dev libboost-program-options-dev catch2 libbenchmark-dev gnuplot-nox
          openmpi-bin libopenmpi-dev libboost-mpi-dev)
packages_only=0
if [ "${1:-}" = "--packages-only" ]; then
  packages_only=1
  shift
  packages+=("$@")
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing missing Debian packages: ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if ((packages_only)); then exit 0; fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
