# The character-level GRU for one epoch on a tiny generated text (~2,600 characters), then sampling,
# so CI needs no downloaded data.
set(_dir ${SEQGRAD_SMOKE_RUNS}/char_gru)
file(MAKE_DIRECTORY ${_dir})
file(WRITE ${_dir}/tiny.txt "")
foreach(_i RANGE 1 40)
  file(APPEND ${_dir}/tiny.txt "Call me Ishmael. Some years ago, never mind how long (${_i}).\n")
endforeach()
add_test(NAME example_char_gru COMMAND example_char_gru --data ${_dir}/tiny.txt --epochs 1 --sample 40)
set_tests_properties(example_char_gru PROPERTIES FAIL_REGULAR_EXPRESSION "error:"
                     PASS_REGULAR_EXPRESSION "validation [0-9.]+ bits/char.*sample")
