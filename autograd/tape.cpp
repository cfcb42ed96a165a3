// Tape bookkeeping and the reverse pass.
#include "autograd/tape.h"

#include <atomic>
#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "autograd/kernels.h"

namespace seqgrad {

// ---- grad mode -------------------------------------------------------------------------------

thread_local bool t_grad_enabled = true;
bool grad_enabled() { return t_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(t_grad_enabled) { t_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { t_grad_enabled = previous_; }

// ---- Var -------------------------------------------------------------------------------------

Tape& Var::tape() const {
  if (!tape_) throw std::logic_error("Var: used before being assigned (default-constructed Var)");
  return *tape_;
}
const Tensor& Var::value() const { return tape().node(*this).value; }
bool Var::requires_grad() const { return tape().node(*this).requires_grad; }
const char* Var::op() const { return tape().node(*this).op; }

Tensor Var::grad() const {
  const Node& n = tape().node(*this);
  if (!n.is_leaf && !n.retains_grad)
    throw std::logic_error(std::string("Var::grad: node #") + std::to_string(index_) + " (" + n.op +
                           ") is not a leaf; call retain_grad() on it before backward()");
  return n.grad.defined() ? n.grad : Tensor::zeros(n.value.shape(), n.value.dtype());
}

const Var& Var::retain_grad() const {
  tape().node(*this).retains_grad = true;
  return *this;
}

const Var& Var::register_hook(GradHook hook) const {
  Node& n = tape().node(*this);
  if (!n.requires_grad)
    throw std::logic_error(std::string("register_hook: node #") + std::to_string(index_) + " (" + n.op +
                           ") does not require grad, so the hook would never run");
  n.hooks.push_back(std::move(hook));
  return *this;
}

// ---- Tape ------------------------------------------------------------------------------------

static uint32_t next_generation() {
  static std::atomic<uint32_t> counter{1};
  return counter.fetch_add(1, std::memory_order_relaxed);
}

Tape::Tape(size_t reserve_nodes) : generation_(next_generation()) { nodes_.reserve(reserve_nodes); }

Node& Tape::node(const Var& v) { return const_cast<Node&>(std::as_const(*this).node(v)); }

const Node& Tape::node(const Var& v) const {
  if (v.tape_ != this) throw std::logic_error("Var: belongs to another tape");
  if (v.generation_ != generation_)
    throw std::logic_error("Var #" + std::to_string(v.index_) +
                           ": used after its tape was reset (Var from generation " + std::to_string(v.generation_) +
                           ", tape now at " + std::to_string(generation_) + ")");
  return nodes_[v.index_];
}

Node& Tape::push(const char* op, Tensor value, bool requires_grad, bool is_leaf) {
  if (in_backward_) throw std::logic_error(std::string(op) + ": cannot record ops while backward() runs");
  if (!value.defined()) throw std::invalid_argument(std::string(op) + ": undefined tensor");
  Node& n = nodes_.emplace_back();
  n.value = std::move(value);
  n.op = op;
  n.requires_grad = requires_grad;
  n.is_leaf = is_leaf;
  return n;
}

bool Tape::any_requires_grad(const char* op, std::span<const Var> inputs) const {
  bool any = false;
  for (const Var& v : inputs) {
    if (!v.defined()) throw std::invalid_argument(std::string(op) + ": undefined (default-constructed) Var input");
    if (v.tape_ != this) throw std::invalid_argument(std::string(op) + ": inputs live on different tapes");
    any |= node(v).requires_grad;
  }
  return any && grad_enabled();
}

Var Tape::constant(Tensor value) {
  push("constant", std::move(value), false, true);
  return handle(nodes_.size() - 1);
}

Var Tape::variable(Tensor value) {
  push("variable", std::move(value), true, true);
  return handle(nodes_.size() - 1);
}

Var Tape::bind(const Tensor& value, Tensor& grad) {
  if (!grad.defined() || !(grad.shape() == value.shape()) || grad.dtype() != value.dtype())
    grad = Tensor::zeros(value.shape(), value.dtype());
  Node& n = push("parameter", value, true, true);
  n.grad = grad;  // shared storage: backward adds straight into the Parameter's gradient
  return handle(nodes_.size() - 1);
}

void Tape::reset() {
  if (in_backward_) throw std::logic_error("Tape::reset: called while backward() runs");
  nodes_.clear();  // keeps capacity
  provenance_.clear();
  generation_ = next_generation();
}

void Tape::accumulate(size_t index, Tensor g) {
  Node& n = nodes_[index];
  if (!n.requires_grad) return;
  if (!(g.shape() == n.value.shape())) g = kernels::sum_to_shape(g, n.value.shape());
  if (g.dtype() != n.value.dtype())
    throw std::invalid_argument(std::string(n.op) + " backward: gradient " + g.describe() + " for value " +
                                n.value.describe());
  if (!n.grad.defined()) {
    n.grad = g.unique() ? std::move(g) : g.clone();  // never alias another node's gradient
  } else {
    kernels::add_into(n.grad, g);
  }
}

void GradContext::accumulate(const Var& v, Tensor g) { tape_.accumulate(v.index(), std::move(g)); }

Tensor GradContext::take_out() {
  Node& n = tape_.nodes_[index_];
  if (n.is_leaf || n.retains_grad) return n.grad;
  return std::move(n.grad);  // backward() frees this node's gradient right after its closure
}

Tensor& GradContext::grad_of(const Var& v) {
  Node& n = tape_.nodes_[v.index()];
  if (!n.grad.defined()) n.grad = Tensor::zeros(n.value.shape(), n.value.dtype());
  return n.grad;
}

void Tape::backward(const Var& output, bool retain_graph) {
  const Node& n = node(output);
  if (n.value.numel() != 1)
    throw std::invalid_argument("backward: output of shape " + n.value.shape().str() +
                                " is not a scalar; pass a seed gradient of that shape");
  backward(output, Tensor::ones(n.value.shape(), n.value.dtype()), retain_graph);
}

void Tape::backward(const Var& output, const Tensor& seed, bool retain_graph) {
  Node& out = node(output);
  if (!out.requires_grad)
    throw std::logic_error(std::string("backward: output (") + out.op +
                           ") does not require grad: no input requires grad, or it was computed under NoGradGuard");
  if (!(seed.shape() == out.value.shape()) || seed.dtype() != out.value.dtype())
    throw std::invalid_argument("backward: seed " + seed.describe() + " does not match output " + out.value.describe());
  const size_t last = output.index();
  for (size_t i = 0; i <= last; ++i)  // gradients of a previous pass must not leak into this one
    if (!nodes_[i].is_leaf) nodes_[i].grad = Tensor();

  in_backward_ = true;
  try {
    accumulate(last, seed.clone());
    if (anomaly_) check_gradient(last, "the seed of backward()");
    for (size_t i = last + 1; i-- > 0;) {
      Node& n = nodes_[i];
      if (!n.grad.defined()) continue;
      if (n.freed)
        throw std::logic_error("backward: node #" + std::to_string(i) + " (" + n.op +
                               ") was already backpropagated and its graph freed; pass retain_graph=true to the "
                               "first backward() to go through it again");
      for (auto& hook : n.hooks) hook(n.grad);
      if (anomaly_ && !n.hooks.empty()) check_gradient(i, "a gradient hook on it");
      if (n.backward) {
        GradContext ctx(*this, i);
        n.backward(ctx);
        if (anomaly_) check_backward(i);
        if (!retain_graph) {
          n.backward.reset();
          n.freed = true;
        }
      }
      if (!n.is_leaf && !n.retains_grad) n.grad = Tensor();  // free early: nobody reads it again
    }
  } catch (...) {
    in_backward_ = false;
    throw;
  }
  in_backward_ = false;
}

// ---- anomaly detection ------------------------------------------------------------------------

namespace {

// Index of the first NaN or Inf in t, or -1.
int64_t first_nonfinite(const Tensor& t) {
  auto scan = [&](const auto* p) -> int64_t {
    for (int64_t i = 0, n = t.numel(); i < n; ++i)
      if (!std::isfinite(p[i])) return i;
    return -1;
  };
  return t.dtype() == DType::f32 ? scan(t.data<float>()) : scan(t.data<double>());
}

std::string element_text(const Tensor& t, int64_t i) {
  const double v = t.dtype() == DType::f32 ? double(t.data<float>()[i]) : t.data<double>()[i];
  return (std::isnan(v) ? std::string("nan") : v > 0 ? "inf" : "-inf") + " at element " + std::to_string(i);
}

}  // namespace

void Tape::check_forward(std::span<const Var> inputs) {
  const size_t index = nodes_.size() - 1;
  if (provenance_.size() <= index) provenance_.resize(index + 1);
  Provenance& p = provenance_[index];
  p.inputs.clear();
  for (const Var& v : inputs) p.inputs.push_back(v.index());
  p.label.clear();
  for (const std::string& l : labels_) p.label += (p.label.empty() ? "" : " > ") + l;
  const Node& n = nodes_[index];
  const int64_t bad = first_nonfinite(n.value);
  if (bad < 0) return;
  std::string shapes;
  for (const Var& v : inputs) shapes += (shapes.empty() ? "" : ", ") + nodes_[v.index()].value.describe();
  throw AnomalyError(std::string("anomaly: op '") + n.op + "' (node #" + std::to_string(index) + ") produced " +
                     element_text(n.value, bad) + " of its " + n.value.describe() + " output; inputs: " + shapes +
                     "; recorded at " + (p.label.empty() ? "an unlabelled place (use OpLabel)" : p.label));
}

void Tape::check_backward(size_t index) {
  if (index >= provenance_.size()) return;  // recorded while anomaly detection was off
  const Node& n = nodes_[index];
  const Provenance& p = provenance_[index];
  for (size_t k = 0; k < p.inputs.size(); ++k)
    check_gradient(p.inputs[k], std::string("the backward of op '") + n.op + "' (node #" + std::to_string(index) +
                                    ", recorded at " + (p.label.empty() ? "an unlabelled place" : p.label) +
                                    ") for its input " + std::to_string(k + 1) + " of " +
                                    std::to_string(p.inputs.size()));
}

void Tape::check_gradient(size_t index, const std::string& source) {
  const Node& n = nodes_[index];
  if (!n.grad.defined()) return;
  const int64_t bad = first_nonfinite(n.grad);
  if (bad < 0) return;
  throw AnomalyError("anomaly: " + source + " produced " + element_text(n.grad, bad) + " of the " + n.grad.describe() +
                     " gradient of node #" + std::to_string(index) + " (op '" + n.op + "')");
}

OpLabel::OpLabel(Tape& tape, std::string_view text, const char* file, int line) : tape_(tape) {
  const std::string at = std::filesystem::path(file).filename().string() + ":" + std::to_string(line);
  tape_.labels_.push_back(text.empty() ? at : std::string(text) + " (" + at + ")");
}

OpLabel::~OpLabel() { tape_.labels_.pop_back(); }

Var detach(const Var& x) { return x.tape().constant(x.value()); }

}  // namespace seqgrad
