// The cells the studies compare, named and built in ONE place, so every study trains the same
// forms: rnn = nn::Elman (tanh); lstm = nn::Lstm with a forget gate (bias set by the study);
// gru = nn::Gru in the reset-after form (PyTorch's nn.GRU and cuDNN's); bilstm = an LSTM run in
// both directions by nn::Recurrent (bidirectionality belongs to the wrapper, not the cell);
// lstm1997 = nn::Lstm1997, the original LSTM without a forget gate (output-gate bias −1).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "autograd/rng.h"
#include "nn/recurrent.h"

namespace seqgrad::experiments {

enum class CellKind { rnn, lstm, gru, bilstm, lstm1997 };
const char* cell_name(CellKind kind);                          // "rnn", "lstm", "gru", "bilstm", "lstm1997"
CellKind parse_cell(const std::string& name);                  // also "elman" for rnn; throws std::invalid_argument
std::vector<std::string> cell_names(bool with_bilstm = true);  // rnn, lstm, gru (, bilstm): the compared four
// One line for the report: the form each kind is built in, e.g. "gru: nn::Gru, reset-after form ...".
std::string cell_form(CellKind kind);

// The weight blocks of one step relative to the Elman RNN's (rnn 1, gru 3, lstm1997 3, lstm 4, bilstm 8): a
// training's cost per step and hidden², for dividing a sweep's units across ranks (sweep.h).
double cell_cost(CellKind kind);

// The factory nn::Recurrent builds each layer's cell with (bilstm: the LSTM cell; ask the wrapper
// for both directions).
nn::CellFactory cell_factory(CellKind kind, double forget_bias);
// One cell of `kind` (x: (B, input) -> h: (B, hidden)); bilstm throws, as a cell runs one direction.
std::unique_ptr<nn::Cell> make_cell(CellKind kind, int64_t input, int64_t hidden, Rng& rng, double forget_bias);

}  // namespace seqgrad::experiments
