# A separate consumer project finds seqgrad twice: from an install of this build into a scratch
# prefix, and from the build tree itself (no install). Each time it builds and runs `consumer`
# (gradcheck + an Adam step through seqgrad::optim) and, when the build has seqgrad::dist,
# `consumer_dist` (one data-parallel step in a 1-rank world). Run by CTest.
file(REMOVE_RECURSE ${WORK_DIR})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(rc)
  message(FATAL_ERROR "install failed: ${rc}")
endif()

# Configures, builds and runs the consumer in WORK_DIR/<name> with seqgrad_DIR = package_dir.
function(check_consumer name package_dir)
  set(build ${WORK_DIR}/${name})
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/find_package/consumer -B ${build}
                          -Dseqgrad_DIR=${package_dir} -DCMAKE_BUILD_TYPE=Release RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "${name}: configuring the consumer failed: ${rc}")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} --build ${build} RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "${name}: building the consumer failed: ${rc}")
  endif()
  execute_process(COMMAND ${build}/consumer RESULT_VARIABLE rc OUTPUT_VARIABLE out)
  if(rc OR NOT out MATCHES "gradcheck passed")
    message(FATAL_ERROR "${name}: consumer failed (${rc}): ${out}")
  endif()
  message(STATUS "${name}: consumer: ${out}")
  if(EXISTS ${BUILD_DIR}/dist/train_dp)  # the build has seqgrad::dist: so must the package
    execute_process(COMMAND ${build}/consumer_dist RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(rc OR NOT out MATCHES "data-parallel step done")
      message(FATAL_ERROR "${name}: consumer_dist failed (${rc}): ${out} ${err}")
    endif()
    message(STATUS "${name}: consumer_dist: ${out}")
  endif()
endfunction()

check_consumer(from_install ${WORK_DIR}/prefix/lib/cmake/seqgrad)
check_consumer(from_build_tree ${BUILD_DIR})
