#!/usr/bin/env bash
# Command 1 of the README: set up, fetch the data, build, run the experiments suite and write its
# report. Quick suite by default (≤ 10 minutes on 2 cores, data fetch excluded); --full for the
# paper-sized runs.
#
#   bash scripts/main.sh                 # quick suite -> runs/report.md (starts afresh every time)
#   bash scripts/main.sh --full          # full suite (hours; see README) -> runs-full/report.md
#   bash scripts/main.sh --full --restart   # the full suite afresh (deletes runs-full first)
#   bash scripts/main.sh --out DIR --seed N --threads N
#
# Each experiment writes its run folders under DIR/<program>/ (config, environment, CSV/JSON
# metrics, checkpoints, plots); `report` then collects them into DIR/report.md. The full suite
# resumes: stopped at any moment (even SIGKILL) and started again, every program skips the trainings
# it finished (<run>/units/) and continues an interrupted one from its last evaluation, ending on
# the same bits as an uninterrupted run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

mode=(--quick)
out=""
restart=false
common=()
while (($#)); do
  case "$1" in
    --full) mode=() ;;
    --quick) mode=(--quick) ;;
    --restart) restart=true ;;
    --out) out=${2:?--out needs a folder}; shift ;;
    --seed|--threads) common+=("$1" "${2:?$1 needs a value}"); shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "main.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

full=false
if [ ${#mode[@]} -eq 0 ]; then full=true; fi
if [ -z "$out" ]; then
  if $full; then out=runs-full; else out=runs; fi
fi
if $full && $restart; then rm -rf "${out:?}"; fi

bash scripts/setup.sh
bash scripts/fetch_data.sh

programs=(gradient_study architecture_comparison long_range)
start=$(date +%s)
mkdir -p "$out"
for p in "${programs[@]}"; do
  echo "== $p ${mode[*]}"
  t0=$(date +%s)
  if $full; then
    # Resume: finished trainings are read back, an interrupted one continues from its checkpoint.
    if ! "./build/experiments/$p" "${common[@]}" --out "$out" --resume; then
      echo "main.sh: $p failed. If it says a unit was written under another configuration, the folder" \
           "$out holds an earlier full run with other settings: use --restart (deletes it) or --out DIR." >&2
      exit 1
    fi
  else
    rm -rf "${out:?}/$p"  # a run folder holds exactly one run: no stale files from an earlier config
    "./build/experiments/$p" "${mode[@]}" "${common[@]}" --out "$out"
  fi
  echo "== $p: $(($(date +%s) - t0)) s"
done
./build/experiments/report --runs "$out" --out "$out/report.md"
echo "== suite done in $(($(date +%s) - start)) s: $out/report.md"
