# Experiment 1 in its smallest mode; --verify re-reads every CSV, metrics.json, claims.json and PNG.
add_test(NAME gradient_study_smoke COMMAND gradient_study --quick --T 10 --train-steps 20 --clip-steps 20
         --probe-batch 8 --verify --out ${SEQGRAD_SMOKE_RUNS}/gradient_study)
# Then --eval-only re-measures the networks that run saved.
add_test(NAME gradient_study_eval_only COMMAND gradient_study --eval-only --out ${SEQGRAD_SMOKE_RUNS}/gradient_study)
set_tests_properties(gradient_study_smoke PROPERTIES FIXTURES_SETUP gradient_study_run)
set_tests_properties(gradient_study_eval_only PROPERTIES FIXTURES_REQUIRED gradient_study_run)
