// state_jacobians: per step, autograd's jacobian() of one cell step with respect to the previous
// state (h, or h and c), the cell's parameters entered as float64 constants via Parameter::use;
// then every step's singular values, one step per task.
#include "nn/jacobian_probe.h"

#include <oneapi/tbb/parallel_for.h>

#include <stdexcept>
#include <string>

#include "autograd/jacobian.h"
#include "autograd/ops.h"
#include "nn/parameter_restore.h"

namespace seqgrad::nn {

namespace {

// Row t of the (T, I) float64 tensor x as a (1, I) tensor.
Tensor row(const Tensor& x, int64_t t) {
  const int64_t I = x.size(1);
  const double* p = x.data<double>() + t * I;
  return Tensor::from({1, I}, std::span<const double>(p, size_t(I)), DType::f64);
}

// An initial h or c as a (1, H) float64 tensor: zeros when undefined; (1, H) or (H) otherwise.
Tensor initial_part(const Tensor& v, int64_t H, const char* which) {
  if (!v.defined()) return Tensor::zeros({1, H}, DType::f64);
  if (v.numel() != H || v.rank() > 2 || (v.rank() == 2 && v.size(0) != 1))
    throw std::invalid_argument(std::string("state_jacobians: initial ") + which + " " + v.shape().str() +
                                " but the cell expects (1, " + std::to_string(H) + ") or (" + std::to_string(H) + ")");
  return v.to(DType::f64).reshape({1, H});
}

// [a | b]: (S, H) and (S, H) -> (S, 2H), float64.
Tensor side_by_side(const Tensor& a, const Tensor& b) {
  const int64_t S = a.size(0), H = a.size(1);
  Tensor out({S, 2 * H}, DType::f64);
  const double *pa = a.data<double>(), *pb = b.data<double>();
  double* po = out.data<double>();
  for (int64_t i = 0; i < S; ++i)
    for (int64_t j = 0; j < H; ++j) {
      po[i * 2 * H + j] = pa[i * H + j];
      po[i * 2 * H + H + j] = pb[i * H + j];
    }
  return out;
}

}  // namespace

std::vector<StepJacobian> state_jacobians(Cell& cell, const Tensor& x, const StateValues& initial) {
  const int64_t I = cell.input_size(), H = cell.hidden_size();
  if (x.rank() != 2 || x.size(1) != I || x.size(0) < 1)
    throw std::invalid_argument("state_jacobians: x " + x.shape().str() + " but the cell expects (T, " +
                                std::to_string(I) + ") with T >= 1 (one sequence)");
  const bool has_c = cell.has_cell_state();
  const Tensor x64 = x.to(DType::f64);
  Tensor h = initial_part(initial.h, H, "h");
  Tensor c = has_c ? initial_part(initial.c, H, "c") : Tensor();

  detail::ParameterRestore restore(cell);
  cell.to(DType::f64);
  const std::vector<Parameter*> params = cell.parameters();
  std::vector<StepJacobian> steps;
  for (int64_t t = 0; t < x64.size(0); ++t) {
    const Tensor xt = row(x64, t);
    // s_{t−1} -> s_t: v = (h_{t−1}) or (h_{t−1}, c_{t−1}), each (1, H); returns (1, S).
    auto step = [&](std::span<const Var> v) {
      Tape& tape = v[0].tape();
      for (Parameter* p : params) p->use(tape.constant(p->value));
      const State s = cell.step(tape.constant(xt), {v[0], has_c ? v[1] : Var()});
      if (!has_c) return s.h;
      const Var parts[] = {s.h, s.c};
      return concat(parts, 1);
    };
    const JacobianResult r = has_c ? jacobian(step, {h, c}) : jacobian(step, {h});
    StepJacobian out;
    out.jacobian = has_c ? side_by_side(r.jacobians[0], r.jacobians[1]) : r.jacobians[0];
    out.state = r.value.clone().reshape({r.value.numel()});
    if (has_c) {  // split s_t = [h; c] back into its halves
      const std::vector<double> s = out.state.to_vector();
      h = Tensor::from({1, H}, std::span<const double>(s.data(), size_t(H)), DType::f64);
      c = Tensor::from({1, H}, std::span<const double>(s.data() + H, size_t(H)), DType::f64);
    } else {
      h = out.state.reshape({1, H});
    }
    steps.push_back(std::move(out));
  }
  // The SVDs are independent of each other and each sequential: spread over threads, same bits.
  tbb::parallel_for(size_t(0), steps.size(),
                    [&](size_t t) { steps[t].singular_values = singular_values(steps[t].jacobian); });
  return steps;
}

}  // namespace seqgrad::nn
