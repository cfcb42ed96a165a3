# Experiment 3 in its smallest mode (both tasks, 3 cells, T = 12, a few training steps, 32 held-out
# sequences); --verify re-reads every CSV, metrics.json, claims.json and PNG.
add_test(NAME long_range_smoke COMMAND long_range --quick --lengths 12 --hidden 8 --adding-budget 64 --order-budget 64
         --eval-every 32 --heldout 32 --verify --out ${SEQGRAD_SMOKE_RUNS}/long_range)
# Then --eval-only re-evaluates the models that run saved on their held-out sets.
add_test(NAME long_range_eval_only COMMAND long_range --eval-only --out ${SEQGRAD_SMOKE_RUNS}/long_range)
set_tests_properties(long_range_smoke PROPERTIES FIXTURES_SETUP long_range_run)
set_tests_properties(long_range_eval_only PROPERTIES FIXTURES_REQUIRED long_range_run)
# Killed by SIGKILL mid-training, then --resume: continues from the partial checkpoint, same metrics.
add_test(NAME long_range_kill_resume COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/kill_resume.sh $<TARGET_FILE:long_range>
                                             ${SEQGRAD_SMOKE_RUNS}/long_range_kill_resume)
set_tests_properties(long_range_kill_resume PROPERTIES TIMEOUT 120)
