// Shared helpers for the Catch2 tests: seeded random tensors and a gradcheck assertion that
// prints the worst element when it fails.
#pragma once

#include <catch2/catch.hpp>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "autograd/rng.h"

namespace seqgrad::testing {

// A float64 tensor of N(0, 1) values (or uniform in [lo, hi) with random_uniform).
inline Tensor random_normal(const Shape& shape, uint64_t seed = 7) {
  Rng rng(seed);
  return Tensor::normal(shape, rng, 0.0, 1.0, DType::f64);
}
inline Tensor random_uniform(const Shape& shape, double lo, double hi, uint64_t seed = 7) {
  Rng rng(seed);
  return Tensor::uniform(shape, rng, lo, hi, DType::f64);
}

}  // namespace seqgrad::testing

// Gradchecks f over inputs (float64) and reports the worst element on failure.
#define REQUIRE_GRADCHECK(f, ...)                                           \
  do {                                                                      \
    auto gc_result_ = ::seqgrad::gradcheck((f), __VA_ARGS__);               \
    INFO(gc_result_.str());                                                 \
    REQUIRE(gc_result_.ok);                                                 \
    REQUIRE(gc_result_.checked > 0);                                        \
  } while (0)

// Requires `expr` to throw std::exception whose message contains every given substring.
#define REQUIRE_THROWS_NAMING(expr, ...)                                    \
  do {                                                                      \
    bool thrown_ = false;                                                   \
    try {                                                                   \
      (void)(expr);                                                         \
    } catch (const std::exception& e_) {                                    \
      thrown_ = true;                                                       \
      std::string msg_ = e_.what();                                         \
      INFO("message: " << msg_);                                            \
      for (const char* part_ : {__VA_ARGS__}) CHECK(msg_.find(part_) != std::string::npos); \
    }                                                                       \
    REQUIRE(thrown_);                                                       \
  } while (0)
