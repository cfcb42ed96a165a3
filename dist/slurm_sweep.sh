#!/usr/bin/env bash
# A distributed sweep on a Slurm cluster: one experiment program (here long_range at full size) whose
# trainings are divided across the ranks, longest first (experiments/common/sweep.h):
#
#   sbatch dist/slurm_sweep.sh            # from the repository, after bash scripts/setup.sh
#
# Every rank runs the same program with the same options (a mismatch is an error on every rank); rank
# 0 writes runs/ (metrics.json and CSVs bitwise those of a single-process run), the others only their
# finished trainings into <run>/units/. Each rank trains its units on the node's cores through TBB.
#SBATCH --job-name=seqgrad-sweep
#SBATCH --nodes=4
#SBATCH --ntasks-per-node=1      # one rank per node
#SBATCH --cpus-per-task=16       # the rank's TBB threads
#SBATCH --time=04:00:00
#SBATCH --output=sweep-%j.out
#SBATCH --requeue                # a requeued job continues with --resume below
set -euo pipefail

# The run folder must be on a file system every node sees (home or a parallel file system, not the
# node-local /tmp): every rank saves its finished trainings there, and reads the others' back.
out=${SLURM_SUBMIT_DIR:-$PWD}/runs

# --resume: trainings finished by an earlier (killed, timed-out or requeued) job are read back, not
# redone; a training cut off midway starts over. On the first start it finds nothing and trains all.
# --kill-on-bad-exit: one rank failing ends the job, instead of leaving the others waiting for it.
srun --mpi=pmix --kill-on-bad-exit=1 ./build/experiments/long_range \
  --config experiments/long_range/full.ini --out "$out" --resume
