#!/usr/bin/env bash
# Data-parallel training of the example (dist/examples/train_dp.cpp) on a Slurm cluster:
#
#   sbatch dist/slurm_example.sh          # from the repository, after bash scripts/setup.sh
#
# One MPI rank per node, each using the node's cores through TBB. The step is defined over a FIXED
# number of micro-batches (GLOBAL_MICRO_BATCHES below); each rank runs GLOBAL / ranks of them, so the
# trained parameters are bitwise the same whatever the number of nodes, and a requeued job may
# resume its checkpoint on a different allocation size.
#SBATCH --job-name=seqgrad-dp
#SBATCH --nodes=2                # any divisor of GLOBAL_MICRO_BATCHES
#SBATCH --ntasks-per-node=1      # one rank per node
#SBATCH --cpus-per-task=16       # the rank's TBB threads
#SBATCH --time=01:00:00
#SBATCH --output=train_dp-%j.out
#SBATCH --signal=TERM@120        # 2 minutes before the time limit: every rank checkpoints and stops
#SBATCH --requeue                # a requeued job resumes from the checkpoint
set -euo pipefail

GLOBAL_MICRO_BATCHES=8
ranks=${SLURM_NTASKS:-1}
if ((GLOBAL_MICRO_BATCHES % ranks != 0)); then
  echo "slurm_example: $ranks ranks do not divide $GLOBAL_MICRO_BATCHES micro-batches" >&2
  exit 2
fi

# The checkpoint must be on a file system every node sees (home or a parallel file system, not the
# node-local /tmp): rank 0 writes it, every rank reads it on resume.
checkpoint=${SLURM_SUBMIT_DIR:-$PWD}/train_dp.ckpt

# srun starts the ranks through Slurm's PMI; Debian's Open MPI 4.1 supports PMIx (--mpi=pmix). Where
# srun is not wired to MPI, `mpirun ./build/dist/train_dp ...` inside the allocation also works.
srun --mpi=pmix ./build/dist/train_dp \
  --steps 5000 --micro-batches $((GLOBAL_MICRO_BATCHES / ranks)) --batch 32 --length 100 --hidden 256 \
  --checkpoint "$checkpoint" --every 100
