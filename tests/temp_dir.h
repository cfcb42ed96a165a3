// Test helpers that need nothing of the library: a self-removing temporary directory, and a check
// that a computation gives the same bits at 1 and 2 TBB threads and when repeated.
#pragma once

#include <unistd.h>

#include <oneapi/tbb/global_control.h>
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace seqgrad::testing {

// A fresh directory seqgrad-<prefix>-<pid>-<n> under the system temp dir, removed with everything
// in it at scope exit.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& prefix) {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("seqgrad-" + prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
  // The names of the entries in the directory, sorted.
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (auto& e : std::filesystem::directory_iterator(path)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
};

inline bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

// run() at 1 thread, then twice at 2 threads: all three results must be bitwise equal.
template <typename F>
void require_thread_invariant(F&& run) {
  std::vector<double> one, two, again;
  {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 1);
    one = run();
  }
  {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 2);
    two = run();
    again = run();
  }
  REQUIRE(same_bits(two, again));
  REQUIRE(same_bits(one, two));
}

}  // namespace seqgrad::testing
