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
    throw std::invalid_argument(std::string("Regularization: ") + what + " must be in [0, " + (allow_one ? "1]" : "1)") +
                                ", got " + std::to_string(p));
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

void check_state(const Var& v, int64_t B, int64_t H, DType dtype, const char* what) {
  if (!(v.shape() == Shape{B, H}) || v.dtype() != dtype)
    throw std::invalid_argument(std::string("unroll: initial ") + what + " is " + v.value().describe() +
                                " but expected " + dtype_name(dtype) + " (" + str(B) + ", " + str(H) + ")");
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

UnrollMasks draw_masks(const Cell& cell, int64_t batch, int64_t steps, const Regularization& r, Rng& rng,
                       DType dtype) {
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

UnrollResult unroll(Cell& cell, const Var& x, const State& initial, const UnrollOptions& o) {
  if (!x.defined()) throw std::invalid_argument("unroll: input x is undefined");
  if (x.rank() != 3)
    throw std::invalid_argument("unroll: input must be (B, T, F), got " + x.shape().str());
  const int64_t B = x.size(0), T = x.size(1), H = cell.hidden_size();
  const DType dt = x.dtype();
  const bool has_c = cell.has_cell_state();
  if (x.size(2) != cell.input_size())
    throw std::invalid_argument("unroll: input " + x.shape().str() + " has " + str(x.size(2)) +
                                " features but the cell expects " + str(cell.input_size()));
  if (B == 0 || T == 0) throw std::invalid_argument("unroll: empty batch or sequence, input " + x.shape().str());
  if (!o.lengths.empty()) {
    if (int64_t(o.lengths.size()) != B)
      throw std::invalid_argument("unroll: " + str(int64_t(o.lengths.size())) + " lengths for a batch of " + str(B));
    for (size_t b = 0; b < o.lengths.size(); ++b)
      if (o.lengths[b] < 1 || o.lengths[b] > T)
        throw std::invalid_argument("unroll: lengths[" + str(int64_t(b)) + "] = " + str(o.lengths[b]) +
                                    " is outside 1..T = " + str(T));
  }

  Tape& tape = x.tape();
  State s = initial;
  if (!s.h.defined() && !s.c.defined()) {
    s.h = tape.constant(Tensor::zeros({B, H}, dt));
    if (has_c) s.c = tape.constant(Tensor::zeros({B, H}, dt));
  } else {
    if (!s.h.defined()) throw std::invalid_argument("unroll: initial state has c but no h");
    check_state(s.h, B, H, dt, "h");
    if (has_c) {
      if (!s.c.defined()) throw std::invalid_argument("unroll: the cell has a cell state but initial c is undefined");
      check_state(s.c, B, H, dt, "c");
    } else {
      s.c = Var();  // ignored by cells without a cell state
    }
  }

  // Regularisation: masks drawn (or given) once for the whole unroll.
  const Regularization& reg = o.regularization;
  check_regularization(reg);
  const bool training = cell.training();
  UnrollMasks drawn;
  const UnrollMasks* masks = nullptr;
  if (training && o.masks) {
    masks = o.masks;
  } else if (training && reg.any()) {
    if (!o.rng)
      throw std::invalid_argument("unroll: training with dropout/zoneout needs an Rng (UnrollOptions::rng) or fixed masks");
    drawn = draw_masks(cell, B, T, reg, *o.rng, dt);
    masks = &drawn;
  }
  Var input_mask, state_mask;
  if (masks) {
    check_mask(masks->input, Shape{B, cell.input_size()}, dt, "input");
    check_mask(masks->state, Shape{B, H}, dt, "state");
    for (const auto* zs : {&masks->zoneout_h, &masks->zoneout_c}) {
      if (!zs->empty() && int64_t(zs->size()) != T)
        throw std::invalid_argument("unroll: " + str(int64_t(zs->size())) + " zoneout masks for " + str(T) + " steps");
      for (const Tensor& z : *zs) check_mask(z, Shape{B, H}, dt, "zoneout");
    }
    if (masks->input.defined()) input_mask = tape.constant(masks->input);
    if (masks->state.defined()) state_mask = tape.constant(masks->state);
  }
  const bool zone_h = masks ? !masks->zoneout_h.empty() : reg.zoneout_h > 0;
  const bool zone_c = has_c && (masks ? !masks->zoneout_c.empty() : reg.zoneout_c > 0);

  // Length masks (B, 1): the active set only shrinks with t (grows when reversed), so it is
  // identified by its size and rebuilt only when that changes.
  int64_t min_len = T;
  for (int64_t l : o.lengths) min_len = std::min(min_len, l);
  Tensor active;
  int64_t active_count = -1;
  Var zero = min_len < T ? tape.constant(Tensor::zeros(Shape{}, dt)) : Var();

  UnrollResult r;
  r.h.resize(size_t(T));
  if (has_c) r.c.resize(size_t(T));
  std::vector<Var> outputs(static_cast<size_t>(T));
  for (int64_t k = 0; k < T; ++k) {
    const int64_t t = o.reverse ? T - 1 - k : k;
    Var xt = reshape(slice(x, 1, t, t + 1), {B, x.size(2)});  // (B, F)
    if (input_mask.defined()) xt = xt * input_mask;
    State in = s;
    if (state_mask.defined()) in.h = s.h * state_mask;
    State n = cell.step(xt, in);
    if (!n.h.defined() || !(n.h.shape() == Shape{B, H}) || (has_c && !n.c.defined()))
      throw std::logic_error("unroll: the cell's step returned a state that is not (" + str(B) + ", " + str(H) + ")");
    if (!has_c) n.c = Var();
    if (zone_h) {
      if (training) n.h = where(masks->zoneout_h[size_t(t)], s.h, n.h);
      else n.h = n.h * (1 - reg.zoneout_h) + s.h * reg.zoneout_h;
    }
    if (zone_c) {
      if (training) n.c = where(masks->zoneout_c[size_t(t)], s.c, n.c);
      else n.c = n.c * (1 - reg.zoneout_c) + s.c * reg.zoneout_c;
    }
    Var out = n.h;
    if (t >= min_len) {  // some rows are past their length: freeze their state, zero their output
      int64_t count = 0;
      for (int64_t l : o.lengths) count += l > t;
      if (count != active_count) {
        active = Tensor(Shape{B, 1}, dt);
        for (int64_t b = 0; b < B; ++b) active.set({b, 0}, o.lengths[size_t(b)] > t ? 1.0 : 0.0);
        active_count = count;
      }
      out = where(active, n.h, zero);
      n.h = where(active, n.h, s.h);
      if (has_c) n.c = where(active, n.c, s.c);
    }
    s = n;
    r.h[size_t(t)] = s.h;
    if (has_c) r.c[size_t(t)] = s.c;
    outputs[size_t(t)] = out;
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
  if (options.num_layers < 1) throw std::invalid_argument("Recurrent: num_layers must be >= 1, got " + str(options.num_layers));
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

RecurrentResult Recurrent::forward(const Var& x, Rng& rng, std::span<const State> initial,
                                   std::span<const int64_t> lengths) {
  if (!x.defined() || x.rank() != 3 || x.size(2) != input_size_)
    throw std::invalid_argument("Recurrent: input must be (B, T, " + str(input_size_) + "), got " +
                                (x.defined() ? x.shape().str() : std::string("undefined")));
  const int64_t L = num_layers(), D = num_directions();
  if (!initial.empty() && int64_t(initial.size()) != L * D)
    throw std::invalid_argument("Recurrent: " + str(int64_t(initial.size())) + " initial states but " + str(L) +
                                " layers x " + str(D) + " directions need " + str(L * D));
  RecurrentResult r;
  r.runs.reserve(size_t(L * D));
  Var input = x;
  for (int64_t l = 0; l < L; ++l) {
    if (l > 0) input = dropout(input, options_.dropout, rng, training());
    Var outs[2];
    for (int64_t d = 0; d < D; ++d) {
      const size_t i = size_t(l * D + d);
      UnrollOptions o{lengths, d == 1, options_.regularization, &rng, nullptr};
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
