// Tensor: dense, contiguous, row-major data of dtype f32 (training) or f64 (gradient checking).
// Plain data: copying a Tensor shares its storage (like a shared_ptr); clone() copies the values.
#pragma once

#include <initializer_list>
#include <iosfwd>
#include <span>
#include <string>
#include <vector>

#include "autograd/buffer.h"
#include "autograd/shape.h"

namespace seqgrad {

class Rng;

class Tensor {
 public:
  Tensor() = default;                       // undefined: no shape, no storage
  Tensor(const Shape& shape, DType dtype);  // uninitialised values

  // Creation.
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32);
  static Tensor ones(const Shape& shape, DType dtype = DType::f32);
  static Tensor full(const Shape& shape, double value, DType dtype = DType::f32);
  static Tensor from(const Shape& shape, std::span<const double> values, DType dtype = DType::f32);
  static Tensor from(const Shape& shape, std::initializer_list<double> values, DType dtype = DType::f32) {
    return from(shape, std::span<const double>(values.begin(), values.size()), dtype);
  }
  static Tensor scalar(double value, DType dtype = DType::f32) { return full(Shape{}, value, dtype); }
  static Tensor arange(double start, double stop, double step = 1.0, DType dtype = DType::f32);
  static Tensor uniform(const Shape& shape, Rng& rng, double lo = 0.0, double hi = 1.0, DType dtype = DType::f32);
  static Tensor normal(const Shape& shape, Rng& rng, double mean = 0.0, double stddev = 1.0, DType dtype = DType::f32);
  static Tensor bernoulli(const Shape& shape, Rng& rng, double p, DType dtype = DType::f32);

  bool defined() const { return buf_.data() != nullptr; }
  const Shape& shape() const { return shape_; }
  DType dtype() const { return dtype_; }
  int rank() const { return shape_.rank(); }
  int64_t numel() const { return shape_.numel(); }
  int64_t size(int axis) const { return shape_[shape_.axis(axis, "Tensor::size")]; }

  // Typed access; throws when T does not match the dtype.
  template <typename T>
  T* data() {
    return static_cast<T*>(checked_data(dtype_of<T>()));
  }
  template <typename T>
  const T* data() const {
    return static_cast<const T*>(checked_data(dtype_of<T>()));
  }
  void* raw() const { return buf_.data(); }

  // Element access by multi-index (bounds-checked), as double whatever the dtype.
  double at(std::initializer_list<int64_t> index) const;
  void set(std::initializer_list<int64_t> index, double value);
  double item() const;  // the single value of a one-element tensor
  std::vector<double> to_vector() const;

  // A view with another shape (shares storage); one dimension may be -1 (inferred).
  Tensor reshape(std::span<const int64_t> dims) const;
  Tensor reshape(std::initializer_list<int64_t> dims) const {
    return reshape(std::span<const int64_t>(dims.begin(), dims.size()));
  }
  Tensor reshape(const Shape& s) const { return reshape(s.dims()); }
  Tensor clone() const;
  Tensor to(DType dtype) const;  // converted copy (a plain copy when the dtype is the same)
  void fill(double value);
  void copy_from(const Tensor& src);  // same shape and dtype, values copied in place

  bool shares_storage(const Tensor& o) const { return buf_.same(o.buf_) && buf_.data(); }
  bool unique() const { return buf_.unique(); }  // no other Tensor shares this storage

  std::string str(int max_per_dim = 6) const;  // "Tensor f32 (2, 3)\n[[...]]"
  std::string describe() const { return std::string(dtype_name(dtype_)) + " " + shape_.str(); }

 private:
  void* checked_data(DType want) const;
  int64_t offset_of(std::initializer_list<int64_t> index, const char* op) const;

  Buffer buf_;
  Shape shape_;
  DType dtype_ = DType::f32;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// True when shapes, dtypes and every bit of every value are equal.
bool bitwise_equal(const Tensor& a, const Tensor& b);
// max |a - b| over all elements (shapes must match).
double max_abs_diff(const Tensor& a, const Tensor& b);

}  // namespace seqgrad
