// Reference-counted, 64-byte aligned storage drawn from a per-thread pool of size classes, so a
// steady-state training step (same shapes every step) never asks the system allocator for memory.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace seqgrad {

// Counters of the calling thread's pool; `fresh` counts system allocations, `reused` pool hits.
struct MemoryStats {
  int64_t fresh = 0;
  int64_t reused = 0;
  int64_t bytes_cached = 0;  // idle bytes held by the pool
};
MemoryStats memory_stats();
// Returns every idle block of the calling thread's pool to the system.
void release_cached_memory();

class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(size_t bytes);  // uninitialised contents
  Buffer(const Buffer& o) : block_(o.block_) { retain(); }
  Buffer(Buffer&& o) noexcept : block_(std::exchange(o.block_, nullptr)) {}
  Buffer& operator=(Buffer o) noexcept {
    std::swap(block_, o.block_);
    return *this;
  }
  ~Buffer() { release(); }

  void* data() const { return block_ ? static_cast<void*>(block_ + 1) : nullptr; }
  size_t bytes() const { return block_ ? block_->bytes : 0; }
  bool unique() const { return block_ && block_->refs.load(std::memory_order_acquire) == 1; }
  bool same(const Buffer& o) const { return block_ == o.block_; }

 private:
  struct alignas(64) Block {
    std::atomic<int64_t> refs;
    size_t bytes;     // bytes requested
    size_t capacity;  // bytes of the size class
    int size_class;
  };
  void retain() {
    if (block_) block_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  void release();
  Block* block_ = nullptr;

  friend struct BufferPool;
};

}  // namespace seqgrad
