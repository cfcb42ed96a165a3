# Issue 14: a distributed sweep writes what a single process writes. Runs PROGRAM with the tiny ARGS
# ('|'-separated) and, under MPIEXEC with its process-count flag NP and MPIFLAGS ('|'-separated,
# e.g. --oversubscribe|--allow-run-as-root) on 2 ranks, checks by MODE:
#   compare   once single-process, once on 2 ranks: every metrics.json and metrics/*.csv but
#             timing.csv (wall-clock numbers) byte-identical, and the same set of them.
#   kill      on 2 ranks with rank 1 SIGKILLed after its first unit (SEQGRAD_SWEEP_KILL): the job must
#             fail within the timeout, having saved units; the restart with --resume must complete
#             and match a single-process run.
#   mismatch  rank 0 with --seed 1, rank 1 with --seed 2 (MPMD): the job must fail within the timeout,
#             and both ranks must say which option differs.
# Usage: cmake -DPROGRAM=... -DARGS=... -DMPIEXEC=... -DNP=-n -DMPIFLAGS=... -DWORK=dir -DMODE=compare
#        -P sweep_check.cmake
cmake_minimum_required(VERSION 3.25)
string(REPLACE "|" ";" ARGS "${ARGS}")
string(REPLACE "|" ";" MPIFLAGS "${MPIFLAGS}")
set(MPIRUN ${MPIEXEC} ${MPIFLAGS} ${NP} 2)
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
get_filename_component(name ${PROGRAM} NAME)
set(timeout 60)

# Runs the command line in ARGN with --out WORK/<label>; `expect` is "ok" or "fail".
function(run label expect)
  execute_process(COMMAND ${ARGN} --out ${WORK}/${label} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err
                  TIMEOUT ${timeout})
  set(err "${err}" PARENT_SCOPE)
  if(rc MATCHES "timeout")
    message(FATAL_ERROR "${name} (${label}) hung: no exit within ${timeout} s\n${err}")
  elseif(expect STREQUAL "ok" AND NOT rc EQUAL 0)
    message(FATAL_ERROR "${name} (${label}) failed with ${rc}:\n${err}")
  elseif(expect STREQUAL "fail" AND rc EQUAL 0)
    message(FATAL_ERROR "${name} (${label}) exited 0; it should have failed")
  endif()
endfunction()

# Every metrics.json and metrics/*.csv but timing.csv under `dir`, relative to it.
function(results dir out_var)
  file(GLOB_RECURSE files RELATIVE ${dir} ${dir}/*)
  list(FILTER files INCLUDE REGEX "(/metrics\\.json|/metrics/[^/]+\\.csv)$")
  list(FILTER files EXCLUDE REGEX "/timing\\.csv$")
  list(SORT files)
  set(${out_var} "${files}" PARENT_SCOPE)
endfunction()

# WORK/<a> and WORK/<b> hold the same results, byte for byte.
function(compare a b)
  results(${WORK}/${a} want)
  results(${WORK}/${b} got)
  list(LENGTH want n)
  if(n EQUAL 0)
    message(FATAL_ERROR "${name}: ${a} wrote no metrics")
  endif()
  if(NOT want STREQUAL got)
    message(FATAL_ERROR "${name}: ${a} and ${b} wrote different files:\n${want}\nvs\n${got}")
  endif()
  foreach(f IN LISTS want)
    file(SHA256 ${WORK}/${a}/${f} x)
    file(SHA256 ${WORK}/${b}/${f} y)
    if(NOT x STREQUAL y)
      message(FATAL_ERROR "${name}: ${f} differs between ${a} and ${b}")
    endif()
  endforeach()
  message(STATUS "${name}: ${n} files (metrics.json, CSVs but timing) identical in ${a} and ${b}")
endfunction()

if(MODE STREQUAL "compare")
  run(one ok ${PROGRAM} ${ARGS})
  run(two ok ${MPIRUN} ${PROGRAM} ${ARGS})
  compare(one two)
elseif(MODE STREQUAL "kill")
  run(one ok ${PROGRAM} ${ARGS})
  run(two fail ${CMAKE_COMMAND} -E env SEQGRAD_SWEEP_KILL=1:1 ${MPIRUN} ${PROGRAM} ${ARGS})
  file(GLOB_RECURSE saved ${WORK}/two/*.sgck)
  list(FILTER saved INCLUDE REGEX "/units/[^/.]+\\.sgck$")
  list(LENGTH saved n)
  if(n EQUAL 0)
    message(FATAL_ERROR "${name}: the killed job saved no unit")
  endif()
  message(STATUS "${name}: the job with rank 1 killed failed, ${n} units saved")
  run(two ok ${MPIRUN} ${PROGRAM} ${ARGS} --resume)
  foreach(unit IN LISTS saved)  # the restart trains only the missing units (no progress line for these)
    get_filename_component(key ${unit} NAME_WE)
    if(err MATCHES "rank [0-9]+: ${key} ")
      message(FATAL_ERROR "${name}: the restart trained ${key} again, saved by the killed job")
    endif()
  endforeach()
  compare(one two)
elseif(MODE STREQUAL "mismatch")
  run(mismatch fail ${MPIEXEC} ${MPIFLAGS} ${NP} 1 ${PROGRAM} ${ARGS} --seed 1 --out ${WORK}/mismatch : ${NP} 1
      ${PROGRAM} ${ARGS} --seed 2)
  string(REGEX MATCHALL "rank 1 has 'seed = 2' where rank 0 has 'seed = 1'" said "${err}")
  list(LENGTH said n)
  if(NOT n EQUAL 2)
    message(FATAL_ERROR "${name}: mismatched seeds: expected the error from both ranks, got:\n${err}")
  endif()
  message(STATUS "${name}: mismatched configurations fail on both ranks, naming the option")
else()
  message(FATAL_ERROR "sweep_check.cmake: MODE must be compare, kill or mismatch, got '${MODE}'")
endif()
