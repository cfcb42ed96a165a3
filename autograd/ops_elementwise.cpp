// Broadcasting arithmetic. Backward passes full-size gradients to GradContext::accumulate, which
// sums them down to each input's shape (the one shared broadcast-reduction helper).
#include "autograd/kernels.h"
#include "autograd/ops.h"

namespace seqgrad {

using kernels::broadcast2;
using kernels::map;

// y = a + b;  da += g, db += g
Var add(const Var& a, const Var& b) {
  Tensor y = broadcast2(
      a.value(), b.value(), [](auto u, auto v) { return u + v; }, "add");
  return a.tape().record("add", std::move(y), {a, b}, [a, b](GradContext& g) {
    g.accumulate(a, g.out());
    g.accumulate(b, g.out());
  });
}

// y = a − b;  da += g, db −= g
Var sub(const Var& a, const Var& b) {
  Tensor y = broadcast2(
      a.value(), b.value(), [](auto u, auto v) { return u - v; }, "sub");
  return a.tape().record("sub", std::move(y), {a, b}, [a, b](GradContext& g) {
    g.accumulate(a, g.out());
    if (g.wants(b)) g.accumulate(b, kernels::scale(g.out(), -1.0));
  });
}

// y = a ⊙ b;  da += g ⊙ b, db += g ⊙ a
Var mul(const Var& a, const Var& b) {
  auto times = [](auto u, auto v) { return u * v; };
  Tensor y = broadcast2(a.value(), b.value(), times, "mul");
  return a.tape().record("mul", std::move(y), {a, b}, [a, b, times](GradContext& g) {
    if (g.wants(a)) g.accumulate(a, broadcast2(g.out(), b.value(), times, "mul backward"));
    if (g.wants(b)) g.accumulate(b, broadcast2(g.out(), a.value(), times, "mul backward"));
  });
}

// y = a / b;  da += g / b, db −= g · y / b
Var div(const Var& a, const Var& b) {
  auto over = [](auto u, auto v) { return u / v; };
  Tensor y = broadcast2(a.value(), b.value(), over, "div");
  return a.tape().record("div", std::move(y), {a, b}, [a, b, over](GradContext& g) {
    Tensor g_over_b = broadcast2(g.out(), b.value(), over, "div backward");
    if (g.wants(b)) g.accumulate(b, kernels::map2(g_over_b, g.value(), [](auto u, auto q) { return -u * q; }));
    g.accumulate(a, std::move(g_over_b));
  });
}

// y = −x;  dx −= g
Var neg(const Var& x) {
  return x.tape().record("neg", kernels::scale(x.value(), -1.0), {x},
                         [x](GradContext& g) { g.accumulate(x, kernels::scale(g.out(), -1.0)); });
}

// y = x + s;  dx += g
Var add_scalar(const Var& x, double s) {
  Tensor y = map(x.value(), [s]<typename T>(T v) { return v + T(s); });
  return x.tape().record("add_scalar", std::move(y), {x}, [x](GradContext& g) { g.accumulate(x, g.out()); });
}

// y = s · x;  dx += s · g
Var mul_scalar(const Var& x, double s) {
  return x.tape().record("mul_scalar", kernels::scale(x.value(), s), {x},
                         [x, s](GradContext& g) { g.accumulate(x, kernels::scale(g.out(), s)); });
}

}  // namespace seqgrad
