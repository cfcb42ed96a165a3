// Cell basics shared by every cell.
#include "nn/cell.h"

#include <cxxabi.h>

#include <cmath>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <typeinfo>

namespace seqgrad::nn {

Cell::Cell(int64_t input_size, int64_t hidden_size) : input_size_(input_size), hidden_size_(hidden_size) {
  if (input_size <= 0 || hidden_size <= 0)
    throw std::invalid_argument("Cell: input_size and hidden_size must be positive, got " + std::to_string(input_size) +
                                " and " + std::to_string(hidden_size));
}

State Cell::zero_state(Tape& tape, int64_t batch) const {
  State s{tape.constant(Tensor::zeros({batch, hidden_size_}, dtype_)), Var()};
  if (has_cell_state()) s.c = tape.constant(Tensor::zeros({batch, hidden_size_}, dtype_));
  return s;
}

// The demangled dynamic type, namespaces dropped ("seqgrad::nn::Lstm" -> "Lstm"); a template's
// name is kept whole, since its arguments may hold "::" too.
std::string Cell::type_name() const {
  const char* mangled = typeid(*this).name();
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> demangled(abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  std::string name = status == 0 && demangled ? demangled.get() : mangled;
  const size_t colons = name.rfind("::");
  if (name.find('<') == std::string::npos && colons != std::string::npos) name.erase(0, colons + 2);
  return name;
}

void Cell::add_gate_weights(int64_t gates, Rng& rng, Parameter& weight_ih, Parameter& weight_hh, Parameter& bias) {
  if (gates <= 0)
    throw std::invalid_argument(type_name() + ": add_gate_weights: gates must be positive, got " +
                                std::to_string(gates));
  const int64_t I = input_size_, H = hidden_size_;
  const double a = 1.0 / std::sqrt(double(H));
  weight_ih.value = Tensor::uniform({gates * H, I}, rng, -a, a);
  weight_hh.value = Tensor::uniform({gates * H, H}, rng, -a, a);
  bias.value = Tensor::uniform({gates * H}, rng, -a, a);
  register_parameter("weight_ih", weight_ih);
  register_parameter("weight_hh", weight_hh);
  register_parameter("bias", bias);
}

// "(2, 3)" and "f32 (2, 5)": what a state should be and what it is.
static std::string shape_text(int64_t B, int64_t H) { return "(" + std::to_string(B) + ", " + std::to_string(H) + ")"; }
static std::string described(const Var& v) { return v.defined() ? v.value().describe() : std::string("undefined"); }

State Cell::checked_step(const Var& x, const State& state, const char* caller) {
  const std::string about = std::string(caller) + ": cell '" + type_name() + "' ";
  const int64_t B = x.size(0), H = hidden_size_;
  const bool has_c = has_cell_state();
  State n;
  try {
    n = step(x, state);
  } catch (const std::logic_error& e) {  // also std::invalid_argument
    // A step reading state.c of a cell that declares no cell state reads an undefined Var.
    if (has_c || std::string(e.what()).find("default-constructed") == std::string::npos) throw;
    throw std::logic_error(about + "step used an undefined Var (" + e.what() +
                           "); has_cell_state() is false, so state.c is undefined: a cell that reads or returns c "
                           "must override has_cell_state() to return true");
  }
  if (!n.h.defined() || !(n.h.shape() == Shape{B, H}))
    throw std::logic_error(about + "step returned h " + described(n.h) + " but expected " + shape_text(B, H));
  if (has_c && !n.c.defined())
    throw std::logic_error(about + "has a cell state (has_cell_state() is true) but its step returned no c");
  if (has_c && !(n.c.shape() == Shape{B, H}))
    throw std::logic_error(about + "step returned c " + described(n.c) + " but expected " + shape_text(B, H));
  if (!has_c && n.c.defined())
    throw std::logic_error(about +
                           "step returned a cell state c but has_cell_state() is false: override "
                           "has_cell_state() to return true, so the wrappers carry c");
  return n;
}

void Cell::check_input(const Var& x, const State& state, const char* cell) const {
  const Shape& s = x.shape();
  if (s.rank() != 2 || s[1] != input_size_)
    throw std::invalid_argument(std::string(cell) + ": input " + s.str() + " but the cell expects (B, " +
                                std::to_string(input_size_) + ")");
  if (!state.h.defined() || !(state.h.shape() == Shape{s[0], hidden_size_}))
    throw std::invalid_argument(std::string(cell) + ": state h " +
                                (state.h.defined() ? state.h.shape().str() : "undefined") + " but expected (" +
                                std::to_string(s[0]) + ", " + std::to_string(hidden_size_) + ")");
  if (has_cell_state() && (!state.c.defined() || !(state.c.shape() == state.h.shape())))
    throw std::invalid_argument(std::string(cell) + ": state c missing or not " + state.h.shape().str());
}

}  // namespace seqgrad::nn
