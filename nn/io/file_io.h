// POSIX file helpers shared by checkpoints and safetensors: an owning file descriptor, a read-only
// regular file read by exact byte ranges at offsets, and atomic whole-file writes (temp file +
// fsync + rename) with a test hook that simulates a failure mid-write.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace seqgrad::nn {

// Owns a file descriptor (-1 = none) and closes it on destruction.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();
  int release();  // gives up ownership: returns the descriptor, leaves -1
};

// A regular file opened read-only. Errors throw std::runtime_error("<kind> '<path>': <problem>"),
// where problem is "no such file", "cannot open: …", "cannot stat: …", "not a regular file" or
// "read failed: …" (… = strerror).
class InputFile {
 public:
  InputFile(const std::string& path, std::string kind);
  uint64_t size() const { return size_; }
  // Reads exactly n bytes at offset into dst; false when the file ended early.
  bool read_at(void* dst, size_t n, uint64_t offset) const;

 private:
  [[noreturn]] void fail(const std::string& problem) const;

  std::string path_, kind_;
  Fd fd_;
  uint64_t size_ = 0;
};

// Writes `bytes` to `path` atomically: <path>.tmp.<pid> in the same directory, write, fsync,
// rename over `path`, fsync the directory. On any failure the temporary file is removed, an
// existing `path` is left untouched, and the error names the path. (Used by checkpoints and
// safetensors.)
void write_file_atomic(const std::string& path, std::string_view bytes);

namespace detail {
// Test hook: the next atomic writes fail (throw) after `bytes` bytes of the temporary file were
// written, simulating a crash or a full disk mid-write; -1 (the default) disables it.
void set_write_failure_for_testing(int64_t bytes);
}  // namespace detail

}  // namespace seqgrad::nn
