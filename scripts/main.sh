#!/usr/bin/env bash
# Command 1 of the README: set up, fetch the data, build, run the experiments suite and write its
# report. Quick suite by default (≤ 10 minutes on 2 cores, data fetch excluded); --full for the
# paper-sized runs.
#
#   bash scripts/main.sh                 # quick suite -> runs/report.md
#   bash scripts/main.sh --full          # full suite (hours; see README) -> runs/report.md
#   bash scripts/main.sh --out DIR --seed N --threads N
#
# Each experiment writes its run folders under DIR/<program>/ (config, environment, CSV/JSON
# metrics, checkpoints, plots); `report` then collects them into DIR/report.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

mode=(--quick)
out=runs
common=()
while (($#)); do
  case "$1" in
    --full) mode=() ;;
    --quick) mode=(--quick) ;;
    --out) out=${2:?--out needs a folder}; shift ;;
    --seed|--threads) common+=("$1" "${2:?$1 needs a value}"); shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "main.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

bash scripts/setup.sh
bash scripts/fetch_data.sh

programs=(gradient_study architecture_comparison long_range)
start=$(date +%s)
mkdir -p "$out"
for p in "${programs[@]}"; do
  echo "== $p ${mode[*]}"
  t0=$(date +%s)
  rm -rf "${out:?}/$p"  # a run folder holds exactly one run: no stale files from an earlier config
  "./build/experiments/$p" "${mode[@]}" "${common[@]}" --out "$out"
  echo "== $p: $(($(date +%s) - t0)) s"
done
./build/experiments/report --runs "$out" --out "$out/report.md"
echo "== suite done in $(($(date +%s) - start)) s: $out/report.md"
