// gradcheck: one backward pass for the analytic gradients, then 2 forward passes per element.
#include "autograd/gradcheck.h"

#include <cmath>
#include <sstream>

#include "autograd/ops.h"
#include "autograd/rng.h"

namespace seqgrad {

std::string GradcheckResult::str() const {
  std::ostringstream os;
  os.precision(6);
  os << (ok ? "gradcheck passed" : "gradcheck FAILED") << ": " << checked << " elements, max abs error "
     << max_abs_error << ", max rel error " << max_rel_error;
  if (input >= 0)
    os << "; worst at input " << input << " element " << element << " (analytic " << analytic << ", numeric " << numeric
       << ")";
  return os.str();
}

// Evaluates the scalar L = Σ f(inputs) ⊙ R on a fresh tape; fills `vars` with the leaves.
static double evaluate(const GradcheckFn& f, std::span<const Tensor> inputs, Tape& tape, std::vector<Var>& vars,
                       Tensor& projection, uint64_t seed, Var* loss_out) {
  tape.reset();
  vars.clear();
  for (const Tensor& t : inputs) vars.push_back(tape.variable(t));
  Var y = f(vars);
  if (y.dtype() != DType::f64)
    throw std::invalid_argument("gradcheck: f must return a float64 Var, got " + y.value().describe());
  if (!projection.defined()) {
    Rng rng(seed);
    projection = y.value().numel() == 1 ? Tensor::ones(y.shape(), DType::f64)
                                        : Tensor::uniform(y.shape(), rng, 0.5, 1.5, DType::f64);
  }
  Var loss = sum(y * tape.constant(projection));
  if (loss_out) *loss_out = loss;
  return loss.item();
}

GradcheckResult gradcheck(const GradcheckFn& f, std::span<const Tensor> inputs, const GradcheckOptions& opt) {
  std::vector<Tensor> xs;  // float64 copies we perturb in place
  for (const Tensor& t : inputs) xs.push_back(t.to(DType::f64));
  Tape tape;
  std::vector<Var> vars;
  Tensor projection;
  Var loss;
  evaluate(f, xs, tape, vars, projection, opt.seed, &loss);
  if (!loss.requires_grad()) throw std::invalid_argument("gradcheck: the output does not depend on any input");
  tape.backward(loss);
  std::vector<Tensor> analytic;
  for (const Var& v : vars) analytic.push_back(v.grad().clone());

  GradcheckResult r;
  double worst_ratio = -1;
  for (size_t k = 0; k < xs.size(); ++k) {
    double* x = xs[k].data<double>();
    const double* a = analytic[k].data<double>();
    for (int64_t i = 0; i < xs[k].numel(); ++i) {
      const double saved = x[i];
      x[i] = saved + opt.eps;
      const double up = evaluate(f, xs, tape, vars, projection, opt.seed, nullptr);
      x[i] = saved - opt.eps;
      const double down = evaluate(f, xs, tape, vars, projection, opt.seed, nullptr);
      x[i] = saved;
      const double numeric = (up - down) / (2 * opt.eps);
      const double err = std::abs(a[i] - numeric);
      const double rel = err / std::max({std::abs(a[i]), std::abs(numeric), 1e-12});
      const double ratio = err / (opt.atol + opt.rtol * std::abs(numeric));
      r.max_abs_error = std::max(r.max_abs_error, err);
      r.max_rel_error = std::max(r.max_rel_error, rel);
      if (!(ratio <= 1.0)) r.ok = false;  // also catches NaN
      if (ratio > worst_ratio || std::isnan(ratio)) {
        worst_ratio = std::isnan(ratio) ? INFINITY : ratio;
        r.input = int(k);
        r.element = i;
        r.analytic = a[i];
        r.numeric = numeric;
      }
      ++r.checked;
    }
  }
  return r;
}

}  // namespace seqgrad
