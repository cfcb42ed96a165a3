# Fails when a TEST_CASE name contains '[', ']' or ';': catch_discover_tests then registers a wrong
# test filter (a CMake list splits at ';') and CTest silently runs fewer tests than the suite has.
file(GLOB_RECURSE sources ${SOURCE_DIR}/tests/test_*.cpp ${SOURCE_DIR}/experiments/test_*.cpp)
foreach(source ${sources})
  file(STRINGS ${source} bad REGEX "TEST_CASE\\(\"[^\"]*[][;][^\"]*\"")
  if(bad)
    message(FATAL_ERROR "${source}: test names must not contain brackets or semicolons: ${bad}")
  endif()
endforeach()
