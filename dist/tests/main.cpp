// Catch2 runner for the data-parallel tests: MPI is initialised before and finalised after the
// session; every rank runs the same test cases in the same order (they are collective).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "dist/communicator.h"

int main(int argc, char** argv) {
  seqgrad::dist::Environment env(argc, argv);
  return Catch::Session().run(argc, argv);
}
