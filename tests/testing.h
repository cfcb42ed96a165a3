// Shared helpers for the Catch2 tests: seeded random tensors, a gradcheck assertion that prints
// the worst element when it fails, cell gradchecks at fixed small sizes, and temporary directories.
#pragma once

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "autograd/rng.h"
#include "nn/gradcheck_cell.h"
#include "temp_dir.h"

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

// Cell tests: batch, input, hidden sizes and steps.
constexpr int64_t kB = 2, kI = 3, kH = 4, kT = 3;

// gradcheck_cell at (kB, kT); every parameter, input and initial-state element must be checked.
inline void require_cell_gradcheck(nn::Cell& cell) {
  GradcheckResult r = nn::gradcheck_cell(cell, kB, kT);
  INFO(r.str());
  REQUIRE(r.ok);
  REQUIRE(r.checked == cell.num_parameters() + kT * kB * kI + kB * kH * (cell.has_cell_state() ? 2 : 1));
}

}  // namespace seqgrad::testing

// Gradchecks f over inputs (float64) and reports the worst element on failure.
#define REQUIRE_GRADCHECK(f, ...)                             \
  do {                                                        \
    auto gc_result_ = ::seqgrad::gradcheck((f), __VA_ARGS__); \
    INFO(gc_result_.str());                                   \
    REQUIRE(gc_result_.ok);                                   \
    REQUIRE(gc_result_.checked > 0);                          \
  } while (0)

// Requires `expr` to throw std::exception whose message contains every given substring.
#define REQUIRE_THROWS_NAMING(expr, ...)                                                    \
  do {                                                                                      \
    bool thrown_ = false;                                                                   \
    try {                                                                                   \
      (void)(expr);                                                                         \
    } catch (const std::exception& e_) {                                                    \
      thrown_ = true;                                                                       \
      std::string msg_ = e_.what();                                                         \
      INFO("message: " << msg_);                                                            \
      for (const char* part_ : {__VA_ARGS__}) CHECK(msg_.find(part_) != std::string::npos); \
    }                                                                                       \
    REQUIRE(thrown_);                                                                       \
  } while (0)
