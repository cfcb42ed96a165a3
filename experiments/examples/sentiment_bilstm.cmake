# The BiLSTM sentiment classifier for one epoch on a tiny generated TSV (40 sentences; the split
# rule in data.h sends 4 to validation), so CI needs no downloaded data.
set(_dir ${SEQGRAD_SMOKE_RUNS}/sentiment_bilstm)
file(MAKE_DIRECTORY ${_dir})
file(WRITE ${_dir}/tiny.tsv "")
foreach(_i RANGE 1 20)
  file(APPEND ${_dir}/tiny.tsv "1\tgreat film I loved it ${_i} times\n0\tawful plot and boring acting ${_i}\n")
endforeach()
add_test(NAME example_sentiment_bilstm COMMAND example_sentiment_bilstm --data ${_dir}/tiny.tsv --epochs 1)
set_tests_properties(example_sentiment_bilstm PROPERTIES FAIL_REGULAR_EXPRESSION "error:"
                     PASS_REGULAR_EXPRESSION "epoch 1  train loss [0-9.]+  validation accuracy")
