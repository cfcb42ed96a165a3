#!/usr/bin/env bash
# Command 1 of the README: set up, build, and run the main job. Until the experiments suite lands
# (issue: experiments), the main job is the demo: a recurrent network written as expressions,
# trained on the adding problem, with its loss curve. Extra arguments go to the demo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
./build/experiments/seqgrad_demo "$@"
