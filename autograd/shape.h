// Shape and dtype of a dense row-major tensor. A Shape lives inline (no heap), rank 0..kMaxRank.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <string>

namespace seqgrad {

enum class DType : uint8_t { f32, f64 };

inline const char* dtype_name(DType d) { return d == DType::f32 ? "f32" : "f64"; }
inline size_t dtype_size(DType d) { return d == DType::f32 ? 4 : 8; }

// Calls fn(T{}) with T = float or double, so one kernel template serves both dtypes.
template <typename Fn>
decltype(auto) dispatch(DType d, Fn&& fn) {
  if (d == DType::f32) return fn(float{});
  return fn(double{});
}

template <typename T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() {
  return DType::f32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::f64;
}

class Shape {
 public:
  static constexpr int kMaxRank = 6;

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) : Shape(std::span<const int64_t>(dims.begin(), dims.size())) {}
  explicit Shape(std::span<const int64_t> dims) {
    if (dims.size() > kMaxRank)
      throw std::invalid_argument("Shape: rank " + std::to_string(dims.size()) + " exceeds the maximum " +
                                  std::to_string(kMaxRank));
    for (int64_t d : dims) {
      if (d < 0) throw std::invalid_argument("Shape: negative dimension " + std::to_string(d));
      dims_[rank_++] = d;
    }
  }

  int rank() const { return rank_; }
  int64_t operator[](int i) const { return dims_[i]; }
  int64_t& operator[](int i) { return dims_[i]; }
  std::span<const int64_t> dims() const { return {dims_.data(), size_t(rank_)}; }

  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < rank_; ++i) n *= dims_[i];
    return n;
  }
  // Normalises a possibly negative axis (-1 = last); throws naming `op` when out of range.
  int axis(int a, const char* op) const {
    int r = a < 0 ? a + rank_ : a;
    if (r < 0 || r >= rank_)
      throw std::invalid_argument(std::string(op) + ": axis " + std::to_string(a) + " out of range for shape " + str());
    return r;
  }
  // Product of dims in [begin, end).
  int64_t prod(int begin, int end) const {
    int64_t n = 1;
    for (int i = begin; i < end; ++i) n *= dims_[i];
    return n;
  }
  Shape with(int i, int64_t d) const {
    Shape s = *this;
    s.dims_[i] = d;
    return s;
  }
  Shape without(int i) const {
    Shape s;
    for (int k = 0; k < rank_; ++k)
      if (k != i) s.dims_[s.rank_++] = dims_[k];
    return s;
  }
  void push_back(int64_t d) {
    if (rank_ == kMaxRank) throw std::invalid_argument("Shape: rank exceeds the maximum");
    dims_[rank_++] = d;
  }

  bool operator==(const Shape& o) const {
    if (rank_ != o.rank_) return false;
    for (int i = 0; i < rank_; ++i)
      if (dims_[i] != o.dims_[i]) return false;
    return true;
  }

  // "(32, 128)"; a scalar prints as "()".
  std::string str() const {
    std::string s = "(";
    for (int i = 0; i < rank_; ++i) s += (i ? ", " : "") + std::to_string(dims_[i]);
    return s + ")";
  }

 private:
  std::array<int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

// NumPy broadcasting of two shapes; throws "op: shapes (2, 3) and (4) are not broadcastable".
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace seqgrad
