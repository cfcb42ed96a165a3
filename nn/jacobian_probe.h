// The per-step Jacobian of a cell's recurrent state map, J_t = ∂s_t/∂s_{t−1}, along one input
// sequence, with its singular values: the quantity behind the vanishing/exploding analysis of
// Pascanu et al. 2013 (‖∂s_T/∂s_k‖ ≤ Π_{t=k+1..T} σ_max(J_t)). Works for ANY Cell.
//   auto steps = nn::state_jacobians(cell, x);          // x: (T, I), one sequence
//   steps[t].singular_values.front();                   // σ_max of ∂s_t/∂s_{t−1}
#pragma once

#include <cstdint>
#include <vector>

#include "nn/cell.h"
#include "nn/recurrent.h"

namespace seqgrad::nn {

// The state is s = h, (H), for cells without a cell state, and the concatenation s = [h; c], (2H),
// for cells with one (LSTM family), so J_t = [[∂h_t/∂h_{t−1}, ∂h_t/∂c_{t−1}], [∂c_t/∂h_{t−1},
// ∂c_t/∂c_{t−1}]].
struct StepJacobian {
  Tensor jacobian;                      // (S, S) float64: element (i, j) = ∂s_t[i]/∂s_{t−1}[j]
  std::vector<double> singular_values;  // of `jacobian`, descending (S of them)
  Tensor state;                         // s_t, (S) float64
};

// For t = 0 … T−1, s_t = cell.step(x_t, s_{t−1}) with s_{−1} = `initial` (zeros when undefined;
// h and c (1, H) or (H) each). Runs in float64 whatever the cell's dtype (the cell is converted for
// the call and its values, gradients and dtype restored afterwards); parameters enter as constants,
// so their gradients are untouched. One forward and S backward passes per step (autograd/jacobian.h),
// then the T singular-value decompositions, spread over threads (each one sequential).
// The same cell and inputs give the same bits at any thread count. Throws naming the function when
// x is not (T, I) with I = cell.input_size() and T >= 1, or the initial state does not fit.
std::vector<StepJacobian> state_jacobians(Cell& cell, const Tensor& x, const StateValues& initial = {});

}  // namespace seqgrad::nn
