# The BiLSTM tagger for one epoch on a tiny generated word/tag file (30 sentences; the split rule in
# data.h sends 3 to validation), so CI needs no downloaded data.
set(_dir ${SEQGRAD_SMOKE_RUNS}/bilstm_tagger)
file(MAKE_DIRECTORY ${_dir})
file(WRITE ${_dir}/tiny.txt "")
foreach(_i RANGE 1 10)
  file(APPEND ${_dir}/tiny.txt "The/DET dog/NOUN runs/VERB fast/ADV ./.\n"
                               "A/DET small/ADJ cat/NOUN sleeps/VERB on/ADP the/DET mat/NOUN ./.\n"
                               "They/PRON saw/VERB ${_i}/NUM birds/NOUN ./.\n")
endforeach()
add_test(NAME example_bilstm_tagger COMMAND example_bilstm_tagger --data ${_dir}/tiny.txt --epochs 1)
set_tests_properties(example_bilstm_tagger PROPERTIES FAIL_REGULAR_EXPRESSION "error:"
                     PASS_REGULAR_EXPRESSION "epoch 1  train loss [0-9.]+  validation token accuracy")
