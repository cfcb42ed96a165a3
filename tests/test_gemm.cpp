// Tests for kernels::gemm: results against a naive high-precision reference over many shapes,
// transposes, strides and beta values; untouched padding; bitwise determinism across thread
// counts and concurrent callers; argument validation.
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "autograd/gemm.h"

using seqgrad::kernels::gemm;

namespace {

// A row-major matrix stored rows×cols with row stride ld >= cols; padding holds a sentinel.
template <typename T>
struct Stored {
  int64_t rows = 0, cols = 0, ld = 0;
  std::vector<T> v;

  Stored(int64_t r, int64_t c, int64_t pad, T fill)
      : rows(r), cols(c), ld(c + pad), v(size_t(std::max<int64_t>(r * (c + pad), 1)), fill) {}
  T& at(int64_t i, int64_t j) { return v[size_t(i * ld + j)]; }
  T at(int64_t i, int64_t j) const { return v[size_t(i * ld + j)]; }
  void randomize(std::mt19937& rng) {
    std::uniform_real_distribution<double> d(-1.0, 1.0);
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) at(i, j) = T(d(rng));
  }
};

// Reference accumulation type: double for float, long double for double.
template <typename T>
using Wide = std::conditional_t<sizeof(T) == 4, double, long double>;

struct Shape {
  int64_t M, N, K;
};

// op(A)·op(B) in wide precision, with sum |a·b| per element for the error bound.
template <typename T>
void reference(bool ta, bool tb, const Shape& s, const Stored<T>& A, const Stored<T>& B, std::vector<Wide<T>>& prod,
               std::vector<Wide<T>>& mag) {
  prod.assign(size_t(s.M * s.N), 0);
  mag.assign(size_t(s.M * s.N), 0);
  for (int64_t i = 0; i < s.M; ++i)
    for (int64_t k = 0; k < s.K; ++k) {
      const Wide<T> a = ta ? A.at(k, i) : A.at(i, k);
      for (int64_t j = 0; j < s.N; ++j) {
        const Wide<T> b = tb ? B.at(j, k) : B.at(k, j);
        prod[size_t(i * s.N + j)] += a * b;
        mag[size_t(i * s.N + j)] += std::fabs(a * b);
      }
    }
}

// Operands of one configuration with their wide-precision product, shared by the beta variants.
template <typename T>
struct Operands {
  bool ta, tb;
  Shape s;
  int64_t pad;
  Stored<T> A, B;
  std::vector<Wide<T>> prod, mag;

  Operands(bool ta_, bool tb_, const Shape& s_, int64_t pad_)
      : ta(ta_),
        tb(tb_),
        s(s_),
        pad(pad_),
        A(ta ? s.K : s.M, ta ? s.M : s.K, pad, T(-777)),
        B(tb ? s.N : s.K, tb ? s.K : s.N, pad, T(-777)) {
    std::mt19937 rng(uint32_t(s.M * 7919 + s.N * 31 + s.K));
    A.randomize(rng);
    B.randomize(rng);
    reference(ta, tb, s, A, B, prod, mag);
  }
};

// Runs gemm into a fresh C (random, or all NaN) and checks every element plus the row padding.
template <typename T>
void check_beta(const Operands<T>& op, T beta, bool nan_c, std::mt19937& rng) {
  const Shape& s = op.s;
  Stored<T> C(s.M, s.N, op.pad, nan_c ? std::numeric_limits<T>::quiet_NaN() : T(-777));
  if (!nan_c) C.randomize(rng);
  const Stored<T> C0 = C;
  gemm<T>(op.ta, op.tb, s.M, s.N, s.K, op.A.v.data(), op.A.ld, op.B.v.data(), op.B.ld, beta, C.v.data(), C.ld);

  const Wide<T> eps = std::numeric_limits<T>::epsilon();
  int64_t bad = 0;
  for (int64_t i = 0; i < s.M; ++i) {
    for (int64_t j = 0; j < s.N; ++j) {
      const size_t e = size_t(i * s.N + j);
      const Wide<T> c0 = beta == T(0) ? 0 : Wide<T>(beta) * C0.at(i, j);
      const Wide<T> want = c0 + op.prod[e];
      const Wide<T> tol = 2 * Wide<T>(s.K + 2) * eps * (op.mag[e] + std::fabs(c0)) + 4 * std::numeric_limits<T>::min();
      const Wide<T> got = C.at(i, j);
      if (!(std::fabs(got - want) <= tol) && bad++ < 3)
        FAIL_CHECK("C(" << i << "," << j << ") = " << double(got) << ", want " << double(want) << " ± " << double(tol));
    }
    const size_t row = size_t(i * C.ld);
    if (std::memcmp(&C.v[row + size_t(s.N)], &C0.v[row + size_t(s.N)], size_t(C.ld - s.N) * sizeof(T)) != 0 &&
        bad++ < 3)
      FAIL_CHECK("padding after row " << i << " was written");
  }
  CHECK(bad == 0);
}

// Empty, tiny (direct path), thin, ragged (not multiples of any tile) and multi-K-block shapes.
const Shape kShapes[] = {{0, 0, 0},     {0, 5, 3},       {5, 0, 3},     {4, 3, 0},      {1, 1, 1},
                         {7, 13, 5},    {8, 8, 8},       {8, 8, 16},    {2, 3, 1000},   {1, 700, 64},
                         {700, 1, 64},  {17, 31, 64},    {33, 65, 17},  {8, 32, 384},   {9, 33, 385},
                         {64, 96, 200}, {129, 257, 100}, {31, 67, 800}, {300, 200, 513}};

template <typename T>
void accuracy_sweep() {
  std::mt19937 rng(42);
  for (const Shape& s : kShapes)
    for (int t = 0; t < 4; ++t)
      for (int64_t pad : {int64_t(0), int64_t(3)}) {
        const Operands<T> op(t & 1, t & 2, s, pad);
        INFO("M=" << s.M << " N=" << s.N << " K=" << s.K << " trans_a=" << op.ta << " trans_b=" << op.tb
                  << " pad=" << pad);
        {
          INFO("beta=0, C full of NaN");
          check_beta<T>(op, T(0), true, rng);
        }
        {
          INFO("beta=1");
          check_beta<T>(op, T(1), false, rng);
        }
        if (pad == 0) {
          INFO("beta=-0.5");
          check_beta<T>(op, T(-0.5), false, rng);
        }
      }
}

// C for a fixed random problem, computed with at most `threads` threads.
template <typename T>
std::vector<T> run_with_threads(bool ta, bool tb, const Shape& s, T beta, int threads) {
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, size_t(threads));
  std::mt19937 rng(7);
  Stored<T> A(ta ? s.K : s.M, ta ? s.M : s.K, 1, T(0)), B(tb ? s.N : s.K, tb ? s.K : s.N, 2, T(0)),
      C(s.M, s.N, 0, T(0));
  A.randomize(rng);
  B.randomize(rng);
  C.randomize(rng);
  gemm<T>(ta, tb, s.M, s.N, s.K, A.v.data(), A.ld, B.v.data(), B.ld, beta, C.v.data(), C.ld);
  return C.v;
}

template <typename T>
void determinism_check() {
  // Both blocked paths: many row blocks, and few rows (M <= one task's rows).
  for (auto [s, t] :
       {std::pair{Shape{257, 1031, 515}, 0}, std::pair{Shape{257, 1031, 515}, 3}, std::pair{Shape{64, 1031, 515}, 2}}) {
    const bool ta = t & 1, tb = t & 2;
    INFO("M=" << s.M << " N=" << s.N << " K=" << s.K << " trans_a=" << ta << " trans_b=" << tb);
    const std::vector<T> one = run_with_threads<T>(ta, tb, s, T(1), 1);
    for (int threads : {2, 4, 1}) {
      INFO("threads=" << threads);
      const std::vector<T> other = run_with_threads<T>(ta, tb, s, T(1), threads);
      REQUIRE(other.size() == one.size());
      CHECK(std::memcmp(other.data(), one.data(), one.size() * sizeof(T)) == 0);
    }
  }
}

template <typename T>
void expect_invalid(const std::string& fragment, bool ta, bool tb, int64_t M, int64_t N, int64_t K, const T* A,
                    int64_t lda, const T* B, int64_t ldb, T* C, int64_t ldc) {
  INFO("expecting an error mentioning '" << fragment << "'");
  try {
    gemm<T>(ta, tb, M, N, K, A, lda, B, ldb, T(0), C, ldc);
    FAIL("no exception thrown");
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    INFO("message: " << msg);
    CHECK(msg.rfind("gemm:", 0) == 0);
    CHECK(msg.find(fragment) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("gemm float matches a double-precision reference", "[gemm]") { accuracy_sweep<float>(); }

TEST_CASE("gemm double matches a long-double reference", "[gemm]") { accuracy_sweep<double>(); }

TEST_CASE("gemm with K = 0 scales C by beta", "[gemm]") {
  std::vector<float> C(6, std::numeric_limits<float>::quiet_NaN());
  gemm<float>(false, false, 2, 3, 0, nullptr, 0, nullptr, 3, 0.f, C.data(), 3);
  for (float c : C) CHECK(c == 0.f);
  std::vector<double> D = {1, 2, 3, 4};
  gemm<double>(true, true, 2, 2, 0, nullptr, 2, nullptr, 0, 1.0, D.data(), 2);
  CHECK(D == std::vector<double>{1, 2, 3, 4});
  gemm<double>(false, true, 2, 2, 0, nullptr, 0, nullptr, 0, -2.0, D.data(), 2);
  CHECK(D == std::vector<double>{-2, -4, -6, -8});
}

TEST_CASE("gemm is bitwise identical for 1, 2 and 4 threads", "[gemm]") {
  SECTION("float") { determinism_check<float>(); }
  SECTION("double") { determinism_check<double>(); }
}

TEST_CASE("gemm gives the same bits when called concurrently from many threads", "[gemm]") {
  // Concurrent callers each use their own packing scratch; nested parallelism must not mix them.
  constexpr int kJobs = 8;
  std::vector<std::vector<float>> serial(kJobs), nested(kJobs);
  auto job = [&](int j, std::vector<float>& out) {
    const Shape s{j % 2 ? 64 : 150, 300, 400};  // both blocked paths
    std::mt19937 rng(uint32_t(100 + j));
    Stored<float> A(s.M, s.K, 0, 0.f), B(s.N, s.K, 0, 0.f), C(s.M, s.N, 0, 0.f);
    A.randomize(rng);
    B.randomize(rng);
    gemm<float>(false, true, s.M, s.N, s.K, A.v.data(), A.ld, B.v.data(), B.ld, 0.f, C.v.data(), C.ld);
    out = C.v;
  };
  for (int j = 0; j < kJobs; ++j) job(j, serial[j]);
  tbb::parallel_for(0, kJobs, [&](int j) { job(j, nested[j]); });
  for (int j = 0; j < kJobs; ++j)
    CHECK(std::memcmp(serial[j].data(), nested[j].data(), serial[j].size() * sizeof(float)) == 0);
}

TEST_CASE("gemm rejects bad arguments", "[gemm]") {
  std::vector<float> buf(64, 1.f);
  const float* p = buf.data();
  float* c = buf.data();
  expect_invalid<float>("M=-1", false, false, -1, 2, 2, p, 2, p, 2, c, 2);
  expect_invalid<float>("N=-3", false, false, 2, -3, 2, p, 2, p, 2, c, 2);
  expect_invalid<float>("K=-2", false, false, 2, 2, -2, p, 2, p, 2, c, 2);
  expect_invalid<float>("lda=3", false, false, 2, 2, 4, p, 3, p, 2, c, 2);  // A is 2×4
  expect_invalid<float>("lda=1", true, false, 2, 2, 4, p, 1, p, 2, c, 2);   // A is 4×2
  expect_invalid<float>("ldb=1", false, false, 2, 2, 4, p, 4, p, 1, c, 2);  // B is 4×2
  expect_invalid<float>("ldb=3", false, true, 2, 2, 4, p, 4, p, 3, c, 2);   // B is 2×4
  expect_invalid<float>("ldc=4", false, false, 2, 5, 3, p, 3, p, 5, c, 4);
  expect_invalid<float>("ldc=-1", false, false, 0, 0, 0, p, 0, p, 0, c, -1);
  expect_invalid<float>("A is null", false, false, 2, 2, 2, nullptr, 2, p, 2, c, 2);
  expect_invalid<float>("C is null", false, false, 2, 2, 2, p, 2, p, 2, nullptr, 2);
  std::vector<double> d(16, 1.0);
  expect_invalid<double>("B is null", false, false, 2, 2, 2, d.data(), 2, nullptr, 2, d.data(), 2);
}
