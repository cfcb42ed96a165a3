#!/usr/bin/env bash
# Command 2 of the README: set up, build, and run the whole test suite through CTest — twice:
# the Release build (what users run), then the same suite built with AddressSanitizer +
# UndefinedBehaviorSanitizer (build-asan/, -O1), where any leak, overflow, use-after-free or UB
# fails the test that triggered it. SEQGRAD_TEST_SANITIZE=0 skips the second pass (a quick local run).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
ctest --test-dir build --output-on-failure -j"$(nproc)"

if [ "${SEQGRAD_TEST_SANITIZE:-1}" != "0" ]; then
  echo "== the same suite under ASan + UBSan (build-asan)"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O1 -DSEQGRAD_SANITIZE=address \
    -DSEQGRAD_BUILD_BENCH=OFF >/dev/null
  cmake --build build-asan -j"$(nproc)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j"$(nproc)"
fi
