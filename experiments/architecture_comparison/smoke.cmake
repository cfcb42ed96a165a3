# Experiment 2 in its smallest mode on tiny generated files (--synthetic-data writes them into the
# scratch folder first; the real datasets are not needed); --verify re-reads every CSV,
# metrics.json, claims.json and PNG. Then resume_check.cmake reruns it with --resume (nothing
# retrained, metrics.json bitwise equal) and with --eval-only (the saved models' test metrics equal).
set(SEQGRAD_AC_ARGS --quick --synthetic-data ${SEQGRAD_SMOKE_RUNS}/architecture_comparison_data
    --epochs 2 --seeds 2 --hidden 8 --embed 8 --batch 8 --bptt 10 --window 6 --max-train 0 --max-eval 0
    --lm-train-chars 0 --lm-val-chars 0 --out ${SEQGRAD_SMOKE_RUNS}/architecture_comparison)
add_test(NAME architecture_comparison_smoke COMMAND architecture_comparison ${SEQGRAD_AC_ARGS} --verify)
set_tests_properties(architecture_comparison_smoke PROPERTIES FIXTURES_SETUP architecture_comparison_run)
string(REPLACE ";" "|" SEQGRAD_AC_ARGS_TEXT "${SEQGRAD_AC_ARGS}")
add_test(NAME architecture_comparison_resume_and_eval
         COMMAND ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:architecture_comparison> "-DARGS=${SEQGRAD_AC_ARGS_TEXT}"
                 -DRUNS=${SEQGRAD_SMOKE_RUNS}/architecture_comparison/architecture_comparison
                 -P ${CMAKE_CURRENT_LIST_DIR}/resume_check.cmake)
set_tests_properties(architecture_comparison_resume_and_eval PROPERTIES FIXTURES_REQUIRED architecture_comparison_run)
