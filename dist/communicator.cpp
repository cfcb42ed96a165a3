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

void Communicator::send(std::span<const std::byte> bytes, int dest) const {
  check(MPI_Send(bytes.data(), count_of(bytes.size(), "Communicator::send"), MPI_BYTE, dest, 0, MPI_Comm(comm_)),
        "Communicator::send");
}

void Communicator::recv(std::span<std::byte> bytes, int source) const {
  check(MPI_Recv(bytes.data(), count_of(bytes.size(), "Communicator::recv"), MPI_BYTE, source, 0, MPI_Comm(comm_),
                 MPI_STATUS_IGNORE),
        "Communicator::recv");
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
