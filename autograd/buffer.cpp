// Per-thread pool of size classes (4 classes per power of two, so at most ~19% slack).
// A block freed on another thread simply joins that thread's pool.
#include "autograd/buffer.h"

#include <bit>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <vector>

namespace seqgrad {

struct BufferPool {
  using Block = Buffer::Block;
  static constexpr int kClasses = 4 * 64;

  std::vector<Block*> free_[kClasses];
  MemoryStats stats;

  ~BufferPool() { release_all(); }

  // Size class of n bytes: 256 bytes at least, then quarter steps between powers of two.
  static int class_of(size_t n, size_t* capacity) {
    if (n <= 256) {
      *capacity = 256;
      return 0;
    }
    int e = 63 - std::countl_zero(n - 1);  // 2^e < n <= 2^(e+1), e >= 8
    size_t quarter = size_t(1) << (e - 2);
    size_t q = (n - (size_t(1) << e) + quarter - 1) / quarter;  // 1..4
    *capacity = (size_t(1) << e) + q * quarter;
    return 4 * (e - 8) + int(q);
  }

  Block* take(size_t bytes) {
    size_t capacity = 0;
    int c = class_of(bytes, &capacity);
    Block* b;
    if (!free_[c].empty()) {
      b = free_[c].back();
      free_[c].pop_back();
      stats.reused++;
      stats.bytes_cached -= int64_t(b->capacity);
    } else {
      void* p = std::aligned_alloc(64, sizeof(Block) + capacity);
      if (!p) throw std::bad_alloc();
      b = new (p) Block{};
      b->capacity = capacity;
      b->size_class = c;
      stats.fresh++;
    }
    b->bytes = bytes;
    b->refs.store(1, std::memory_order_relaxed);
    return b;
  }

  void give(Block* b) {
    free_[b->size_class].push_back(b);
    stats.bytes_cached += int64_t(b->capacity);
  }

  void release_all() {
    for (auto& list : free_) {
      for (Block* b : list) {
        b->~Block();
        std::free(b);
      }
      list.clear();
    }
    stats.bytes_cached = 0;
  }
};

// The pool of this thread; null once the thread's pool was destroyed at thread exit, after which
// a late release (e.g. of a static Tensor) goes straight back to the system.
thread_local bool pool_destroyed = false;
struct PoolHolder {
  BufferPool pool;
  ~PoolHolder() { pool_destroyed = true; }
};
static BufferPool* pool_or_null() {
  if (pool_destroyed) return nullptr;
  thread_local PoolHolder holder;
  return &holder.pool;
}
static BufferPool& pool() {
  BufferPool* p = pool_or_null();
  if (!p) throw std::runtime_error("Buffer: allocation during thread teardown");
  return *p;
}

Buffer::Buffer(size_t bytes) : block_(pool().take(bytes)) {}

void Buffer::release() {
  if (block_ && block_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    if (BufferPool* p = pool_or_null()) {
      p->give(block_);
    } else {
      block_->~Block();
      std::free(block_);
    }
  }
  block_ = nullptr;
}

MemoryStats memory_stats() { return pool().stats; }
void release_cached_memory() { pool().release_all(); }

}  // namespace seqgrad
