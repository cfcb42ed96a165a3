// The tape: every differentiable op appends one Node (value + backward closure) in creation order;
// backward() is one reverse index loop over that vector — no recursion, no topological sort, so a
// 100,000-step recurrence cannot overflow the stack. A Var is a small handle (tape, index,
// generation) that throws when used after its tape was reset.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "autograd/tensor.h"

namespace seqgrad {

class Tape;
class GradContext;

// Move-only `void(GradContext&)` with 96 bytes of inline storage, so recording an op allocates
// nothing for the usual captures (a few Vars and scalars); larger captures go to the heap.
class Backward {
 public:
  Backward() = default;
  template <typename F, typename D = std::decay_t<F>, typename = std::enable_if_t<!std::is_same_v<D, Backward>>>
  Backward(F&& f) {  // NOLINT: implicit from any callable
    if constexpr (sizeof(D) <= kInline && alignof(D) <= alignof(std::max_align_t) &&
                  std::is_nothrow_move_constructible_v<D>) {
      new (buf_) D(std::forward<F>(f));
      ops_ = &inline_ops<D>;
    } else {
      *reinterpret_cast<D**>(buf_) = new D(std::forward<F>(f));
      ops_ = &heap_ops<D>;
    }
  }
  Backward(Backward&& o) noexcept : ops_(o.ops_) {
    if (ops_) ops_->move(buf_, o.buf_);
    o.ops_ = nullptr;
  }
  Backward& operator=(Backward&& o) noexcept {
    if (this != &o) {
      reset();
      ops_ = o.ops_;
      if (ops_) ops_->move(buf_, o.buf_);
      o.ops_ = nullptr;
    }
    return *this;
  }
  ~Backward() { reset(); }
  explicit operator bool() const { return ops_ != nullptr; }
  void operator()(GradContext& ctx) { ops_->call(buf_, ctx); }
  void reset() {
    if (ops_) ops_->destroy(buf_);
    ops_ = nullptr;
  }

 private:
  static constexpr size_t kInline = 96;
  struct Ops {
    void (*call)(void*, GradContext&);
    void (*move)(void* dst, void* src);  // move-constructs into dst and destroys src
    void (*destroy)(void*);
  };
  template <typename D>
  static constexpr Ops inline_ops = {[](void* p, GradContext& c) { (*static_cast<D*>(p))(c); },
                                     [](void* dst, void* src) {
                                       new (dst) D(std::move(*static_cast<D*>(src)));
                                       static_cast<D*>(src)->~D();
                                     },
                                     [](void* p) { static_cast<D*>(p)->~D(); }};
  template <typename D>
  static constexpr Ops heap_ops = {[](void* p, GradContext& c) { (**static_cast<D**>(p))(c); },
                                   [](void* dst, void* src) { *static_cast<D**>(dst) = *static_cast<D**>(src); },
                                   [](void* p) { delete *static_cast<D**>(p); }};

  alignas(std::max_align_t) unsigned char buf_[kInline];
  const Ops* ops_ = nullptr;
};

using GradHook = std::function<void(Tensor& grad)>;

struct Node {
  Tensor value;
  Tensor grad;        // undefined until a gradient flows in; a bound leaf shares its Parameter's grad
  Backward backward;  // adds this node's grad into its inputs' grads; empty for leaves and constants
  std::vector<GradHook> hooks;
  const char* op = "";
  bool requires_grad = false;
  bool is_leaf = false;       // leaves keep (and accumulate) their grads across backward calls
  bool retains_grad = false;  // keep a non-leaf's grad after backward (otherwise freed early)
  bool freed = false;         // its closure was released by a backward() without retain_graph
};

class Var {
 public:
  Var() = default;
  bool defined() const { return tape_ != nullptr; }

  const Tensor& value() const;
  const Shape& shape() const { return value().shape(); }
  DType dtype() const { return value().dtype(); }
  int rank() const { return value().rank(); }
  int64_t size(int axis) const { return value().size(axis); }
  double item() const { return value().item(); }
  bool requires_grad() const;
  const char* op() const;

  // The gradient after backward(): for leaves and retain_grad() Vars; zeros if nothing flowed.
  Tensor grad() const;
  // Keep this (non-leaf) Var's gradient after backward, so grad() can read it.
  const Var& retain_grad() const;
  // hook(grad) runs when this Var's gradient is complete during backward (it may modify it).
  const Var& register_hook(GradHook hook) const;

  Tape& tape() const;
  uint32_t index() const { return index_; }

 private:
  Var(Tape* tape, uint32_t index, uint32_t generation) : tape_(tape), index_(index), generation_(generation) {}
  Tape* tape_ = nullptr;
  uint32_t index_ = 0;
  uint32_t generation_ = 0;
  friend class Tape;
};

// While alive, ops on this thread record no backward (like torch.no_grad()).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};
bool grad_enabled();

// Thrown by anomaly detection (Tape::set_anomaly_detection) at the first NaN or Inf.
class AnomalyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Tape {
 public:
  explicit Tape(size_t reserve_nodes = 1024);
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  Var constant(Tensor value);  // no gradient flows into it
  Var variable(Tensor value);  // leaf that requires grad; read its grad with Var::grad()
  // Leaf over persistent storage (a Parameter): the value is shared, and gradients accumulate into
  // `grad`'s storage (allocated as zeros when undefined or of another shape/dtype).
  Var bind(const Tensor& value, Tensor& grad);

  // Reverse-mode pass from a scalar output (seed 1) or from `output` with an explicit seed gradient.
  // Without retain_graph each closure is released after use, and a second pass through it throws.
  void backward(const Var& output, bool retain_graph = false);
  void backward(const Var& output, const Tensor& seed, bool retain_graph = false);

  // Drops every node but keeps capacity; every existing Var of this tape becomes invalid.
  void reset();
  size_t size() const { return nodes_.size(); }
  // Unique across all tapes of the process (a process-wide counter), so a Var of a destroyed tape
  // never matches a new tape that happens to reuse its address.
  uint32_t generation() const { return generation_; }

  // How every op is made, the built-in ones and a user's own (README, "Writing a new op"): appends
  // ONE node `value = op(inputs)` and returns it, recording `backward` only when gradients are
  // enabled and some input requires them. `backward(GradContext&)` must ADD each input's gradient
  // (GradContext::accumulate), never assign: an input used twice gets both contributions. `op`
  // names the node in errors and anomaly reports; the tape keeps the pointer, so pass a string
  // literal. Inputs must be defined and live on this tape (else std::invalid_argument naming `op`).
  template <typename Fn>
  Var record(const char* op, Tensor value, std::initializer_list<Var> inputs, Fn&& backward) {
    return record(op, std::move(value), std::span<const Var>(inputs.begin(), inputs.size()),
                  std::forward<Fn>(backward));
  }
  template <typename Fn>
  Var record(const char* op, Tensor value, std::span<const Var> inputs, Fn&& backward) {
    const bool requires_grad = any_requires_grad(op, inputs);
    Node& n = push(op, std::move(value), requires_grad, false);
    if (requires_grad) n.backward = Backward(std::forward<Fn>(backward));
    if (anomaly_) check_forward(inputs);
    return handle(nodes_.size() - 1);
  }

  Node& node(const Var& v);  // validated access
  const Node& node(const Var& v) const;

  // Anomaly detection, off by default (then it costs one branch per op). When on, every op's forward
  // output and every gradient a backward closure (or hook) produces is checked for NaN/Inf, and the
  // first one throws AnomalyError naming the op, its inputs' shapes and the OpLabel it was recorded
  // under. Checks only ops recorded while it is on.
  void set_anomaly_detection(bool on) { anomaly_ = on; }
  bool anomaly_detection() const { return anomaly_; }

 private:
  friend class OpLabel;
  // What anomaly detection remembers of a node recorded while it was on.
  struct Provenance {
    std::vector<uint32_t> inputs;
    std::string label;
  };
  void check_forward(std::span<const Var> inputs);  // the node just pushed
  void check_backward(size_t index);                // its inputs' gradients after its closure ran
  void check_gradient(size_t index, const std::string& source);
  bool any_requires_grad(const char* op, std::span<const Var> inputs) const;
  Node& push(const char* op, Tensor value, bool requires_grad, bool is_leaf);
  Var handle(size_t index) { return Var(this, uint32_t(index), generation_); }
  void accumulate(size_t index, Tensor g);

  std::vector<Node> nodes_;
  uint32_t generation_ = 0;
  bool in_backward_ = false;
  bool anomaly_ = false;
  std::vector<std::string> labels_;     // the OpLabel stack, innermost last
  std::vector<Provenance> provenance_;  // [node index], filled only while anomaly_ is on
  friend class GradContext;
};

// While alive, ops recorded on `tape` carry this label in anomaly errors: `text` and the source
// location where the label was made ("encoder step (model.cpp:42)"); nested labels join with " > ".
//   OpLabel label(tape, "decoder step");   // every op below, until scope exit
class OpLabel {
 public:
  // file/line default to the caller's (the builtins, not std::source_location, which clang 14
  // cannot provide with libstdc++ 12).
  explicit OpLabel(Tape& tape, std::string_view text = "", const char* file = __builtin_FILE(),
                   int line = __builtin_LINE());
  ~OpLabel();
  OpLabel(const OpLabel&) = delete;
  OpLabel& operator=(const OpLabel&) = delete;

 private:
  Tape& tape_;
};

// What a backward closure sees: the gradient of the node's output and its value, and ways to add
// into its inputs' gradients.
class GradContext {
 public:
  GradContext(Tape& tape, size_t index) : tape_(tape), index_(index) {}
  const Tensor& out() const { return tape_.nodes_[index_].grad; }     // dL/d(output)
  const Tensor& value() const { return tape_.nodes_[index_].value; }  // the op's forward output
  bool wants(const Var& v) const { return tape_.nodes_[v.index()].requires_grad; }
  // v.grad += g; a g larger than v (broadcast) is summed down to v's shape first.
  void accumulate(const Var& v, Tensor g);
  // v's gradient storage (zero-filled when first touched), for kernels that accumulate in place.
  Tensor& grad_of(const Var& v);
  // out() handed over for the closure's LAST use, e.g. passed on unchanged (reshape): the node's own
  // gradient when nothing reads it after this closure (it is freed next anyway), so accumulate can
  // adopt it instead of cloning; otherwise a shared handle.
  Tensor take_out();

 private:
  Tape& tape_;
  size_t index_;
};

// A new node with x's value (shared storage) that no gradient flows through.
Var detach(const Var& x);

}  // namespace seqgrad
