#!/usr/bin/env bash
# Fuzzes every parser of outside input with libFuzzer + ASan + UBSan (clang from Debian), never in
# CI: checkpoint, safetensors, the five data loaders (sentiment JSON, TSV, word/tag, text, series
# CSV), the .ini config parser and the report's JSON reader (tests/fuzz/fuzz_parsers.cpp).
#
#   bash scripts/fuzz.sh                   # every target, 60 s each
#   bash scripts/fuzz.sh 600 checkpoint    # one target, 10 minutes
#   SEQGRAD_FUZZ_RUNS=1000000 bash scripts/fuzz.sh 600   # each target: 1 M executions or 10 minutes
#
# Seeds: valid files written by our own writers (fuzz_make_seeds). The growing corpus lives in
# build-fuzz/corpus/<target>/, crash/leak/timeout inputs in build-fuzz/artifacts/<target>/; a
# finding becomes a regression test with that input (see README, "Reliability").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds=${1:-60}
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then targets=(checkpoint safetensors sentiment tsv tagged text series config json); fi

bash scripts/setup.sh --packages-only clang libclang-rt-14-dev

cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang \
  -DSEQGRAD_FUZZ=ON -DSEQGRAD_SANITIZE=address -DSEQGRAD_BUILD_TESTS=OFF -DSEQGRAD_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz_make_seeds "${targets[@]/#/fuzz_}"
./build-fuzz/tests/fuzz/fuzz_make_seeds build-fuzz/seeds >/dev/null

summary=()
status=0
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t" "build-fuzz/artifacts/$t"
  log="build-fuzz/artifacts/$t/last.log"
  echo "== fuzz_$t: $seconds s"
  result=clean
  # -timeout: one input taking 10 s is a hang; -rss_limit_mb: a 2 GB allocation is a finding.
  if ! "./build-fuzz/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -runs="${SEQGRAD_FUZZ_RUNS:--1}" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$t/" \
      "build-fuzz/corpus/$t" "build-fuzz/seeds/$t" >"$log" 2>&1; then
    result="FINDING (see $log and build-fuzz/artifacts/$t/)"
    status=1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  summary+=("$(printf '%-12s %12s executions  corpus %5s files  %s' "$t" "$runs" "$(ls "build-fuzz/corpus/$t" | wc -l)" "$result")")
done
printf '%s\n' "== summary (${seconds} s per target)" "${summary[@]}"
exit $status
