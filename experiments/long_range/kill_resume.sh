#!/usr/bin/env bash
# long_range killed (SIGKILL) in the middle of a training, then started again with --resume, must end
# with the metrics.json and CSVs of a run never interrupted, having continued that training from its
# partial checkpoint (units/<key>.partial.sgck) rather than from scratch. Run by CTest:
#   kill_resume.sh <long_range binary> <work dir>
set -euo pipefail
bin=$1 work=$2
rm -rf "$work"
mkdir -p "$work"
# One LSTM training of the adding problem (T = 20, 1,280 sequences, evaluated every 64: 21 evaluations).
args=(--tasks adding --cells lstm --lengths 20 --seeds 1 --hidden 8 --adding-budget 1280 --eval-every 64
      --heldout 32 --threads 1)
"$bin" "${args[@]}" --out "$work/whole" > "$work/whole.log" 2>&1

# Killed right after the 5th evaluation (its checkpoint written): the process must die by SIGKILL.
status=0
SEQGRAD_KILL_AT_EVALUATION=5 "$bin" "${args[@]}" --out "$work/killed" > "$work/killed.log" 2>&1 || status=$?
[ "$status" -eq 137 ] || { echo "FAIL: expected death by SIGKILL (137), got status $status" >&2; exit 1; }
partial=$(find "$work/killed" -name '*.partial.sgck' | head -1)
[ -n "$partial" ] || { echo "FAIL: no partial checkpoint after the kill" >&2; exit 1; }

# Resumed from the 5th evaluation, this process evaluates 16 more times; one that started over would
# evaluate 21 times, so the hook at 17 kills it and the test fails.
SEQGRAD_KILL_AT_EVALUATION=17 "$bin" "${args[@]}" --out "$work/killed" --resume > "$work/resumed.log" 2>&1 ||
  { echo "FAIL: the resumed run did not finish (status $?; killed at a 17th evaluation means it started over)" >&2
    exit 1; }
for f in metrics.json metrics/curves.csv metrics/summary.csv; do
  a=$(find "$work/whole" -path "*/$f" | head -1)
  b=$(find "$work/killed" -path "*/$f" | head -1)
  [ -n "$a" ] && [ -n "$b" ] || { echo "FAIL: $f missing" >&2; exit 1; }
  cmp "$a" "$b" || { echo "FAIL: $f differs after kill and resume" >&2; exit 1; }
done
if find "$work/killed" -name '*.partial.sgck' | grep -q .; then
  echo "FAIL: the partial checkpoint was left behind" >&2
  exit 1
fi
echo "kill_resume: killed after evaluation 5 of 21, resumed from its checkpoint; same metrics as the uninterrupted run"
