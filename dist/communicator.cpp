// Communicator (see communicator.h): Boost.MPI for strings, raw MPI calls for the big buffers.
#include "dist/communicator.h"

#include <climits>
#include <stdexcept>

#include <boost/mpi/collectives.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>

namespace seqgrad::dist {

namespace {

// MPI counts are int: a buffer beyond INT_MAX elements is refused rather than truncated.
int count_of(size_t n, const char* where) {
  if (n > size_t(INT_MAX))
    throw std::length_error(std::string(where) + ": " + std::to_string(n) + " elements exceed MPI's int count");
  return int(n);
}

// One int count per rank (the sizes must be one per rank), and their prefix sums as displacements.
std::vector<int> counts_of(std::span<const size_t> sizes, int ranks, const char* where) {
  if (sizes.size() != size_t(ranks))
    throw std::invalid_argument(std::string(where) + ": " + std::to_string(sizes.size()) + " block sizes for " +
                                std::to_string(ranks) + " ranks");
  std::vector<int> counts;
  size_t total = 0;
  for (size_t n : sizes) {
    counts.push_back(count_of(n, where));
    total += n;
  }
  count_of(total, where);  // the displacements are ints too
  return counts;
}
std::vector<int> offsets_of(const std::vector<int>& counts) {
  std::vector<int> offsets(counts.size(), 0);
  for (size_t r = 1; r < counts.size(); ++r) offsets[r] = offsets[r - 1] + counts[r - 1];
  return offsets;
}

void check(int code, const char* where) {
  if (code != MPI_SUCCESS) throw std::runtime_error(std::string(where) + ": MPI error " + std::to_string(code));
}

template <typename T>
std::vector<T> allgather_fixed(const boost::mpi::communicator& comm, std::span<const T> mine, MPI_Datatype type,
                               const char* where) {
  std::vector<T> all(mine.size() * size_t(comm.size()));
  const int n = count_of(mine.size(), where);
  check(MPI_Allgather(mine.data(), n, type, all.data(), n, type, MPI_Comm(comm)), where);
  return all;
}

}  // namespace

Communicator::Communicator() : comm_() {}

Communicator::Communicator(boost::mpi::communicator comm) : comm_(std::move(comm)) {}

Communicator Communicator::self() {
  return Communicator(boost::mpi::communicator(MPI_COMM_SELF, boost::mpi::comm_attach));
}

void Communicator::barrier() const { comm_.barrier(); }

void Communicator::abort(int code) const {
  comm_.abort(code);
  std::abort();  // not reached: MPI_Abort does not return
}

std::vector<std::string> Communicator::allgather(const std::string& text) const {
  std::vector<std::string> all;
  boost::mpi::all_gather(comm_, text, all);
  return all;
}

std::vector<double> Communicator::allgather(std::span<const double> mine) const {
  return allgather_fixed(comm_, mine, MPI_DOUBLE, "Communicator::allgather");
}

std::vector<uint64_t> Communicator::allgather(std::span<const uint64_t> mine) const {
  return allgather_fixed(comm_, mine, MPI_UINT64_T, "Communicator::allgather");
}

bool Communicator::any(bool flag) const {
  int mine = flag ? 1 : 0, result = 0;
  check(MPI_Allreduce(&mine, &result, 1, MPI_INT, MPI_MAX, MPI_Comm(comm_)), "Communicator::any");
  return result != 0;
}

void Communicator::broadcast(std::span<std::byte> bytes, int root) const {
  check(MPI_Bcast(bytes.data(), count_of(bytes.size(), "Communicator::broadcast"), MPI_BYTE, root, MPI_Comm(comm_)),
        "Communicator::broadcast");
}

void Communicator::all_to_all(std::span<const std::byte> send, std::span<const size_t> send_sizes,
                              std::span<std::byte> recv, std::span<const size_t> recv_sizes) const {
  const char* where = "Communicator::all_to_all";
  const std::vector<int> send_counts = counts_of(send_sizes, size(), where), send_offsets = offsets_of(send_counts),
                         recv_counts = counts_of(recv_sizes, size(), where), recv_offsets = offsets_of(recv_counts);
  if (size_t(send_offsets.back() + send_counts.back()) > send.size() ||
      size_t(recv_offsets.back() + recv_counts.back()) > recv.size())
    throw std::length_error(std::string(where) + ": the block sizes exceed the buffers");
  check(MPI_Alltoallv(send.data(), send_counts.data(), send_offsets.data(), MPI_BYTE, recv.data(), recv_counts.data(),
                      recv_offsets.data(), MPI_BYTE, MPI_Comm(comm_)),
        where);
}

void Communicator::allgather_blocks(std::span<std::byte> bytes, std::span<const size_t> block_sizes) const {
  const char* where = "Communicator::allgather_blocks";
  const std::vector<int> counts = counts_of(block_sizes, size(), where), offsets = offsets_of(counts);
  if (size_t(offsets.back() + counts.back()) > bytes.size())
    throw std::length_error(std::string(where) + ": the block sizes exceed the buffer");
  check(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, bytes.data(), counts.data(), offsets.data(), MPI_BYTE,
                       MPI_Comm(comm_)),
        where);
}

void Communicator::allreduce_sum(std::span<float> values) const {
  check(MPI_Allreduce(MPI_IN_PLACE, values.data(), count_of(values.size(), "Communicator::allreduce_sum"), MPI_FLOAT,
                      MPI_SUM, MPI_Comm(comm_)),
        "Communicator::allreduce_sum");
}

void Communicator::allreduce_sum(std::span<double> values) const {
  check(MPI_Allreduce(MPI_IN_PLACE, values.data(), count_of(values.size(), "Communicator::allreduce_sum"), MPI_DOUBLE,
                      MPI_SUM, MPI_Comm(comm_)),
        "Communicator::allreduce_sum");
}

void Communicator::agree(const std::string& what, const std::function<void()>& work, int only_rank) const {
  std::string error;
  if (only_rank < 0 || only_rank == rank()) {
    try {
      work();
    } catch (const std::exception& e) {
      error = e.what();
      if (error.empty()) error = "unknown error";
    }
  }
  const std::vector<std::string> errors = allgather(error);
  for (size_t r = 0; r < errors.size(); ++r)
    if (!errors[r].empty()) throw std::runtime_error(what + ": rank " + std::to_string(r) + ": " + errors[r]);
}

}  // namespace seqgrad::dist
