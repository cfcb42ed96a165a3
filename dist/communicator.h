// The MPI world as seqgrad uses it (Open MPI through Boost.MPI): rank, size and the few collectives
// data-parallel training needs, over raw buffers in a fixed order, so every rank gets the same bits.
// Create one `dist::Environment env(argc, argv);` first thing in main (it initialises and finalises
// MPI), then `dist::Communicator world;`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include <boost/mpi/communicator.hpp>
#include <boost/mpi/environment.hpp>

namespace seqgrad::dist {

using Environment = boost::mpi::environment;  // one per process: MPI_Init ... MPI_Finalize

class Communicator {
 public:
  Communicator();  // MPI_COMM_WORLD
  explicit Communicator(boost::mpi::communicator comm);
  static Communicator self();  // this process alone: a 1-rank world

  int rank() const { return comm_.rank(); }
  int size() const { return comm_.size(); }
  bool is_root() const { return rank() == 0; }
  boost::mpi::communicator& mpi() { return comm_; }

  void barrier() const;
  [[noreturn]] void abort(int code) const;  // MPI_Abort: ends every rank of the job

  // Every rank's value, indexed by rank, on every rank.
  std::vector<std::string> allgather(const std::string& text) const;
  // Every rank's `mine` (the same length on every rank) concatenated in rank order, on every rank.
  std::vector<double> allgather(std::span<const double> mine) const;
  std::vector<uint64_t> allgather(std::span<const uint64_t> mine) const;
  bool any(bool flag) const;  // true on every rank when it is true on some rank

  // Raw bytes: root's `bytes` into everyone's.
  void broadcast(std::span<std::byte> bytes, int root) const;
  // Raw bytes, personalised (MPI_Alltoallv): `send` holds consecutive blocks for ranks 0, 1, …
  // (send_sizes[r] bytes for rank r); `recv` receives consecutive blocks from ranks 0, 1, …
  // (recv_sizes[r] bytes from rank r).
  void all_to_all(std::span<const std::byte> send, std::span<const size_t> send_sizes, std::span<std::byte> recv,
                  std::span<const size_t> recv_sizes) const;
  // In place (MPI_Allgatherv): `bytes` is consecutive blocks of block_sizes[r] bytes; rank r's own
  // block is sent and every other block is overwritten with its owner's.
  void allgather_blocks(std::span<std::byte> bytes, std::span<const size_t> block_sizes) const;
  // Elementwise sum over ranks, in place (MPI_Allreduce; the summation order is MPI's choice).
  void allreduce_sum(std::span<float> values) const;
  void allreduce_sum(std::span<double> values) const;

  // Runs `work` on every rank (or only on `only_rank` when >= 0), then agrees: if it threw anywhere,
  // every rank throws "<what>: rank <r>: <message>" (the lowest failing rank), so one rank's I/O
  // error becomes a clear error everywhere instead of a hang in the next collective.
  void agree(const std::string& what, const std::function<void()>& work, int only_rank = -1) const;

 private:
  boost::mpi::communicator comm_;
};

}  // namespace seqgrad::dist
