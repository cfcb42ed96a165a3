#!/usr/bin/env bash
# A rank killed mid-run: the job must fail (non-zero exit, no hang), and a restart must resume from
# rank 0's last checkpoint and end with the same parameters as an uninterrupted run. Then a
# checkpoint written at 2 ranks must resume in 1 process with 2 micro-batches, to the same end.
#
#   crash_resume.sh WORK_DIR TRAIN_DP MPIEXEC NUMPROC_FLAG [MPIEXEC FLAGS...]
set -euo pipefail
work=$1 train=$2 mpiexec=$3 np_flag=$4
shift 4
flags=("$@")
rm -rf "$work"
mkdir -p "$work"
on() { local n=$1; shift; "$mpiexec" "$np_flag" "$n" "${flags[@]}" "$train" "$@"; }
fail() { echo "crash_resume: $*" >&2; exit 1; }
digest() { sed -n 's/^final parameters digest \([0-9a-f]*\)$/\1/p' "$1"; }
common=(--steps 12 --every 3 --batch 4 --length 8 --hidden 8)

on 2 "${common[@]}" --checkpoint "$work/ref.ckpt" > "$work/ref.out"
reference=$(digest "$work/ref.out")
[ -n "$reference" ] || fail "the uninterrupted run printed no digest (see $work/ref.out)"

# Rank 1 kills itself (SIGKILL) at step 7; rank 0 has checkpointed step 6.
status=0
timeout 60 "$mpiexec" "$np_flag" 2 "${flags[@]}" "$train" "${common[@]}" --checkpoint "$work/crash.ckpt" \
  --abort-rank 1 --abort-at-step 7 > "$work/killed.out" 2>&1 || status=$?
[ "$status" -ne 0 ] || fail "the job with a killed rank exited 0"
[ "$status" -ne 124 ] || fail "the job with a killed rank hung (timeout)"
! grep -q '^final parameters' "$work/killed.out" || fail "the job with a killed rank finished training"
echo "killed run: mpiexec exited with $status"

on 2 "${common[@]}" --checkpoint "$work/crash.ckpt" > "$work/restart.out"
grep -q "at step 6$" "$work/restart.out" || fail "the restart did not resume at step 6 (see $work/restart.out)"
[ "$(digest "$work/restart.out")" = "$reference" ] || fail "restart digest $(digest "$work/restart.out") != $reference"
echo "restart after the kill: digest $reference, as uninterrupted"

# 2 ranks x 1 micro-batch for 6 steps, then 1 process x 2 micro-batches to step 12.
on 2 "${common[@]}" --steps 6 --checkpoint "$work/half.ckpt" > "$work/half1.out"
on 1 "${common[@]}" --micro-batches 2 --checkpoint "$work/half.ckpt" > "$work/half2.out"
grep -q "at step 6$" "$work/half2.out" || fail "the 1-process run did not resume at step 6 (see $work/half2.out)"
[ "$(digest "$work/half2.out")" = "$reference" ] || fail "2 -> 1 rank digest $(digest "$work/half2.out") != $reference"
echo "2 ranks -> 1 process: digest $reference, as uninterrupted"
