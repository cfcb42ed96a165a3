// Batching helpers: deterministic shuffles, index batches, padded (B, T) batches with lengths, and a
// character stream cut into rows read in windows for truncated BPTT (see data.h).
#include <algorithm>
#include <stdexcept>

#include "experiments/data/data.h"

namespace seqgrad::experiments::data {

std::vector<int64_t> shuffled_indices(int64_t n, Rng& rng) {
  if (n < 0) throw std::runtime_error("shuffled_indices: n = " + std::to_string(n) + " is negative");
  std::vector<int64_t> idx(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) idx[static_cast<size_t>(i)] = i;
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(idx[static_cast<size_t>(i)], idx[static_cast<size_t>(rng.below(static_cast<uint64_t>(i) + 1))]);
  return idx;
}

std::vector<std::vector<int64_t>> make_batches(int64_t n, int64_t batch_size, Rng* rng) {
  if (batch_size < 1) throw std::runtime_error("make_batches: batch size " + std::to_string(batch_size) + " < 1");
  std::vector<int64_t> order;
  if (rng) {
    order = shuffled_indices(n, *rng);
  } else {
    if (n < 0) throw std::runtime_error("make_batches: n = " + std::to_string(n) + " is negative");
    for (int64_t i = 0; i < n; ++i) order.push_back(i);
  }
  std::vector<std::vector<int64_t>> batches;
  for (int64_t i = 0; i < n; i += batch_size)
    batches.emplace_back(order.begin() + i, order.begin() + std::min(n, i + batch_size));
  return batches;
}

PaddedBatch pad_batch(const std::vector<std::vector<int64_t>>& sequences, std::span<const int64_t> indices,
                      int64_t pad_value, int64_t max_steps) {
  std::vector<int64_t> all;
  if (indices.empty()) {
    for (size_t i = 0; i < sequences.size(); ++i) all.push_back(static_cast<int64_t>(i));
    indices = all;
  }
  if (indices.empty()) throw std::runtime_error("pad_batch: empty batch");
  PaddedBatch b;
  b.batch = static_cast<int64_t>(indices.size());
  for (int64_t i : indices) {
    if (i < 0 || i >= static_cast<int64_t>(sequences.size()))
      throw std::runtime_error("pad_batch: index " + std::to_string(i) + " out of range [0, " +
                               std::to_string(sequences.size()) + ")");
    const auto& s = sequences[static_cast<size_t>(i)];
    if (s.empty())
      throw std::runtime_error("pad_batch: sequence " + std::to_string(i) + " is empty (lengths must be >= 1)");
    int64_t len = static_cast<int64_t>(s.size());
    if (max_steps > 0) len = std::min(len, max_steps);
    b.lengths.push_back(len);
    b.steps = std::max(b.steps, len);
  }
  b.ids.assign(static_cast<size_t>(b.batch * b.steps), pad_value);
  for (int64_t r = 0; r < b.batch; ++r) {
    const auto& s = sequences[static_cast<size_t>(indices[static_cast<size_t>(r)])];
    std::copy_n(s.begin(), b.lengths[static_cast<size_t>(r)], b.ids.begin() + r * b.steps);
  }
  return b;
}

StreamBatches stream_batches(const std::vector<int64_t>& ids, int64_t batch) {
  if (batch < 1) throw std::runtime_error("stream_batches: batch " + std::to_string(batch) + " < 1");
  int64_t row = static_cast<int64_t>(ids.size()) / batch;
  if (row < 2)
    throw std::runtime_error("stream_batches: " + std::to_string(ids.size()) + " ids are too few for " +
                             std::to_string(batch) + " rows of at least 2");
  StreamBatches s;
  s.batch = batch;
  s.row_length = row;
  s.rows.assign(ids.begin(), ids.begin() + batch * row);
  return s;
}

int64_t StreamBatches::windows(int64_t steps) const {
  if (steps < 1) throw std::runtime_error("StreamBatches: steps " + std::to_string(steps) + " < 1");
  return (row_length - 1 + steps - 1) / steps;
}

void StreamBatches::window(int64_t w, int64_t steps, std::vector<int64_t>& x, std::vector<int64_t>& y) const {
  int64_t count = windows(steps);
  if (w < 0 || w >= count)
    throw std::runtime_error("StreamBatches: window " + std::to_string(w) + " out of range [0, " +
                             std::to_string(count) + ")");
  int64_t start = w * steps;
  int64_t t = std::min(steps, row_length - 1 - start);
  x.resize(static_cast<size_t>(batch * t));
  y.resize(static_cast<size_t>(batch * t));
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t k = 0; k < t; ++k) {
      x[static_cast<size_t>(b * t + k)] = rows[static_cast<size_t>(b * row_length + start + k)];
      y[static_cast<size_t>(b * t + k)] = rows[static_cast<size_t>(b * row_length + start + k + 1)];
    }
}

}  // namespace seqgrad::experiments::data
