# Distributed sweeps (issue 14), included by dist/CMakeLists.txt when MPI is built: each study at tiny
# settings single-process and on 2 ranks (every metrics.json and CSV but timing.csv byte-identical),
# a rank killed mid-sweep then --resume, and mismatched options across ranks (common/sweep_check.cmake).
set(SEQGRAD_TINY_DATA ${CMAKE_BINARY_DIR}/experiments/smoke_runs/sweep_data)
include(${CMAKE_CURRENT_LIST_DIR}/tiny_args.cmake)
string(REPLACE ";" "|" seqgrad_mpi_flags "${SEQGRAD_MPI_FLAGS}")
set(seqgrad_sweep_runs ${CMAKE_BINARY_DIR}/experiments/smoke_runs)

# sweep_test(<name> <study> <mode> [extra args...])
function(sweep_test name study mode)
  set(args ${SEQGRAD_ROUTE_ARGS_${study}} ${ARGN})
  string(REPLACE ";" "|" args "${args}")
  add_test(NAME ${name}
           COMMAND ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:${study}> "-DARGS=${args}" -DMPIEXEC=${MPIEXEC_EXECUTABLE}
                   -DNP=${MPIEXEC_NUMPROC_FLAG} "-DMPIFLAGS=${seqgrad_mpi_flags}" -DWORK=${seqgrad_sweep_runs}/${name}
                   -DMODE=${mode} -P ${PROJECT_SOURCE_DIR}/experiments/common/sweep_check.cmake)
  set_tests_properties(${name} PROPERTIES TIMEOUT 120 LABELS "dist;sweep")
  if(SEQGRAD_SANITIZE STREQUAL "address")  # as dist's MPI tests: Open MPI's leaks cannot be attributed
    set_property(TEST ${name} APPEND PROPERTY ENVIRONMENT "ASAN_OPTIONS=detect_leaks=0:abort_on_error=0")
  endif()
endfunction()

foreach(study gradient_study long_range architecture_comparison)
  sweep_test(sweep_${study} ${study} compare --quick)
endforeach()
# 2 seeds: each rank trains several units, so rank 1 dies with units of both ranks left to train.
sweep_test(sweep_kill_resume gradient_study kill --quick --seeds 2)
sweep_test(sweep_mismatch gradient_study mismatch --quick)
