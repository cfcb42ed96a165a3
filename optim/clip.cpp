// Gradient norm clipping, value clipping and clip statistics.
#include "optim/clip.h"

#include <charconv>
#include <cmath>
#include <stdexcept>

#include "autograd/kernels.h"

namespace seqgrad::optim {

namespace {

constexpr int64_t kBlock = 4096;

// Reduces f(x_i) over x with `combine`, in fixed blocks of kBlock (each block in double, sequential),
// then the blocks in order: the same bits whatever the thread count.
template <typename T, typename F, typename C>
double blocked_reduce(const T* x, int64_t n, F f, C combine) {
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<double> partial(size_t(blocks), 0.0);
  kernels::parallel_chunks(blocks, 8, [&](int64_t lo, int64_t hi) {
    for (int64_t b = lo; b < hi; ++b) {
      double acc = 0;
      for (int64_t i = b * kBlock, e = std::min(n, i + kBlock); i < e; ++i) acc = combine(acc, f(double(x[i])));
      partial[size_t(b)] = acc;
    }
  });
  double total = 0;
  for (double p : partial) total = combine(total, p);
  return total;
}

double add(double a, double b) { return a + b; }
double max_nan(double a, double b) { return (b > a || b != b) ? b : a; }  // NaN propagates

// Σ |g|^p of one gradient (or max |g| for p = inf).
double grad_power_sum(const Tensor& g, double p) {
  return dispatch(g.dtype(), [&]<typename T>(T) {
    const T* x = g.data<T>();
    if (std::isinf(p))
      return blocked_reduce(
          x, g.numel(), [](double v) { return std::fabs(v); }, max_nan);
    if (p == 2)
      return blocked_reduce(
          x, g.numel(), [](double v) { return v * v; }, add);
    if (p == 1)
      return blocked_reduce(
          x, g.numel(), [](double v) { return std::fabs(v); }, add);
    return blocked_reduce(
        x, g.numel(), [p](double v) { return std::pow(std::fabs(v), p); }, add);
  });
}

bool all_finite(const Tensor& g) {
  return dispatch(g.dtype(), [&]<typename T>(T) {
    const T* x = g.data<T>();
    for (int64_t i = 0, n = g.numel(); i < n; ++i)
      if (!std::isfinite(x[i])) return false;
    return true;
  });
}

}  // namespace

double grad_norm(const NamedParameters& params, double norm_type) {
  if (!(norm_type > 0))
    throw std::invalid_argument("grad_norm: invalid norm_type = " + num(norm_type) + " (must be > 0 or inf)");
  double total = 0;
  for (const auto& [_, p] : params) {
    if (!p || !p->grad.defined()) continue;
    const double s = grad_power_sum(p->grad, norm_type);
    total = std::isinf(norm_type) ? max_nan(total, s) : total + s;
  }
  if (std::isinf(norm_type) || norm_type == 1) return total;
  if (norm_type == 2) return std::sqrt(total);
  return std::pow(total, 1.0 / norm_type);
}

double clip_grad_norm(const NamedParameters& params, double max_norm, double norm_type, bool error_if_nonfinite,
                      ClipStats* stats) {
  if (!(max_norm >= 0) || std::isinf(max_norm))
    throw std::invalid_argument("clip_grad_norm: invalid max_norm = " + num(max_norm) + " (must be finite and >= 0)");
  const double norm = grad_norm(params, norm_type);
  if (!std::isfinite(norm)) {
    if (stats) stats->record(norm, false);
    if (error_if_nonfinite) {
      std::string first = "?";
      for (const auto& [name, p] : params)
        if (p && p->grad.defined() && !all_finite(p->grad)) {
          first = name;
          break;
        }
      throw std::domain_error("clip_grad_norm: the total gradient norm of order " + num(norm_type) + " is " +
                              num(norm) + "; first parameter with a non-finite gradient: '" + first + "'");
    }
    return norm;
  }
  // coef = max_norm / (norm + 1e-6), applied only when < 1 (below the threshold nothing changes).
  const double coef = max_norm / (norm + 1e-6);
  const bool clip = coef < 1;
  if (clip)
    for (const auto& [_, p] : params) {
      if (!p || !p->grad.defined()) continue;
      Tensor& g = p->grad;
      dispatch(g.dtype(), [&]<typename T>(T) {
        T* x = g.data<T>();
        const T c = T(coef);
        kernels::parallel_chunks(g.numel(), kernels::kElementGrain, [&](int64_t lo, int64_t hi) {
          for (int64_t i = lo; i < hi; ++i) x[i] = x[i] * c;
        });
      });
    }
  if (stats) stats->record(norm, clip);
  return norm;
}

void clip_grad_value(const NamedParameters& params, double clip) {
  if (!(clip >= 0)) throw std::invalid_argument("clip_grad_value: invalid clip = " + num(clip) + " (must be >= 0)");
  for (const auto& [_, p] : params) {
    if (!p || !p->grad.defined()) continue;
    Tensor& g = p->grad;
    dispatch(g.dtype(), [&]<typename T>(T) {
      T* x = g.data<T>();
      const T hi_v = T(clip), lo_v = T(-clip);
      kernels::parallel_chunks(g.numel(), kernels::kElementGrain, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) x[i] = x[i] < lo_v ? lo_v : (x[i] > hi_v ? hi_v : x[i]);
      });
    });
  }
}

// ---- ClipStats ----------------------------------------------------------------------------------

void ClipStats::record(double norm, bool was_clipped) {
  ++calls;
  clipped += was_clipped;
  nonfinite += !std::isfinite(norm);
  norms.push_back(norm);
}

void ClipStats::save(nn::Checkpoint& ckpt, const std::string& prefix) const {
  ckpt.texts[prefix + "calls"] = std::to_string(calls);
  ckpt.texts[prefix + "clipped"] = std::to_string(clipped);
  ckpt.texts[prefix + "nonfinite"] = std::to_string(nonfinite);
  if (!norms.empty()) ckpt.tensors[prefix + "norms"] = Tensor::from({int64_t(norms.size())}, norms, DType::f64);
}

void ClipStats::load(const nn::Checkpoint& ckpt, const std::string& prefix) {
  auto count = [&](const char* key) {
    auto it = ckpt.texts.find(prefix + key);
    if (it == ckpt.texts.end()) throw std::invalid_argument("ClipStats: checkpoint has no '" + prefix + key + "'");
    int64_t v = -1;
    const std::string& s = it->second;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v < 0)
      throw std::invalid_argument("ClipStats: '" + prefix + key + "' = '" + s + "' is not a count");
    return v;
  };
  const int64_t c = count("calls"), k = count("clipped"), nf = count("nonfinite");
  std::vector<double> h;
  auto it = ckpt.tensors.find(prefix + "norms");
  if (it != ckpt.tensors.end()) {
    if (it->second.dtype() != DType::f64 || it->second.rank() != 1)
      throw std::invalid_argument("ClipStats: '" + prefix + "norms' is " + it->second.describe() +
                                  ", expected f64 (n)");
    const double* d = it->second.data<double>();
    h.assign(d, d + it->second.numel());
  }
  if (int64_t(h.size()) != c)
    throw std::invalid_argument("ClipStats: " + std::to_string(h.size()) + " norms saved for " + std::to_string(c) +
                                " calls");
  calls = c, clipped = k, nonfinite = nf, norms = std::move(h);
}

}  // namespace seqgrad::optim
