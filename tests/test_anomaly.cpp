// Anomaly detection: off by default (NaN/Inf flow silently, as in PyTorch); when on, the first
// non-finite forward output or gradient throws AnomalyError naming the op, the input shapes and the
// OpLabel (text and source location) it was recorded under.
#include <cmath>
#include <limits>

#include "nn/cells.h"
#include "testing.h"

using namespace seqgrad;
using Catch::Contains;

namespace {
// The message of the AnomalyError that f() throws ("<no anomaly>" if it throws none).
template <typename F>
std::string anomaly_message(F&& f) {
  try {
    f();
  } catch (const AnomalyError& e) {
    return e.what();
  }
  return "<no anomaly>";
}
}  // namespace

TEST_CASE("anomaly detection is off by default and changes no result when on", "[tape][anomaly]") {
  Tape tape;
  Var x = tape.variable(Tensor::from({3}, {0.0, 1.0, 2.0}));
  CHECK(std::isinf(log(x).value().at({0})));  // silently -inf: nothing checks

  auto grads = [](bool anomaly) {
    Tape t;
    t.set_anomaly_detection(anomaly);
    Var a = t.variable(Tensor::from({2, 2}, {0.5, -1.0, 2.0, 3.0}));
    Var y = sum(tanh(a) * sigmoid(a) / (exp(a) + 1.0));
    t.backward(y);
    return a.grad();
  };
  const Tensor off = grads(false), on = grads(true);
  for (int64_t i = 0; i < 4; ++i) CHECK(off.data<float>()[i] == on.data<float>()[i]);
}

TEST_CASE("anomaly: a non-finite forward output names the op, its inputs and the label", "[tape][anomaly]") {
  Tape tape;
  tape.set_anomaly_detection(true);
  Var x = tape.variable(Tensor::from({2, 3}, {1.0, 2.0, 0.0, 4.0, 5.0, 6.0}));
  Var ok = exp(x);  // finite: no error
  {
    OpLabel outer(tape, "encoder");
    OpLabel inner(tape, "step 3");
    CHECK_THAT(anomaly_message([&] { log(x); }),
               Contains("op 'log'") && Contains("-inf at element 2") && Contains("inputs: f32 (2, 3)") &&
                   Contains("encoder (test_anomaly.cpp:") && Contains(") > step 3 (test_anomaly.cpp:"));
  }
  Var z = tape.constant(Tensor::zeros({2, 3}));
  CHECK_THAT(anomaly_message([&] { x / z; }), Contains("op 'div'") && Contains("inf") && Contains("unlabelled"));
  (void)ok;
}

TEST_CASE("anomaly: a non-finite gradient names the backward that produced it", "[tape][anomaly]") {
  Tape tape;
  tape.set_anomaly_detection(true);
  Var x = tape.variable(Tensor::from({2}, {0.0, 4.0}));
  Var y;
  {
    OpLabel label(tape, "norm");
    y = sum(sqrt(x));  // forward finite; d sqrt(x)/dx = 1/(2 sqrt x) is inf at 0
  }
  CHECK_THAT(anomaly_message([&] { tape.backward(y); }), Contains("backward of op 'sqrt'") &&
                                                             Contains("norm (test_anomaly.cpp:") &&
                                                             Contains("inf at element 0") && Contains("op 'variable'"));

  Tape t2;
  t2.set_anomaly_detection(true);
  Var a = t2.variable(Tensor::ones({3}));
  Var b = a * 2.0;
  b.register_hook([](Tensor& g) { g.data<float>()[1] = std::numeric_limits<float>::quiet_NaN(); });
  Var loss = sum(b);
  CHECK_THAT(anomaly_message([&] { t2.backward(loss); }), Contains("gradient hook") && Contains("nan at element 1"));
}

TEST_CASE("anomaly: NaN weights in an LSTM step are caught at the first op that sees them", "[tape][anomaly]") {
  Rng rng(3);
  nn::Lstm cell(3, 4, rng);
  cell.to(DType::f64);
  cell.weight_hh.value.data<double>()[5] = std::numeric_limits<double>::quiet_NaN();
  Tape tape;
  tape.set_anomaly_detection(true);
  Var x = tape.constant(testing::random_normal({2, 3}, 1));
  nn::State s{tape.constant(testing::random_normal({2, 4}, 2)), tape.constant(testing::random_normal({2, 4}, 3))};
  OpLabel label(tape, "lstm step 0");
  CHECK_THAT(anomaly_message([&] { cell.step(x, s); }), Contains("op 'affine'") && Contains("lstm step 0"));
}
