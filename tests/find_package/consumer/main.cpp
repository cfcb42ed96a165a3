// Uses the installed headers and library: gradchecks a tiny tanh cell.
#include <autograd/gradcheck.h>
#include <autograd/ops.h>
#include <autograd/rng.h>

#include <iostream>

int main() {
  using namespace seqgrad;
  Rng rng(3);
  Tensor x = Tensor::normal({2, 3}, rng, 0, 1, DType::f64), W = Tensor::normal({4, 3}, rng, 0, 1, DType::f64);
  auto r = gradcheck([](std::span<const Var> v) { return tanh(affine(v[0], v[1], Var())); }, {x, W});
  std::cout << r.str() << "\n";
  return r.ok ? 0 : 1;
}
