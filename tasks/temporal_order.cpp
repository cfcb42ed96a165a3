// Temporal order (see tasks.h) and the argmax accuracy it is judged by.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "tasks/checks.h"
#include "tasks/tasks.h"

namespace seqgrad::tasks {

Batch temporal_order(Rng& rng, int64_t batch, int64_t T) {
  require_batch("temporal_order", batch, T, 10);
  std::vector<double> x(size_t(batch * T * num_symbols), 0.0);
  Batch out;
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t t1 = uniform_in(rng, T / 10, T / 5), t2 = uniform_in(rng, T / 2, T * 6 / 10);
    const bool y1 = rng.below(2) == 1, y2 = rng.below(2) == 1;
    for (int64_t t = 0; t < T; ++t) {
      int64_t s = int64_t(rng.below(4));  // a distractor a..d, drawn at every step so positions do not shift the stream
      if (t == 0) s = sym_B;
      else if (t == T - 1) s = sym_E;
      else if (t == t1) s = y1 ? sym_Y : sym_X;
      else if (t == t2) s = y2 ? sym_Y : sym_X;
      x[size_t((b * T + t) * num_symbols + s)] = 1.0;
    }
    out.labels.push_back(order_class(y1, y2));
    out.first.push_back(t1);
    out.second.push_back(t2);
  }
  out.x = Tensor::from({batch, T, num_symbols}, x);
  return out;
}

double classification_accuracy(const std::vector<double>& logits, const std::vector<int64_t>& labels, int64_t classes) {
  if (classes < 1 || labels.empty() || logits.size() != labels.size() * size_t(classes))
    throw std::invalid_argument("classification_accuracy: " + std::to_string(logits.size()) + " logits for " +
                                std::to_string(labels.size()) + " labels of " + std::to_string(classes) + " classes");
  int64_t correct = 0;
  for (size_t r = 0; r < labels.size(); ++r) {
    const auto row = logits.begin() + std::ptrdiff_t(r * size_t(classes));
    correct += std::max_element(row, row + classes) - row == labels[r];
  }
  return double(correct) / double(labels.size());
}

}  // namespace seqgrad::tasks
