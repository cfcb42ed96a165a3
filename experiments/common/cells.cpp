// The studies' cells. See cells.h.
#include "experiments/common/cells.h"

#include <stdexcept>

#include "nn/cells.h"
#include "nn/variants/lstm1997.h"

namespace seqgrad::experiments {

const char* cell_name(CellKind kind) {
  switch (kind) {
    case CellKind::rnn: return "rnn";
    case CellKind::lstm: return "lstm";
    case CellKind::gru: return "gru";
    case CellKind::bilstm: return "bilstm";
    case CellKind::lstm1997: return "lstm1997";
  }
  return "?";
}

CellKind parse_cell(const std::string& name) {
  if (name == "rnn" || name == "elman") return CellKind::rnn;
  if (name == "lstm") return CellKind::lstm;
  if (name == "gru") return CellKind::gru;
  if (name == "bilstm") return CellKind::bilstm;
  if (name == "lstm1997") return CellKind::lstm1997;
  throw std::invalid_argument("unknown cell '" + name + "' (expected rnn, lstm, gru, bilstm or lstm1997)");
}

std::vector<std::string> cell_names(bool with_bilstm) {
  std::vector<std::string> names = {"rnn", "lstm", "gru"};
  if (with_bilstm) names.push_back("bilstm");
  return names;
}

std::string cell_form(CellKind kind) {
  switch (kind) {
    case CellKind::rnn: return "rnn: nn::Elman, h = tanh(W_ih x + W_hh h + b)";
    case CellKind::lstm: return "lstm: nn::Lstm with input, forget and output gates (forget-gate bias as configured)";
    case CellKind::gru:
      return "gru: nn::Gru, reset-after form (PyTorch's nn.GRU), n = tanh(W_in x + b_in + r * (W_hn h + b_hn))";
    case CellKind::bilstm: return "bilstm: nn::Lstm run forwards and backwards by nn::Recurrent, outputs concatenated";
    case CellKind::lstm1997:
      return "lstm1997: nn::Lstm1997, Hochreiter & Schmidhuber 1997 (input and output gates, no forget gate, "
             "output-gate bias -1)";
  }
  return "?";
}

nn::CellFactory cell_factory(CellKind kind, double forget_bias) {
  switch (kind) {
    case CellKind::rnn: return nn::cell_factory<nn::Elman>(nn::Activation::tanh);
    case CellKind::lstm:
    case CellKind::bilstm: return nn::cell_factory<nn::Lstm>(forget_bias);
    case CellKind::gru: return nn::cell_factory<nn::Gru>(nn::GruForm::reset_after);
    case CellKind::lstm1997: return nn::cell_factory<nn::Lstm1997>();
  }
  throw std::invalid_argument("cell_factory: unknown cell kind");
}

std::unique_ptr<nn::Cell> make_cell(CellKind kind, int64_t input, int64_t hidden, Rng& rng, double forget_bias) {
  if (kind == CellKind::bilstm)
    throw std::invalid_argument("make_cell: bilstm is two LSTM cells in an nn::Recurrent, not one cell");
  return cell_factory(kind, forget_bias)(input, hidden, rng);
}

double cell_cost(CellKind kind) {
  switch (kind) {
    case CellKind::rnn: return 1;
    case CellKind::gru: return 3;
    case CellKind::lstm1997: return 3;
    case CellKind::lstm: return 4;
    case CellKind::bilstm: return 8;
  }
  return 1;
}

}  // namespace seqgrad::experiments
