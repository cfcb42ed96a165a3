// POSIX file helpers (see nn/io/file_io.h): owning descriptors, exact reads at offsets, atomic writes.
#include "nn/io/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <utility>

namespace seqgrad::nn {

namespace {

std::atomic<int64_t> g_fail_after{-1};

std::string errno_text() { return std::strerror(errno); }

}  // namespace

// ---- descriptors and input files -------------------------------------------------------------

Fd::~Fd() {
  if (fd >= 0) ::close(fd);
}

int Fd::release() { return std::exchange(fd, -1); }

InputFile::InputFile(const std::string& path, std::string kind)
    : path_(path), kind_(std::move(kind)), fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
  if (fd_.fd < 0) {
    if (errno == ENOENT) fail("no such file");
    fail("cannot open: " + errno_text());
  }
  struct stat st {};
  if (::fstat(fd_.fd, &st) != 0) fail("cannot stat: " + errno_text());
  if (!S_ISREG(st.st_mode)) fail("not a regular file");
  size_ = uint64_t(st.st_size);
}

void InputFile::fail(const std::string& problem) const {
  throw std::runtime_error(kind_ + " '" + path_ + "': " + problem);
}

bool InputFile::read_at(void* dst, size_t n, uint64_t offset) const {
  char* p = static_cast<char*>(dst);
  while (n) {
    ssize_t r = ::pread(fd_.fd, p, std::min<size_t>(n, size_t(1) << 30), off_t(offset));
    if (r < 0) {
      if (errno == EINTR) continue;
      fail("read failed: " + errno_text());
    }
    if (r == 0) return false;
    p += r;
    n -= size_t(r);
    offset += uint64_t(r);
  }
  return true;
}

// ---- atomic write ----------------------------------------------------------------------------

namespace detail {
void set_write_failure_for_testing(int64_t bytes) { g_fail_after.store(bytes); }
}  // namespace detail

void write_file_atomic(const std::string& path, std::string_view bytes) {
  namespace fs = std::filesystem;
  if (path.empty()) throw std::invalid_argument("write_file_atomic: empty path");
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  auto error = [&](const std::string& what) { return std::runtime_error("cannot write '" + path + "': " + what); };

  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.fd < 0) throw error("cannot create temporary file '" + tmp + "': " + errno_text());
  try {
    // The test hook truncates the write at `fail_after` bytes and then fails.
    const int64_t fail_after = g_fail_after.load();
    const bool simulate = fail_after >= 0 && uint64_t(fail_after) < bytes.size();
    const size_t limit = simulate ? size_t(fail_after) : bytes.size();
    size_t done = 0;
    while (done < limit) {
      ssize_t w = ::write(fd.fd, bytes.data() + done, std::min<size_t>(limit - done, size_t(1) << 24));
      if (w < 0) {
        if (errno == EINTR) continue;
        throw error("write to '" + tmp + "' failed: " + errno_text());
      }
      done += size_t(w);
    }
    if (simulate) throw error("simulated write failure after " + std::to_string(done) + " bytes (test hook)");
    if (::fsync(fd.fd) != 0) throw error("fsync of '" + tmp + "' failed: " + errno_text());
    if (::close(fd.release()) != 0) throw error("close of '" + tmp + "' failed: " + errno_text());
    if (::rename(tmp.c_str(), path.c_str()) != 0) throw error("rename of '" + tmp + "' failed: " + errno_text());
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  // Make the rename itself durable. Some file systems cannot fsync a directory (EINVAL): the
  // data is in place then, only its durability across a power cut is up to the file system.
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.fd < 0) throw error("cannot open directory '" + dir.string() + "' to fsync it: " + errno_text());
  if (::fsync(dfd.fd) != 0 && errno != EINVAL && errno != EROFS)
    throw error("fsync of directory '" + dir.string() + "' failed: " + errno_text());
}

}  // namespace seqgrad::nn
