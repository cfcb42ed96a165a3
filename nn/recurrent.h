// Generic recurrent wrappers that work for ANY Cell: unroll over (B, T, F) with optional
// per-sequence lengths and reversal; Recurrent (stacked, bidirectional, dropout between layers,
// PyTorch's parameter names and h_n order); variational dropout and zoneout as unroll options;
// truncated BPTT; per-timestep gradient norms (GradientProbe).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "autograd/rng.h"
#include "nn/cell.h"

namespace seqgrad::nn {

// ---- regularisation inside the recurrence --------------------------------------------------

// Active in training mode (the cell's training()); in eval mode dropout is off and zoneout uses
// its expectation  h_t = (1 − z)·h̃_t + z·h_{t−1}.
struct Regularization {
  // Variational dropout (Gal & Ghahramani 2016): ONE mask per sequence (row), shared by all steps.
  double input_dropout = 0;  // on every x_t (B, I)
  double state_dropout = 0;  // on the h_{t−1} the cell reads (B, H); the carried state is not
                             // masked. For LSTM this is exactly Gal's U·(h ⊙ m); for a GRU the
                             // masked h also enters z ⊙ h_{t−1}, since a generic wrapper cannot
                             // tell the uses apart.
  // Zoneout (Krueger et al. 2017): per unit and step, keep the previous value with probability z.
  double zoneout_h = 0;
  double zoneout_c = 0;  // LSTM-family cells only (ignored otherwise)
  bool any() const { return input_dropout > 0 || state_dropout > 0 || zoneout_h > 0 || zoneout_c > 0; }
};

// The random masks of one training unroll, in x's dtype. Undefined / empty = not applied.
struct UnrollMasks {
  Tensor input;                              // (B, I): 0 or 1/(1 − p)
  Tensor state;                              // (B, H): 0 or 1/(1 − p)
  std::vector<Tensor> zoneout_h, zoneout_c;  // T masks (B, H) indexed by time: 1 = keep h_{t−1}
};
// Draws, in this order: input, state, then per step t = 0..T−1 zoneout_h[t], zoneout_c[t].
UnrollMasks draw_masks(const Cell& cell, int64_t batch, int64_t steps, const Regularization& r, Rng& rng, DType dtype);

// ---- unroll --------------------------------------------------------------------------------

struct UnrollOptions {
  // Per-sequence lengths, each in 1..T (empty: all T). Past its length a row's state is frozen
  // (carried unchanged) and its output is zero; final = the state at the row's last real step.
  std::span<const int64_t> lengths = {};
  // Run t = T−1 … 0; with lengths each row starts at its own last real step t = len − 1.
  bool reverse = false;
  Regularization regularization = {};
  Rng* rng = nullptr;                  // draws the masks (needed when training with regularization)
  const UnrollMasks* masks = nullptr;  // fixed masks instead of drawing (training mode only)
};

struct UnrollResult {
  Var output;             // (B, T, H): h_t at real steps, zeros past each length
  std::vector<Var> h, c;  // the carried state after step t, indexed by TIME t (also when reversed);
                          // c empty for cells without a cell state
  State final;            // (B, H) each: the state at each row's last real step
};

// Runs `cell` over x (B, T, F). `initial` defaults to zeros (h and c both, or neither).
UnrollResult unroll(Cell& cell, const Var& x, const State& initial = {}, const UnrollOptions& options = {});

// ---- stacked / bidirectional module --------------------------------------------------------

using CellFactory = std::function<std::unique_ptr<Cell>(int64_t input_size, int64_t hidden_size, Rng& rng)>;
// cell_factory<Lstm>(1.0) makes Lstm(input, hidden, rng, 1.0).
template <typename C, typename... Args>
CellFactory cell_factory(Args... args) {
  return [=](int64_t input_size, int64_t hidden_size, Rng& rng) -> std::unique_ptr<Cell> {
    return std::make_unique<C>(input_size, hidden_size, rng, args...);
  };
}

struct RecurrentOptions {
  int64_t num_layers = 1;
  bool bidirectional = false;
  double dropout = 0;                  // elementwise, on each layer's output except the last (as PyTorch)
  Regularization regularization = {};  // inside every layer and direction, each drawing its own masks
};

struct RecurrentResult {
  Var output;                      // (B, T, D·H) of the last layer; bidirectional = [forward | reverse]
  std::vector<State> final;        // L·D states, index layer·D + direction (PyTorch's h_n order)
  std::vector<UnrollResult> runs;  // the same order: every per-step state, for instrumentation
};

// Submodules "l0", "l0_reverse", "l1", … so parameters read "l0.weight_ih", "l0_reverse.bias".
class Recurrent : public Module {
 public:
  Recurrent(const CellFactory& make_cell, int64_t input_size, int64_t hidden_size, Rng& rng,
            RecurrentOptions options = {});
  // x: (B, T, input_size); initial: empty or L·D states in h_n order; `rng` for all dropout masks.
  RecurrentResult forward(const Var& x, Rng& rng, std::span<const State> initial = {},
                          std::span<const int64_t> lengths = {}) {
    return run(x, &rng, initial, lengths);
  }
  // Without an Rng: for eval mode, or a module with no dropout or regularisation (throws otherwise).
  RecurrentResult forward(const Var& x, std::span<const State> initial = {}, std::span<const int64_t> lengths = {}) {
    return run(x, nullptr, initial, lengths);
  }
  RecurrentResult operator()(const Var& x, Rng& rng, std::span<const State> initial = {},
                             std::span<const int64_t> lengths = {}) {
    return run(x, &rng, initial, lengths);
  }
  RecurrentResult operator()(const Var& x, std::span<const State> initial = {}, std::span<const int64_t> lengths = {}) {
    return run(x, nullptr, initial, lengths);
  }

  Cell& cell(int64_t layer, bool reverse = false);
  int64_t num_layers() const { return options_.num_layers; }
  int64_t num_directions() const { return options_.bidirectional ? 2 : 1; }
  int64_t input_size() const { return input_size_; }
  int64_t hidden_size() const { return hidden_size_; }
  const RecurrentOptions& options() const { return options_; }
  // Whether a forward pass now draws random masks: in training mode, with dropout (between layers,
  // so 2 or more) or regularisation.
  bool needs_rng() const;

 private:
  RecurrentResult run(const Var& x, Rng* rng, std::span<const State> initial, std::span<const int64_t> lengths);

  int64_t input_size_, hidden_size_;
  RecurrentOptions options_;
  std::vector<std::unique_ptr<Cell>> cells_;  // layer-major, forward then reverse
};

// ---- truncated BPTT ------------------------------------------------------------------------

// A state's values off any tape (survive Tape::reset()).
struct StateValues {
  Tensor h, c;
};
StateValues values_of(const State& s);                 // copies (clones) the values
State constants_of(Tape& tape, const StateValues& v);  // re-enters them as constants (no gradient)

// Builds the input (B, end − start, F) of steps [start, end) on `tape` (e.g. an embedding lookup).
using ChunkInput = std::function<Var(Tape& tape, int64_t start, int64_t end)>;
using ChunkCallback = std::function<void(const UnrollResult& result, int64_t chunk)>;
using RecurrentChunkCallback = std::function<void(const RecurrentResult& result, int64_t chunk)>;

// Truncated BPTT over `steps` steps in chunks of k (the last may be shorter): chunk i covers steps
// [i·k, min((i+1)·k, steps)). For each chunk: input(tape, start, end), the carried state entered as
// CONSTANTS, unroll, then on_chunk(result, i). Gradients therefore flow within a chunk only; the
// caller computes the chunk's loss, runs tape.backward, steps its optimiser and may tape.reset()
// inside on_chunk (state values are copied out before on_chunk runs). Parameter gradients
// accumulate across chunks unless the caller zeroes them. Returns the final state's values.
StateValues truncated_bptt(Tape& tape, Cell& cell, int64_t steps, int64_t k, const ChunkInput& input,
                           const ChunkCallback& on_chunk, const StateValues& initial = {},
                           const Regularization& regularization = {}, Rng* rng = nullptr);
// Convenience: x (B, T, F) held outside the tape, fed as constants.
StateValues truncated_bptt(Tape& tape, Cell& cell, const Tensor& x, int64_t k, const ChunkCallback& on_chunk,
                           const StateValues& initial = {});
// The same for a Recurrent stack: carries all L·D states (h_n order).
std::vector<StateValues> truncated_bptt(Tape& tape, Recurrent& rnn, int64_t steps, int64_t k, const ChunkInput& input,
                                        const RecurrentChunkCallback& on_chunk, Rng& rng,
                                        const std::vector<StateValues>& initial = {});

// ---- per-timestep gradient instrumentation -------------------------------------------------

// Registers hooks on every h_t (and c_t) of an unroll; after tape.backward(loss), h_norms()[t] =
// ‖∂L/∂h_t‖₂ (Frobenius over the batch; the TOTAL derivative, through all later steps), 0 where no
// gradient reached. Each backward overwrites the norms it reaches. Copies share the same storage.
class GradientProbe {
 public:
  explicit GradientProbe(const UnrollResult& result);
  const std::vector<double>& h_norms() const { return norms_->h; }
  const std::vector<double>& c_norms() const { return norms_->c; }  // empty without a cell state

 private:
  struct Norms {
    std::vector<double> h, c;
  };
  std::shared_ptr<Norms> norms_;
};

}  // namespace seqgrad::nn
