#!/usr/bin/env bash
# Command 2 of the README: set up, build, and run the whole test suite through CTest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
ctest --test-dir build --output-on-failure -j"$(nproc)"
