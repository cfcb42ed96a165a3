# The tiniest settings of each study, for the tests that compare whole runs (config routes, sweeps):
# SEQGRAD_ROUTE_ARGS_<study>. Set SEQGRAD_TINY_DATA first: where architecture_comparison writes its
# synthetic data (a folder per test, as tests run in parallel).
set(SEQGRAD_ROUTE_ARGS_gradient_study --T 10 --train-steps 20 --clip-steps 20 --probe-batch 8)
set(SEQGRAD_ROUTE_ARGS_long_range --lengths 12 --hidden 8 --adding-budget 64 --order-budget 64 --eval-every 32 --heldout 32)
set(SEQGRAD_ROUTE_ARGS_architecture_comparison --synthetic-data ${SEQGRAD_TINY_DATA}
    --epochs 1 --seeds 1 --hidden 4 --embed 4 --batch 8 --bptt 10 --window 6 --max-train 0 --max-eval 0
    --lm-train-chars 0 --lm-val-chars 0)
