#!/usr/bin/env bash
# Kill-and-resume test: the demo trains with --checkpoint; it is killed with SIGKILL at random
# moments (several times), stopped once with SIGTERM (which must checkpoint and exit with 143),
# then resumed to the end. Its output — loss curve, held-out MSE, CRC-32 of the final parameters —
# must be byte-identical to an uninterrupted run's.
#   tests/crash_resume.sh DEMO_BINARY WORK_DIR
set -euo pipefail
demo=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
args=(--steps 8000 --checkpoint-every 50 --seed 5)

"$demo" "${args[@]}" --checkpoint "$work/reference.ckpt" > "$work/reference.out"

RANDOM=$$  # different kill moments on every run
kills=0
for i in 1 2 3 4 5; do
  "$demo" "${args[@]}" --checkpoint "$work/run.ckpt" > /dev/null 2>> "$work/run.err" &
  pid=$!
  sleep "0.$((RANDOM % 5 + 1))"
  if [ "$i" -eq 5 ]; then signal=TERM; else signal=KILL; fi
  if kill -s "$signal" "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
  status=0
  wait "$pid" || status=$?
  echo "round $i: SIG$signal, exit status $status" >> "$work/run.err"
  if [ "$signal" = TERM ] && [ "$status" -ne 143 ] && [ "$status" -ne 0 ]; then
    echo "crash_resume: after SIGTERM the demo exited with $status, expected 143 (or 0 if it had finished)" >&2
    exit 1
  fi
done
"$demo" "${args[@]}" --checkpoint "$work/run.ckpt" > "$work/run.out" 2>> "$work/run.err"
cat "$work/run.err"
if ! diff "$work/reference.out" "$work/run.out"; then
  echo "crash_resume: the resumed run differs from the uninterrupted one" >&2
  exit 1
fi
grep -q "resumed from" "$work/run.err" || { echo "crash_resume: no round resumed from a checkpoint" >&2; exit 1; }
echo "crash_resume: $kills interruptions, resumed run identical: $(tail -n 1 "$work/run.out")"
