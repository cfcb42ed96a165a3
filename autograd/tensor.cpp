// Tensor creation, element access, views and printing. Random fills are sequential so that the
// values depend only on the Rng's state, never on threads.
#include "autograd/tensor.h"

#include <cmath>
#include <cstring>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include "autograd/rng.h"

namespace seqgrad {

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  int rank = std::max(a.rank(), b.rank());
  std::array<int64_t, Shape::kMaxRank> dims{};
  for (int i = 0; i < rank; ++i) {
    int ia = a.rank() - rank + i, ib = b.rank() - rank + i;
    int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    if (da != db && da != 1 && db != 1)
      throw std::invalid_argument(std::string(op) + ": shapes " + a.str() + " and " + b.str() +
                                  " are not broadcastable");
    dims[i] = da == 1 ? db : da;
  }
  return Shape(std::span<const int64_t>(dims.data(), size_t(rank)));
}

Tensor::Tensor(const Shape& shape, DType dtype)
    : buf_(size_t(shape.numel()) * dtype_size(dtype)), shape_(shape), dtype_(dtype) {}

void* Tensor::checked_data(DType want) const {
  if (want != dtype_)
    throw std::invalid_argument(std::string("Tensor::data: requested ") + dtype_name(want) + " from a " + describe() +
                                " tensor");
  return buf_.data();
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) { return full(shape, 0.0, dtype); }
Tensor Tensor::ones(const Shape& shape, DType dtype) { return full(shape, 1.0, dtype); }

Tensor Tensor::full(const Shape& shape, double value, DType dtype) {
  Tensor t(shape, dtype);
  t.fill(value);
  return t;
}

void Tensor::fill(double value) {
  dispatch(dtype_, [&]<typename T>(T) {
    T* p = static_cast<T*>(buf_.data());
    for (int64_t i = 0, n = numel(); i < n; ++i) p[i] = T(value);
  });
}

// Fills t element by element with gen(), in index order.
template <typename Gen>
static Tensor generate(const Shape& shape, DType dtype, Gen&& gen) {
  Tensor t(shape, dtype);
  dispatch(dtype, [&]<typename T>(T) {
    T* p = t.data<T>();
    for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] = T(gen(i));
  });
  return t;
}

Tensor Tensor::from(const Shape& shape, std::span<const double> values, DType dtype) {
  if (int64_t(values.size()) != shape.numel())
    throw std::invalid_argument("Tensor::from: " + std::to_string(values.size()) + " values for shape " + shape.str() +
                                " (" + std::to_string(shape.numel()) + " elements)");
  return generate(shape, dtype, [&](int64_t i) { return values[size_t(i)]; });
}

Tensor Tensor::arange(double start, double stop, double step, DType dtype) {
  if (step == 0 || !std::isfinite(start) || !std::isfinite(stop) || !std::isfinite(step))
    throw std::invalid_argument("arange: start, stop and step must be finite and step nonzero");
  int64_t n = std::max<int64_t>(0, int64_t(std::ceil((stop - start) / step)));
  return generate(Shape{n}, dtype, [&](int64_t i) { return start + double(i) * step; });
}

Tensor Tensor::uniform(const Shape& shape, Rng& rng, double lo, double hi, DType dtype) {
  if (!(lo <= hi))
    throw std::invalid_argument("uniform: lo must be <= hi, got lo=" + std::to_string(lo) +
                                " hi=" + std::to_string(hi));
  return generate(shape, dtype, [&](int64_t) { return rng.uniform(lo, hi); });
}

Tensor Tensor::normal(const Shape& shape, Rng& rng, double mean, double stddev, DType dtype) {
  if (!(stddev >= 0)) throw std::invalid_argument("normal: stddev must be >= 0, got " + std::to_string(stddev));
  return generate(shape, dtype, [&](int64_t) { return rng.normal(mean, stddev); });
}

Tensor Tensor::bernoulli(const Shape& shape, Rng& rng, double p, DType dtype) {
  if (!(p >= 0 && p <= 1)) throw std::invalid_argument("bernoulli: p must be in [0, 1], got " + std::to_string(p));
  return generate(shape, dtype, [&](int64_t) { return rng.bernoulli(p) ? 1.0 : 0.0; });
}

int64_t Tensor::offset_of(std::initializer_list<int64_t> index, const char* op) const {
  if (int(index.size()) != rank())
    throw std::invalid_argument(std::string(op) + ": " + std::to_string(index.size()) +
                                " indices for a tensor of shape " + shape_.str());
  int64_t off = 0;
  int axis = 0;
  for (int64_t i : index) {
    if (i < 0 || i >= shape_[axis])
      throw std::out_of_range(std::string(op) + ": index " + std::to_string(i) + " out of range for axis " +
                              std::to_string(axis) + " of shape " + shape_.str());
    off = off * shape_[axis++] + i;
  }
  return off;
}

double Tensor::at(std::initializer_list<int64_t> index) const {
  int64_t off = offset_of(index, "Tensor::at");
  return dispatch(dtype_, [&]<typename T>(T) { return double(static_cast<const T*>(buf_.data())[off]); });
}

void Tensor::set(std::initializer_list<int64_t> index, double value) {
  int64_t off = offset_of(index, "Tensor::set");
  dispatch(dtype_, [&]<typename T>(T) { static_cast<T*>(buf_.data())[off] = T(value); });
}

double Tensor::item() const {
  if (numel() != 1) throw std::invalid_argument("Tensor::item: needs exactly one element, got shape " + shape_.str());
  return dispatch(dtype_, [&]<typename T>(T) { return double(*static_cast<const T*>(buf_.data())); });
}

std::vector<double> Tensor::to_vector() const {
  std::vector<double> v(static_cast<size_t>(numel()));
  dispatch(dtype_, [&]<typename T>(T) {
    const T* p = static_cast<const T*>(buf_.data());
    for (size_t i = 0; i < v.size(); ++i) v[i] = double(p[i]);
  });
  return v;
}

Tensor Tensor::reshape(std::span<const int64_t> dims) const {
  std::array<int64_t, Shape::kMaxRank> out{};
  if (dims.size() > size_t(Shape::kMaxRank))
    throw std::invalid_argument("reshape: too many dimensions for " + shape_.str());
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == -1) {
      if (infer >= 0) throw std::invalid_argument("reshape: more than one -1 in the new shape of " + shape_.str());
      infer = int(i);
    } else if (dims[i] < 0) {
      throw std::invalid_argument("reshape: negative dimension " + std::to_string(dims[i]));
    } else {
      known *= dims[i];
    }
    out[i] = dims[i];
  }
  if (infer >= 0) {
    if (known == 0 || numel() % known != 0)
      throw std::invalid_argument("reshape: cannot infer -1 reshaping " + shape_.str() + " (" +
                                  std::to_string(numel()) + " elements)");
    out[size_t(infer)] = numel() / known;
  }
  Shape s(std::span<const int64_t>(out.data(), dims.size()));
  if (s.numel() != numel())
    throw std::invalid_argument("reshape: " + shape_.str() + " has " + std::to_string(numel()) +
                                " elements, cannot view as " + s.str());
  Tensor t = *this;
  t.shape_ = s;
  return t;
}

Tensor Tensor::clone() const {
  Tensor t(shape_, dtype_);
  if (numel()) std::memcpy(t.raw(), raw(), size_t(numel()) * dtype_size(dtype_));
  return t;
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == dtype_) return clone();
  Tensor t(shape_, dtype);
  dispatch(dtype_, [&]<typename S>(S) {
    dispatch(dtype, [&]<typename D>(D) {
      const S* src = data<S>();
      D* dst = t.data<D>();
      for (int64_t i = 0, n = numel(); i < n; ++i) dst[i] = D(src[i]);
    });
  });
  return t;
}

void Tensor::copy_from(const Tensor& src) {
  if (!(src.shape_ == shape_) || src.dtype_ != dtype_)
    throw std::invalid_argument("copy_from: " + src.describe() + " into " + describe());
  if (numel() && !shares_storage(src)) std::memcpy(raw(), src.raw(), size_t(numel()) * dtype_size(dtype_));
}

// Nested-bracket printing, eliding the middle of long dimensions.
static void print_rec(std::ostream& os, const std::vector<double>& v, const Shape& s, int axis, int64_t off,
                      int max_per_dim) {
  if (axis == s.rank()) {
    os << v[size_t(off)];
    return;
  }
  int64_t n = s[axis], stride = s.prod(axis + 1, s.rank());
  os << "[";
  for (int64_t i = 0; i < n; ++i) {
    if (n > max_per_dim && i == max_per_dim / 2) {
      os << "..., ";
      i = n - max_per_dim / 2;
    }
    print_rec(os, v, s, axis + 1, off + i * stride, max_per_dim);
    if (i + 1 < n) os << (axis + 1 == s.rank() ? ", " : ",\n ");
  }
  os << "]";
}

std::string Tensor::str(int max_per_dim) const {
  std::ostringstream os;
  os << "Tensor " << describe();
  if (!defined()) return os.str() + " (undefined)";
  os << "\n";
  print_rec(os, to_vector(), shape_, 0, 0, max_per_dim);
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  if (!(a.shape() == b.shape()) || a.dtype() != b.dtype()) return false;
  return a.numel() == 0 || std::memcmp(a.raw(), b.raw(), size_t(a.numel()) * dtype_size(a.dtype())) == 0;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  if (!(a.shape() == b.shape()))
    throw std::invalid_argument("max_abs_diff: shapes " + a.shape().str() + " and " + b.shape().str() + " differ");
  auto va = a.to_vector(), vb = b.to_vector();
  double m = 0;
  for (size_t i = 0; i < va.size(); ++i) m = std::max(m, std::abs(va[i] - vb[i]));
  return m;
}

}  // namespace seqgrad
