// Elementwise functions. tanh and sigmoid are primitives whose backward reuses the output y.
#include "autograd/kernels.h"
#include "autograd/ops.h"

namespace seqgrad {

using kernels::map;
using kernels::map2;

// y = tanh x;  dx += g ⊙ (1 − y²)
Var tanh(const Var& x) {
  Tensor y = map(x.value(), [](auto v) { return std::tanh(v); });
  return x.tape().record("tanh", std::move(y), {x}, [x](GradContext& g) {
    g.accumulate(x, map2(g.out(), g.value(), [](auto gy, auto y) { return gy * (1 - y * y); }));
  });
}

// Stable logistic: never exponentiates a positive number, so large |x| neither overflows nor NaNs.
template <typename T>
static T stable_sigmoid(T v) {
  if (v >= 0) return T(1) / (T(1) + std::exp(-v));
  T e = std::exp(v);
  return e / (T(1) + e);
}

// y = σ(x) = 1 / (1 + e^−x);  dx += g ⊙ y(1 − y)
Var sigmoid(const Var& x) {
  Tensor y = map(x.value(), [](auto v) { return stable_sigmoid(v); });
  return x.tape().record("sigmoid", std::move(y), {x}, [x](GradContext& g) {
    g.accumulate(x, map2(g.out(), g.value(), [](auto gy, auto y) { return gy * y * (1 - y); }));
  });
}

}  // namespace seqgrad
