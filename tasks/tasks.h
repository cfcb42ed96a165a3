// Synthetic sequence tasks a cell author tests with: the adding problem (two versions), temporal
// order and the copy task, each with its success criterion. Generators draw everything from the
// caller's Rng (same seed, same bits) and return float32 tensors; positions of the relevant inputs
// are returned too, so tests can check the generators and users can inspect them.
//
//   Rng rng(1);
//   tasks::Batch b = tasks::adding_problem(rng, 32, 100);   // b.x (32, 100, 2), b.target (32, 1)
#pragma once

#include <cstdint>
#include <vector>

#include "autograd/rng.h"
#include "autograd/tensor.h"

namespace seqgrad::tasks {

struct Batch {
  Tensor x;                            // (B, T, F) inputs
  Tensor target;                       // regression target (adding: (B, 1)); undefined otherwise
  std::vector<int64_t> labels;         // temporal order: (B) classes; copy: (B·T) per-step classes; else empty
  std::vector<int64_t> first, second;  // adding, temporal order: (B) the two relevant steps, first < second
};

// ---- the adding problem -------------------------------------------------------------------------

// The common modern form: each step carries (value ∈ U[0, 1), marker); one step is marked in each
// half of the sequence; the target is the sum of the two marked values. Predicting the mean scores
// MSE ≈ 1/6. Needs batch >= 1 and steps >= 2.
Batch adding_problem(Rng& rng, int64_t batch, int64_t steps);

// Hochreiter & Schmidhuber (1997, §5.4)'s version: value ∈ U[−1, 1), marker ∈ {0, 1}; the first
// marker in the first min(10, T/2) steps, the second anywhere else in the first half (steps
// 0..T/2−1), so the last relevant input is at least T/2 steps before the end. Target
// 0.5 + (X1 + X2)/4 ∈ [0, 1] (adding_target_hs97). Needs batch >= 1 and T >= 4.
Batch adding_problem_hs97(Rng& rng, int64_t batch, int64_t T);
inline double adding_target_hs97(double x1, double x2) { return 0.5 + (x1 + x2) / 4.0; }

// The paper's criterion: a sequence is correct when |prediction − target| < 0.04; the task is
// solved at >= 99% correct.
constexpr double kAddingTolerance = 0.04, kAddingSolved = 0.99;
// Fraction of sequences with |prediction − target| < kAddingTolerance (sizes must agree, > 0).
double adding_accuracy(const std::vector<double>& prediction, const std::vector<double>& target);

// ---- temporal order -----------------------------------------------------------------------------

// H&S 1997 §5.6 (as in Pascanu et al. 2013): symbols one-hot in 8 inputs in the order a, b, c, d, X,
// Y, B, E. Step 0 is B, step T−1 is E, every other step a random distractor a..d except t1 and t2,
// which hold X or Y at random: t1 uniform in [⌊0.1T⌋, ⌊0.2T⌋], t2 uniform in [⌊0.5T⌋, ⌊0.6T⌋].
// Class = 2·[s1 = Y] + [s2 = Y]: 0 XX, 1 XY, 2 YX, 3 YY. Needs batch >= 1 and T >= 10.
enum Symbol : int64_t { sym_a = 0, sym_b, sym_c, sym_d, sym_X, sym_Y, sym_B, sym_E, num_symbols };
constexpr int64_t kOrderClasses = 4;
constexpr double kOrderMaxError = 0.01;  // solved at held-out error < 1%
Batch temporal_order(Rng& rng, int64_t batch, int64_t T);
inline int64_t order_class(bool first_is_y, bool second_is_y) { return 2 * int64_t(first_is_y) + int64_t(second_is_y); }

// Fraction of rows of logits (N, C), row-major, whose argmax (the first on ties) equals the label.
double classification_accuracy(const std::vector<double>& logits, const std::vector<int64_t>& labels, int64_t classes);

// ---- the copy task ------------------------------------------------------------------------------

// Arjovsky, Shah & Bengio (2016)'s form of H&S 1997's long-delay memory task: alphabet categories
// 1..alphabet are data, 0 is the blank and alphabet + 1 the delimiter (alphabet + 2 one-hot inputs
// and classes). Input: `length` data symbols drawn uniformly, then delay − 1 blanks, the delimiter,
// and `length` blanks (T = delay + 2·length steps). Target per step (labels, row-major (B, T)):
// blank everywhere except the last `length` steps, which must reproduce the data symbols in order.
// Needs batch >= 1, length >= 1, delay >= 1, alphabet >= 1.
Batch copy_task(Rng& rng, int64_t batch, int64_t delay, int64_t length = 10, int64_t alphabet = 8);
// The memoryless baseline's mean cross-entropy per step (nats): blanks predicted exactly and the
// data guessed uniformly, length·ln(alphabet) / (delay + 2·length). A model must go below it.
double copy_baseline_loss(int64_t delay, int64_t length = 10, int64_t alphabet = 8);

}  // namespace seqgrad::tasks
