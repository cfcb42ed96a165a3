// Data-parallel training (see data_parallel.h): flat gradients per micro-batch, the ordered
// reduce-scatter or MPI_Allreduce to combine them, digests and configuration checks across ranks.
#include "dist/data_parallel.h"

#include <cstdio>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "optim/clip.h"

namespace seqgrad::dist {

namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL, kFnvPrime = 0x100000001b3ULL;

uint64_t fnv1a(uint64_t h, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * kFnvPrime;
  return h;
}

std::span<std::byte> bytes_of(const Tensor& t) {
  return {static_cast<std::byte*>(t.raw()), size_t(t.numel()) * dtype_size(t.dtype())};
}

// The one dtype of all parameters; throws when they are mixed or the model has none.
DType common_dtype(const optim::NamedParameters& params) {
  if (params.empty()) throw std::invalid_argument("DataParallel: the model has no parameters");
  const DType d = params.front().second->value.dtype();
  for (const auto& [name, p] : params)
    if (p->value.dtype() != d)
      throw std::invalid_argument("DataParallel: parameter '" + name + "' is " + p->value.describe() + " but '" +
                                  params.front().first + "' is " + params.front().second->value.describe() +
                                  "; all parameters must share one dtype");
  return d;
}

// All gradients, in parameter order, into flat (P) (zeros for a parameter without a gradient).
void flatten_grads(const optim::NamedParameters& params, Tensor& flat) {
  std::byte* out = bytes_of(flat).data();
  for (const auto& [name, p] : params) {
    const size_t n = size_t(p->value.numel()) * dtype_size(p->value.dtype());
    if (p->grad.defined()) std::memcpy(out, p->grad.raw(), n);
    else std::memset(out, 0, n);
    out += n;
  }
}

// acc[0, n) += g[0, n), elementwise in T.
template <typename T>
void add_into(std::byte* acc, const std::byte* g, int64_t n) {
  T* a = reinterpret_cast<T*>(acc);
  const T* b = reinterpret_cast<const T*>(g);
  for (int64_t i = 0; i < n; ++i) a[i] += b[i];
}
void add_into(DType dtype, std::byte* acc, const std::byte* g, int64_t n) {
  if (dtype == DType::f32) add_into<float>(acc, g, n);
  else add_into<double>(acc, g, n);
}

// The fold of `count` consecutive pieces of n elements each onto zeros: acc = ((0 + p_0) + p_1) + …
void fold(DType dtype, std::byte* acc, const std::byte* pieces, int64_t count, int64_t n) {
  const size_t bytes = size_t(n) * dtype_size(dtype);
  std::memset(acc, 0, bytes);
  for (int64_t i = 0; i < count; ++i) add_into(dtype, acc, pieces + size_t(i) * bytes, n);
}

// Rank j's segment of a flat gradient of n elements, for R ranks: elements [n·j/R, n·(j+1)/R).
struct Segment {
  int64_t begin, size;
};
Segment segment(int64_t n, int ranks, int j) {
  const int64_t begin = n * j / ranks, end = n * (j + 1) / ranks;
  return {begin, end - begin};
}

// Every parameter's gradient = its slice of total / n, in T.
template <typename T>
void set_mean_grads(const optim::NamedParameters& params, const Tensor& total, int64_t n) {
  const T* src = total.data<T>();
  const T divisor = T(n);
  for (const auto& [name, p] : params) {
    p->zero_grad();  // defined, right shape; keeps storage shared with any bound tape
    T* g = p->grad.template data<T>();
    for (int64_t i = 0, k = p->value.numel(); i < k; ++i) g[i] = src[i] / divisor;
    src += p->value.numel();
  }
}

// Per-parameter digests, in order.
std::vector<uint64_t> parameter_digests(const optim::NamedParameters& params) {
  std::vector<uint64_t> out;
  for (const auto& [name, p] : params) out.push_back(digest(p->value));
  return out;
}

// "line k: rank 0 'a', rank r 'b'" for the first line where two descriptions differ.
std::string first_difference(const std::string& a, const std::string& b, int rank) {
  std::istringstream x(a), y(b);
  for (int line = 1;; ++line) {
    std::string s, t;
    const bool has_s = bool(std::getline(x, s)), has_t = bool(std::getline(y, t));
    if (has_s && has_t && s == t) continue;
    auto show = [](bool has, const std::string& v) { return has ? "'" + v + "'" : std::string("(no line)"); };
    return "line " + std::to_string(line) + ": rank 0 " + show(has_s, s) + ", rank " + std::to_string(rank) + " " +
           show(has_t, t);
  }
}

}  // namespace

const char* to_string(Combine combine) { return combine == Combine::ordered ? "ordered" : "allreduce"; }

uint64_t micro_batch_seed(uint64_t seed, int64_t step, int64_t global_index) {
  return splitmix64(splitmix64(splitmix64(seed) ^ uint64_t(step)) ^ uint64_t(global_index));
}

uint64_t digest(const Tensor& t) {
  uint64_t h = kFnvOffset;
  const auto dtype = uint8_t(t.dtype());
  h = fnv1a(h, &dtype, 1);
  for (int64_t d : t.shape().dims()) h = fnv1a(h, &d, sizeof d);
  const auto bytes = bytes_of(t);
  return fnv1a(h, bytes.data(), bytes.size());
}

uint64_t digest(nn::Module& module) {
  uint64_t h = kFnvOffset;
  for (const auto& [name, p] : module.named_parameters()) {
    const uint64_t d = digest(p->value);
    h = fnv1a(fnv1a(h, name.data(), name.size()), &d, sizeof d);
  }
  return h;
}

std::string hex(uint64_t v) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(v));
  return text;
}

DataParallel::DataParallel(Communicator& comm, nn::Module& model, optim::Optimizer& optimizer,
                           DataParallelOptions options)
    : comm_(comm),
      model_(model),
      optimizer_(optimizer),
      options_(std::move(options)),
      params_(model.named_parameters()) {
  if (options_.micro_batches <= 0)
    throw std::invalid_argument("DataParallel: micro_batches must be > 0, got " +
                                std::to_string(options_.micro_batches));
  if (options_.digest_every < 0)
    throw std::invalid_argument("DataParallel: digest_every must be >= 0, got " +
                                std::to_string(options_.digest_every));
  if (!(options_.max_grad_norm >= 0))
    throw std::invalid_argument("DataParallel: max_grad_norm must be >= 0, got " + optim::num(options_.max_grad_norm));
  check_same_configuration();  // collective: every rank throws the same error
  const DType dtype = common_dtype(params_);
  const int64_t p = model_.num_parameters();
  const int64_t m = options_.micro_batches, largest_segment = (p + comm_.size() - 1) / comm_.size();
  for (int64_t j = 0; j < m; ++j) grads_.push_back(Tensor::zeros({p}, dtype));
  total_ = Tensor::zeros({p}, dtype);
  if (options_.combine == Combine::ordered) {
    outgoing_ = Tensor::zeros({m * p}, dtype);
    incoming_ = Tensor::zeros({m * comm_.size() * largest_segment}, dtype);
  }
  broadcast_parameters();
}

std::string DataParallel::describe() const {
  std::ostringstream out;
  out << "config:\n" << options_.config << "\n";
  out << "micro_batches " << options_.micro_batches << "\ncombine " << to_string(options_.combine) << "\nmax_grad_norm "
      << optim::double_to_hex(options_.max_grad_norm) << "\ndigest_every " << options_.digest_every << "\noptimizer "
      << optimizer_.name() << "\nparameters " << params_.size() << "\n";
  for (const auto& [name, p] : params_) out << "parameter " << name << " " << p->value.describe() << "\n";
  return out.str();
}

void DataParallel::check_same_configuration() const {
  const std::vector<std::string> all = comm_.allgather(describe());
  for (size_t r = 1; r < all.size(); ++r)
    if (all[r] != all[0])
      throw std::invalid_argument("DataParallel: rank " + std::to_string(r) +
                                  "'s configuration differs from rank 0's at " +
                                  first_difference(all[0], all[r], int(r)));
}

void DataParallel::broadcast_parameters() {
  for (const auto& [name, p] : params_) comm_.broadcast(bytes_of(p->value), 0);
}

int64_t DataParallel::gradient_bytes() const { return total_.numel() * int64_t(dtype_size(total_.dtype())); }

double DataParallel::step(const MicroBatch& micro_batch) {
  const int64_t step = steps();
  std::vector<double> losses;
  for (int64_t j = 0; j < options_.micro_batches; ++j) {
    model_.zero_grad();
    losses.push_back(micro_batch(step, first_micro_batch() + j));
    flatten_grads(params_, grads_[size_t(j)]);
  }
  combine();
  if (total_.dtype() == DType::f32) set_mean_grads<float>(params_, total_, global_micro_batches());
  else set_mean_grads<double>(params_, total_, global_micro_batches());
  if (options_.max_grad_norm > 0) optim::clip_grad_norm(params_, options_.max_grad_norm, 2.0, false, &clip_stats_);
  optimizer_.step();
  if (options_.digest_every > 0 && steps() % options_.digest_every == 0) check_digests();
  return mean_loss(losses);
}

void DataParallel::combine() {
  if (options_.combine == Combine::ordered) return combine_ordered();
  total_.fill(0.0);
  for (const Tensor& g : grads_) add_into(total_.dtype(), bytes_of(total_).data(), bytes_of(g).data(), total_.numel());
  if (total_.dtype() == DType::f32) comm_.allreduce_sum(std::span<float>(total_.data<float>(), size_t(total_.numel())));
  else comm_.allreduce_sum(std::span<double>(total_.data<double>(), size_t(total_.numel())));
}

// Rank j owns segment j: every rank sends it its m micro-batch gradients' segment j (one
// all-to-all); rank j receives them in rank order, which is global micro-batch order, and folds
// them; one allgather gives every rank every folded segment.
void DataParallel::combine_ordered() {
  const int ranks = comm_.size();
  const int64_t n = total_.numel(), m = options_.micro_batches;
  const size_t element = dtype_size(total_.dtype());
  std::vector<size_t> outgoing_sizes, segment_sizes;
  std::byte* out = bytes_of(outgoing_).data();
  for (int j = 0; j < ranks; ++j) {  // outgoing_: for rank 0, 1, …: segment j of my g_0 … g_{m−1}
    const Segment s = segment(n, ranks, j);
    for (const Tensor& g : grads_) {
      std::memcpy(out, bytes_of(g).data() + size_t(s.begin) * element, size_t(s.size) * element);
      out += size_t(s.size) * element;
    }
    outgoing_sizes.push_back(size_t(m * s.size) * element);
    segment_sizes.push_back(size_t(s.size) * element);
  }
  const Segment mine = segment(n, ranks, comm_.rank());
  const std::vector<size_t> incoming_sizes(size_t(ranks), size_t(m * mine.size) * element);
  comm_.all_to_all(bytes_of(outgoing_), outgoing_sizes, bytes_of(incoming_), incoming_sizes);
  fold(total_.dtype(), bytes_of(total_).data() + size_t(mine.begin) * element, bytes_of(incoming_).data(),
       global_micro_batches(), mine.size);
  comm_.allgather_blocks(bytes_of(total_), segment_sizes);
}

double DataParallel::mean_loss(const std::vector<double>& mine) const {
  double sum = 0.0;
  for (double loss : comm_.allgather(mine)) sum += loss;  // rank order = global micro-batch order
  return sum / double(global_micro_batches());
}

void DataParallel::check_digests() {
  const std::vector<uint64_t> mine = parameter_digests(params_);
  const std::vector<uint64_t> all = comm_.allgather(mine);
  const size_t n = mine.size();
  for (size_t r = 1; r < size_t(comm_.size()); ++r)
    for (size_t i = 0; i < n; ++i)
      if (all[r * n + i] != all[i])
        throw std::runtime_error("DataParallel: after step " + std::to_string(steps()) + ", rank " + std::to_string(r) +
                                 "'s parameter '" + params_[i].first + "' differs from rank 0's (digest " +
                                 hex(all[r * n + i]) + " vs " + hex(all[i]) +
                                 "): the ranks no longer train the same model");
}

}  // namespace seqgrad::dist
