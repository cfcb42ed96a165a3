# Experiment 2 in its smallest mode on tiny generated files (--synthetic-data writes them into the
# scratch folder first; the real datasets are not needed); --verify re-reads every CSV,
# metrics.json, claims.json and PNG.
add_test(NAME architecture_comparison_smoke
         COMMAND architecture_comparison --quick --synthetic-data ${SEQGRAD_SMOKE_RUNS}/architecture_comparison_data
                 --epochs 2 --seeds 2 --hidden 8 --embed 8 --batch 8 --bptt 10 --window 6 --max-train 0 --max-eval 0
                 --lm-train-chars 0 --lm-val-chars 0 --verify --out ${SEQGRAD_SMOKE_RUNS}/architecture_comparison)
