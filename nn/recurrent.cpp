// Generic recurrent wrappers: unroll (lengths, reversal, variational dropout, zoneout), the
// stacked/bidirectional Recurrent module, truncated BPTT and GradientProbe. Only autograd ops and
// the Cell interface are used, so every wrapper works for any cell.
#include "nn/recurrent.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "autograd/ops.h"

namespace seqgrad::nn {

namespace {

std::string str(int64_t v) { return std::to_string(v); }

void check_probability(double p, bool allow_one, const char* what) {
  if (!(p >= 0 && (allow_one ? p <= 1 : p < 1)))
    throw std::invalid_argument(std::string("Regularization: ") + what + " must be in [0, " +
                                (allow_one ? "1]" : "1)") + ", got " + std::to_string(p));
}

void check_regularization(const Regularization& r) {
  check_probability(r.input_dropout, false, "input_dropout");
  check_probability(r.state_dropout, false, "state_dropout");
  check_probability(r.zoneout_h, true, "zoneout_h");
  check_probability(r.zoneout_c, true, "zoneout_c");
}

// A (rows, cols) 0/1·scale mask of Bernoulli(keep) draws.
Tensor keep_mask(int64_t rows, int64_t cols, double keep, double scale, Rng& rng, DType dtype) {
  Tensor m = Tensor::bernoulli({rows, cols}, rng, keep, dtype);
  if (scale != 1.0)
    dispatch(dtype, [&]<typename T>(T) {
      T* p = m.data<T>();
      for (int64_t i = 0; i < m.numel(); ++i) p[i] *= T(scale);
    });
  return m;
}

void check_mask(const Tensor& m, const Shape& want, DType dtype, const char* what) {
  if (!m.defined()) return;
  if (!(m.shape() == want) || m.dtype() != dtype)
    throw std::invalid_argument(std::string("unroll: mask ") + what + " is " + m.describe() + " but expected " +
                                dtype_name(dtype) + " " + want.str());
}

// "unroll: cell 'Lstm' ", the start of every error about how a cell and its inputs fit.
std::string about(const Cell& cell) { return "unroll: cell '" + cell.type_name() + "' "; }

void check_state(const Cell& cell, const Var& v, int64_t B, DType dtype, const char* what) {
  const int64_t H = cell.hidden_size();
  if (!(v.shape() == Shape{B, H}) || v.dtype() != dtype)
    throw std::invalid_argument(about(cell) + "expects initial " + what + " " + dtype_name(dtype) + " (" + str(B) +
                                ", " + str(H) + "), got " + v.value().describe());
}

double frobenius(const Tensor& g) {
  return dispatch(g.dtype(), [&]<typename T>(T) {
    const T* p = g.data<T>();
    double s = 0;
    for (int64_t i = 0; i < g.numel(); ++i) s += double(p[i]) * double(p[i]);
    return std::sqrt(s);
  });
}

}  // namespace

UnrollMasks draw_masks(const Cell& cell, int64_t batch, int64_t steps, const Regularization& r, Rng& rng, DType dtype) {
  check_regularization(r);
  const int64_t I = cell.input_size(), H = cell.hidden_size();
  UnrollMasks m;
  if (r.input_dropout > 0) m.input = keep_mask(batch, I, 1 - r.input_dropout, 1 / (1 - r.input_dropout), rng, dtype);
  if (r.state_dropout > 0) m.state = keep_mask(batch, H, 1 - r.state_dropout, 1 / (1 - r.state_dropout), rng, dtype);
  const bool zh = r.zoneout_h > 0, zc = r.zoneout_c > 0 && cell.has_cell_state();
  for (int64_t t = 0; t < steps; ++t) {
    if (zh) m.zoneout_h.push_back(keep_mask(batch, H, r.zoneout_h, 1, rng, dtype));
    if (zc) m.zoneout_c.push_back(keep_mask(batch, H, r.zoneout_c, 1, rng, dtype));
  }
  return m;
}

// ---- unroll --------------------------------------------------------------------------------

namespace {

// Throws unless x is a non-empty (B, T, F) with F = the cell's input size and lengths are B values in 1..T.
void check_unroll_input(const Cell& cell, const Var& x, std::span<const int64_t> lengths) {
  if (!x.defined()) throw std::invalid_argument("unroll: input x is undefined");
  if (x.rank() != 3) throw std::invalid_argument("unroll: input must be (B, T, F), got " + x.shape().str());
  const int64_t B = x.size(0), T = x.size(1);
  if (x.size(2) != cell.input_size())
    throw std::invalid_argument(about(cell) + "expects input features " + str(cell.input_size()) + ", got x " +
                                x.shape().str() + " (" + str(x.size(2)) + " features)");
  if (B == 0 || T == 0) throw std::invalid_argument("unroll: empty batch or sequence, input " + x.shape().str());
  if (!lengths.empty()) {
    if (int64_t(lengths.size()) != B)
      throw std::invalid_argument("unroll: " + str(int64_t(lengths.size())) + " lengths for a batch of " + str(B));
    for (size_t b = 0; b < lengths.size(); ++b)
      if (lengths[b] < 1 || lengths[b] > T)
        throw std::invalid_argument("unroll: lengths[" + str(int64_t(b)) + "] = " + str(lengths[b]) +
                                    " is outside 1..T = " + str(T));
  }
}

// The state before the first step, (B, H) each: zeros when `initial` is empty, else `initial` checked.
State initial_state(const Cell& cell, const Var& x, const State& initial) {
  const int64_t B = x.size(0), H = cell.hidden_size();
  const DType dt = x.dtype();
  const bool has_c = cell.has_cell_state();
  State s = initial;
  if (!s.h.defined() && !s.c.defined()) {
    s.h = x.tape().constant(Tensor::zeros({B, H}, dt));
    if (has_c) s.c = x.tape().constant(Tensor::zeros({B, H}, dt));
  } else {
    if (!s.h.defined()) throw std::invalid_argument(about(cell) + "got an initial state with c but no h");
    check_state(cell, s.h, B, dt, "h");
    if (has_c) {
      if (!s.c.defined())
        throw std::invalid_argument(about(cell) +
                                    "has a cell state (has_cell_state() is true) but initial c is undefined");
      check_state(cell, s.c, B, dt, "c");
    } else {
      s.c = Var();  // ignored by cells without a cell state
    }
  }
  return s;
}

// The regularisation every step applies, resolved once for the whole unroll.
struct StepMasks {
  const UnrollMasks* masks = nullptr;  // given or drawn; null in eval mode or without regularisation
  Var input, state;                    // dropout masks as tape constants, (B, I) and (B, H); undefined = none
  bool zone_h = false, zone_c = false;
  bool training = false;  // zoneout by masks (training) or by its expectation (eval)
  double zoneout_h = 0, zoneout_c = 0;
};

// Masks given (o.masks) or drawn into `drawn` when training, checked against x (B, T, I) and H.
StepMasks step_masks(const Cell& cell, const Var& x, const UnrollOptions& o, UnrollMasks& drawn) {
  const int64_t B = x.size(0), T = x.size(1), H = cell.hidden_size();
  const DType dt = x.dtype();
  const Regularization& reg = o.regularization;
  check_regularization(reg);
  StepMasks m;
  m.training = cell.training();
  m.zoneout_h = reg.zoneout_h;
  m.zoneout_c = reg.zoneout_c;
  if (m.training && o.masks) {
    m.masks = o.masks;
  } else if (m.training && reg.any()) {
    if (!o.rng)
      throw std::invalid_argument(
          "unroll: training with dropout/zoneout needs an Rng (UnrollOptions::rng) or fixed masks");
    drawn = draw_masks(cell, B, T, reg, *o.rng, dt);
    m.masks = &drawn;
  }
  if (const UnrollMasks* masks = m.masks) {
    check_mask(masks->input, Shape{B, cell.input_size()}, dt, "input");
    check_mask(masks->state, Shape{B, H}, dt, "state");
    for (const auto* zs : {&masks->zoneout_h, &masks->zoneout_c}) {
      if (!zs->empty() && int64_t(zs->size()) != T)
        throw std::invalid_argument("unroll: " + str(int64_t(zs->size())) + " zoneout masks for " + str(T) + " steps");
      for (const Tensor& z : *zs) check_mask(z, Shape{B, H}, dt, "zoneout");
    }
    if (masks->input.defined()) m.input = x.tape().constant(masks->input);
    if (masks->state.defined()) m.state = x.tape().constant(masks->state);
  }
  m.zone_h = m.masks ? !m.masks->zoneout_h.empty() : reg.zoneout_h > 0;
  m.zone_c = cell.has_cell_state() && (m.masks ? !m.masks->zoneout_c.empty() : reg.zoneout_c > 0);
  return m;
}

// Step t: the cell on x_t (B, F) and s (B, H) each, with dropout on its inputs and zoneout on its result.
State masked_step(Cell& cell, const Var& x, int64_t t, const State& s, const StepMasks& m) {
  const int64_t B = x.size(0);
  Var xt = reshape(slice(x, 1, t, t + 1), {B, x.size(2)});  // (B, F)
  if (m.input.defined()) xt = xt * m.input;
  State in = s;
  if (m.state.defined()) in.h = s.h * m.state;
  State n = cell.checked_step(xt, in, "unroll");
  if (m.zone_h) {
    if (m.training) n.h = where(m.masks->zoneout_h[size_t(t)], s.h, n.h);
    else n.h = n.h * (1 - m.zoneout_h) + s.h * m.zoneout_h;
  }
  if (m.zone_c) {
    if (m.training) n.c = where(m.masks->zoneout_c[size_t(t)], s.c, n.c);
    else n.c = n.c * (1 - m.zoneout_c) + s.c * m.zoneout_c;
  }
  return n;
}

// Per-row lengths: rows past their length keep their state and output zeros. The active set
// (B, 1) only shrinks with t (grows when reversed), so it is identified by its size and rebuilt
// only when that changes.
struct LengthMask {
  std::span<const int64_t> lengths;
  int64_t min_len = 0;        // every row is active at t < min_len
  Var zero;                   // scalar 0 in x's dtype; defined when some row is shorter than T
  Tensor active;              // (B, 1): 1 = the row is still running
  int64_t active_count = -1;  // rows in `active`
};

// The length mask of x (B, T, F) for `lengths` (empty: every row runs all T steps).
LengthMask length_mask(const Var& x, std::span<const int64_t> lengths) {
  const int64_t T = x.size(1);
  LengthMask lm;
  lm.lengths = lengths;
  lm.min_len = T;
  for (int64_t l : lengths) lm.min_len = std::min(lm.min_len, l);
  lm.zero = lm.min_len < T ? x.tape().constant(Tensor::zeros(Shape{}, x.dtype())) : Var();
  return lm;
}

// Step t's output (B, H); rows past their length get n frozen back to s and a zero output.
Var freeze_finished(LengthMask& lm, int64_t t, State& n, const State& s, bool has_c) {
  if (t < lm.min_len) return n.h;
  const int64_t B = n.h.size(0);
  int64_t count = 0;
  for (int64_t l : lm.lengths) count += l > t;
  if (count != lm.active_count) {
    lm.active = Tensor(Shape{B, 1}, lm.zero.dtype());
    for (int64_t b = 0; b < B; ++b) lm.active.set({b, 0}, lm.lengths[size_t(b)] > t ? 1.0 : 0.0);
    lm.active_count = count;
  }
  Var out = where(lm.active, n.h, lm.zero);
  n.h = where(lm.active, n.h, s.h);
  if (has_c) n.c = where(lm.active, n.c, s.c);
  return out;
}

}  // namespace

UnrollResult unroll(Cell& cell, const Var& x, const State& initial, const UnrollOptions& o) {
  check_unroll_input(cell, x, o.lengths);
  const int64_t T = x.size(1);
  const bool has_c = cell.has_cell_state();
  State s = initial_state(cell, x, initial);
  UnrollMasks drawn;
  const StepMasks masks = step_masks(cell, x, o, drawn);
  LengthMask lm = length_mask(x, o.lengths);

  UnrollResult r;
  r.h.resize(size_t(T));
  if (has_c) r.c.resize(size_t(T));
  std::vector<Var> outputs(static_cast<size_t>(T));
  for (int64_t k = 0; k < T; ++k) {
    const int64_t t = o.reverse ? T - 1 - k : k;
    State n = masked_step(cell, x, t, s, masks);
    outputs[size_t(t)] = freeze_finished(lm, t, n, s, has_c);
    s = n;
    r.h[size_t(t)] = s.h;
    if (has_c) r.c[size_t(t)] = s.c;
  }
  r.output = stack(outputs, 1);  // (B, T, H)
  r.final = s;
  return r;
}

// ---- Recurrent -----------------------------------------------------------------------------

Recurrent::Recurrent(const CellFactory& make_cell, int64_t input_size, int64_t hidden_size, Rng& rng,
                     RecurrentOptions options)
    : input_size_(input_size), hidden_size_(hidden_size), options_(options) {
  if (!make_cell) throw std::invalid_argument("Recurrent: empty cell factory");
  if (input_size <= 0 || hidden_size <= 0)
    throw std::invalid_argument("Recurrent: input_size and hidden_size must be positive, got " + str(input_size) +
                                " and " + str(hidden_size));
  if (options.num_layers < 1)
    throw std::invalid_argument("Recurrent: num_layers must be >= 1, got " + str(options.num_layers));
  if (!(options.dropout >= 0 && options.dropout < 1))
    throw std::invalid_argument("Recurrent: dropout must be in [0, 1), got " + std::to_string(options.dropout));
  check_regularization(options.regularization);
  const int64_t D = num_directions();
  for (int64_t l = 0; l < options.num_layers; ++l)
    for (int64_t d = 0; d < D; ++d) {
      std::unique_ptr<Cell> c = make_cell(l == 0 ? input_size : D * hidden_size, hidden_size, rng);
      if (!c) throw std::invalid_argument("Recurrent: the cell factory returned null");
      if (c->hidden_size() != hidden_size || c->input_size() != (l == 0 ? input_size : D * hidden_size))
        throw std::invalid_argument("Recurrent: the cell factory made a cell of sizes (" + str(c->input_size()) + ", " +
                                    str(c->hidden_size()) + ") for layer " + str(l));
      std::string name(1, 'l');
      name += str(l);
      if (d) name.append("_reverse");
      register_module(std::move(name), *c);
      cells_.push_back(std::move(c));
    }
}

Cell& Recurrent::cell(int64_t layer, bool reverse) {
  if (layer < 0 || layer >= num_layers() || (reverse && !options_.bidirectional))
    throw std::out_of_range("Recurrent::cell: no cell for layer " + str(layer) + (reverse ? " (reverse)" : ""));
  return *cells_[size_t(layer * num_directions() + (reverse ? 1 : 0))];
}

// Dropout applies between layers only, so one layer draws nothing for it.
bool Recurrent::needs_rng() const {
  return training() && ((options_.dropout > 0 && num_layers() > 1) || options_.regularization.any());
}

// forward with or without an Rng (null: nothing may be drawn).
RecurrentResult Recurrent::run(const Var& x, Rng* rng, std::span<const State> initial,
                               std::span<const int64_t> lengths) {
  if (!x.defined() || x.rank() != 3 || x.size(2) != input_size_)
    throw std::invalid_argument("Recurrent: input must be (B, T, " + str(input_size_) + "), got " +
                                (x.defined() ? x.shape().str() : std::string("undefined")));
  if (!rng && needs_rng())
    throw std::invalid_argument(
        "Recurrent: training with dropout or regularization draws masks: call forward(x, rng, "
        "...), or eval() first");
  const int64_t L = num_layers(), D = num_directions();
  if (!initial.empty() && int64_t(initial.size()) != L * D)
    throw std::invalid_argument("Recurrent: " + str(int64_t(initial.size())) + " initial states but " + str(L) +
                                " layers x " + str(D) + " directions need " + str(L * D));
  RecurrentResult r;
  r.runs.reserve(size_t(L * D));
  Var input = x;
  for (int64_t l = 0; l < L; ++l) {
    if (l > 0 && rng) input = dropout(input, options_.dropout, *rng, training());
    Var outs[2];
    for (int64_t d = 0; d < D; ++d) {
      const size_t i = size_t(l * D + d);
      UnrollOptions o{lengths, d == 1, options_.regularization, rng, nullptr};
      r.runs.push_back(unroll(*cells_[i], input, initial.empty() ? State{} : initial[i], o));
      r.final.push_back(r.runs.back().final);
      outs[d] = r.runs.back().output;
    }
    input = D == 2 ? concat(std::span<const Var>(outs, 2), 2) : outs[0];
  }
  r.output = input;
  return r;
}

// ---- truncated BPTT ------------------------------------------------------------------------

StateValues values_of(const State& s) {
  StateValues v;
  if (s.h.defined()) v.h = s.h.value().clone();
  if (s.c.defined()) v.c = s.c.value().clone();
  return v;
}

State constants_of(Tape& tape, const StateValues& v) {
  State s;
  if (v.h.defined()) s.h = tape.constant(v.h);
  if (v.c.defined()) s.c = tape.constant(v.c);
  return s;
}

static void check_chunking(int64_t steps, int64_t k) {
  if (steps < 1 || k < 1)
    throw std::invalid_argument("truncated_bptt: steps and chunk length k must be >= 1, got " + str(steps) + " and " +
                                str(k));
}

StateValues truncated_bptt(Tape& tape, Cell& cell, int64_t steps, int64_t k, const ChunkInput& input,
                           const ChunkCallback& on_chunk, const StateValues& initial,
                           const Regularization& regularization, Rng* rng) {
  check_chunking(steps, k);
  StateValues carried = initial;
  for (int64_t start = 0, i = 0; start < steps; start += k, ++i) {
    const int64_t end = std::min(start + k, steps);
    Var x = input(tape, start, end);
    if (!x.defined() || x.rank() != 3 || x.size(1) != end - start)
      throw std::invalid_argument("truncated_bptt: chunk input for steps [" + str(start) + ", " + str(end) + ") is " +
                                  (x.defined() ? x.shape().str() : std::string("undefined")));
    UnrollOptions o;
    o.regularization = regularization;
    o.rng = rng;
    UnrollResult r = unroll(cell, x, constants_of(tape, carried), o);
    carried = values_of(r.final);  // before on_chunk, which may reset the tape
    on_chunk(r, i);
  }
  return carried;
}

StateValues truncated_bptt(Tape& tape, Cell& cell, const Tensor& x, int64_t k, const ChunkCallback& on_chunk,
                           const StateValues& initial) {
  if (x.rank() != 3) throw std::invalid_argument("truncated_bptt: input must be (B, T, F), got " + x.shape().str());
  auto input = [&x](Tape& t, int64_t start, int64_t end) { return slice(t.constant(x), 1, start, end); };
  return truncated_bptt(tape, cell, x.size(1), k, input, on_chunk, initial);
}

std::vector<StateValues> truncated_bptt(Tape& tape, Recurrent& rnn, int64_t steps, int64_t k, const ChunkInput& input,
                                        const RecurrentChunkCallback& on_chunk, Rng& rng,
                                        const std::vector<StateValues>& initial) {
  check_chunking(steps, k);
  std::vector<StateValues> carried = initial;
  std::vector<State> states;
  for (int64_t start = 0, i = 0; start < steps; start += k, ++i) {
    const int64_t end = std::min(start + k, steps);
    Var x = input(tape, start, end);
    states.clear();
    for (const StateValues& v : carried) states.push_back(constants_of(tape, v));
    RecurrentResult r = rnn.forward(x, rng, states);
    carried.clear();
    for (const State& s : r.final) carried.push_back(values_of(s));
    on_chunk(r, i);
  }
  return carried;
}

// ---- GradientProbe -------------------------------------------------------------------------

GradientProbe::GradientProbe(const UnrollResult& result) : norms_(std::make_shared<Norms>()) {
  norms_->h.assign(result.h.size(), 0.0);
  norms_->c.assign(result.c.size(), 0.0);
  auto attach = [&](const std::vector<Var>& vars, std::vector<double> Norms::*which, const char* name) {
    for (size_t t = 0; t < vars.size(); ++t) {
      if (!vars[t].requires_grad())
        throw std::invalid_argument(std::string("GradientProbe: ") + name + "_" + str(int64_t(t)) +
                                    " does not require grad (built under NoGradGuard or from constants only)");
      vars[t].register_hook([n = norms_, which, t](Tensor& g) { ((*n).*which)[t] = frobenius(g); });
    }
  };
  attach(result.h, &Norms::h, "h");
  attach(result.c, &Norms::c, "c");
}

}  // namespace seqgrad::nn
