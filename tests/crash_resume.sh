#!/usr/bin/env bash
# Kill-and-resume test: the demo trains with --checkpoint; it is stopped once with SIGTERM (which
# must write a checkpoint and exit with 143), then killed with SIGKILL at random moments (four
# times), then resumed to the end. Its output — loss curve, held-out MSE, CRC-32 of the final
# parameters — must be byte-identical to an uninterrupted run's.
#   tests/crash_resume.sh DEMO_BINARY WORK_DIR
# Each round is interrupted at a random moment between 1/20 and 1/20 + 1/8 of the uninterrupted
# run's time (T): the five rounds together train for about 0.56 T (0.875 T at most), so every round
# interrupts live training even when the machine gets faster in between, on fast and slow (ASan)
# builds alike. Exit statuses tell what really happened (kill(1) also "succeeds" on a process that
# has just finished).
set -euo pipefail
demo=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
args=(--steps 8000 --checkpoint-every 50 --seed 5)
now_ms() { echo $(($(date +%s%N) / 1000000)); }

start=$(now_ms)
"$demo" "${args[@]}" --checkpoint "$work/reference.ckpt" > "$work/reference.out"
run_ms=$(($(now_ms) - start))
min_ms=$((run_ms / 20)) window_ms=$((run_ms / 8 > 1 ? run_ms / 8 : 1))

RANDOM=$$  # different moments on every run
killed=0
for round in 1 2 3 4 5; do
  if [ "$round" -eq 1 ]; then signal=TERM; else signal=KILL; fi
  "$demo" "${args[@]}" --checkpoint "$work/run.ckpt" > /dev/null 2>> "$work/run.err" &
  pid=$!
  delay_ms=$((min_ms + RANDOM % window_ms))
  sleep "$((delay_ms / 1000)).$(printf '%03d' $((delay_ms % 1000)))"
  kill -s "$signal" "$pid" 2>/dev/null || true
  status=0
  wait "$pid" || status=$?
  echo "round $round: SIG$signal after $delay_ms ms, exit status $status" >> "$work/run.err"
  if [ "$signal" = TERM ]; then
    if [ "$status" -ne 143 ] || ! grep -q "stopped by signal 15" "$work/run.err"; then
      cat "$work/run.err" >&2
      echo "crash_resume: SIGTERM must write a checkpoint and exit with 143 (exit status $status)" >&2
      exit 1
    fi
  elif [ "$status" -eq 137 ]; then
    killed=$((killed + 1))
  fi
done
"$demo" "${args[@]}" --checkpoint "$work/run.ckpt" > "$work/run.out" 2>> "$work/run.err"
cat "$work/run.err"
if ! diff "$work/reference.out" "$work/run.out"; then
  echo "crash_resume: the resumed run differs from the uninterrupted one" >&2
  exit 1
fi
grep -q "resumed from" "$work/run.err" || { echo "crash_resume: no round resumed from a checkpoint" >&2; exit 1; }
# One round may find training finished if the machine sped up a lot; three must have been killed.
if [ "$killed" -lt 3 ]; then
  echo "crash_resume: only $killed of 4 SIGKILL rounds hit live training (run $run_ms ms)" >&2
  exit 1
fi
echo "crash_resume: SIGTERM + $killed SIGKILLs mid-training, resumed run identical: $(tail -n 1 "$work/run.out")"
