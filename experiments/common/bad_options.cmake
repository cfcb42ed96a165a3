# Bad options given to the real programs (each checks its own options in main): every run must stop
# before doing any work, with ONE line "error: <option>: <problem>" and exit code 2. The shared
# option machinery and everything else on the issue's bad-input list: tests/test_bad_input.cpp.
set(_dir ${SEQGRAD_SMOKE_RUNS}/bad_options)
file(MAKE_DIRECTORY ${_dir})
file(WRITE ${_dir}/unknown_key.ini "hidden = 8\nhiden = 3\n")
file(WRITE ${_dir}/nan_lr.ini "lr = nan\n")
# label | program | arguments | the message after "error: " (a regular expression)
set(_cases
  "zero_hidden|gradient_study|--hidden 0|--hidden: must be > 0, got 0"
  "short_T|gradient_study|--T 1|--T: must be >= 2, got 1"
  "negative_rho|gradient_study|--clip-rho -1|--clip-rho: must be >= 0, got -1"
  "negative_rhos|gradient_study|--rhos=-0.5,1|--rhos: must be >= 0, got -0.5"
  "negative_theta|gradient_study|--thetas=0,-1|--thetas: must be >= 0, got -1"
  "infinite_forget_bias|gradient_study|--forget-bias inf|--forget-bias: invalid value 'inf': must be a finite number"
  "negative_batch|long_range|--batch -1|--batch: must be > 0, got -1"
  "short_length|long_range|--lengths 5|--lengths: each length must be a whole number in 10..1000000, got '5' in '5'"
  "zero_lr|long_range|--lr-lstm 0|--lr-lstm: must be > 0, got 0"
  "negative_clip|long_range|--clip -1|--clip: must be finite and >= 0 \\(0 = off\\), got -1"
  "unknown_option|long_range|--hiden 3|unrecognised option '--hiden'"
  "stray_argument|long_range|64|unexpected argument '64' \\(options are written --name value\\)"
  "unknown_config_key|long_range|--config ${_dir}/unknown_key.ini|unrecognised option 'hiden' \\(in config file [^\n]*unknown_key.ini\\)"
  "zero_seeds|architecture_comparison|--seeds 0|--seeds: must be > 0, got 0"
  "negative_epochs|architecture_comparison|--epochs -1|--epochs: must be > 0, got -1"
  "negative_max_train|architecture_comparison|--max-train -1|--max-train: must be >= 0 \\(0 = all\\), got -1"
  "nan_lr_config|architecture_comparison|--config ${_dir}/nan_lr.ini|--lr: invalid value 'nan': must be a finite number \\(in config file [^\n]*nan_lr.ini\\)"
  "prefix_is_not_an_option|gradient_study|--hid 8|unrecognised option '--hid'"
  "unknown_demo_option|seqgrad_demo|--bogus|demo: unknown option '--bogus' \\(see --help\\)"
  "runs_not_a_folder|report|--runs /bin/ls|report: --runs /bin/ls: not a folder[^\n]*"
  "missing_data|architecture_comparison|--tasks sentiment --data-sentiment ${_dir}/absent.tsv|[^\n]*absent.tsv: file not found")
foreach(_case IN LISTS _cases)
  string(REPLACE "|" ";" _fields "${_case}")
  list(GET _fields 0 _label)
  list(GET _fields 1 _program)
  list(GET _fields 2 _arguments)
  list(GET _fields 3 _message)
  separate_arguments(_arguments UNIX_COMMAND "${_arguments}")
  # sh prints the exit code after the program's output, so one regular expression checks both.
  add_test(NAME bad_option_${_program}_${_label}
           COMMAND sh -c "\"$0\" \"$@\" 2>&1; echo \"exit $?\"" $<TARGET_FILE:${_program}> ${_arguments} --out ${_dir})
  set_tests_properties(bad_option_${_program}_${_label} PROPERTIES
                       PASS_REGULAR_EXPRESSION "^error: ${_message}\nexit 2\n$" TIMEOUT 60)
endforeach()
