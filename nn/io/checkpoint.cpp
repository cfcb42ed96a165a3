// Checkpoint files (format in nn/io/checkpoint.h): a fixed little-endian header, a body written with a
// Boost.Serialization binary archive, and a CRC-32 trailer; atomic writes via temp file + rename.
#include "nn/io/checkpoint.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <streambuf>
#include <utility>
#include <vector>

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/crc.hpp>

#include "nn/io/file_io.h"
#include "nn/io/safetensors.h"  // save_module / load_module of *.safetensors

namespace seqgrad::nn {

// The body is the host's native binary representation: the format is defined as little-endian
// with 64-bit sizes, so refuse to build where that is not the native one.
static_assert(std::endian::native == std::endian::little, "checkpoint format is little-endian");
static_assert(sizeof(double) == 8 && sizeof(uint64_t) == 8);

namespace {

constexpr char kMagic[8] = {'\x89', 'S', 'G', 'C', 'K', 'P', 'T', '\n'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderSize = 24;  // magic 8 | version u32 | reserved u32 | body length u64
constexpr size_t kTrailerSize = 4;  // CRC-32 of the body
constexpr unsigned kArchiveFlags = boost::archive::no_header | boost::archive::no_codecvt;

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw std::runtime_error("checkpoint '" + path + "': " + problem);
}

void put_le(char* p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = char((v >> (8 * i)) & 0xff);
}
uint64_t get_le(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t(uint8_t(p[i])) << (8 * i);
  return v;
}

uint32_t crc32(const char* data, size_t n) {
  boost::crc_32_type crc;
  crc.process_bytes(data, n);
  return crc.checksum();
}

// A read-only streambuf over memory that knows how many bytes remain, so every length read from
// the body is checked against them before anything is allocated.
class MemoryBuf : public std::streambuf {
 public:
  MemoryBuf(const char* data, size_t n) {
    char* p = const_cast<char*>(data);  // never written through: get area only
    setg(p, p, p + n);
  }
  uint64_t remaining() const { return uint64_t(egptr() - gptr()); }
};

// ---- body writer / reader --------------------------------------------------------------------

void save_string(boost::archive::binary_oarchive& ar, const std::string& s) {
  uint64_t n = s.size();
  ar << n;
  if (n) ar.save_binary(s.data(), s.size());
}

std::string serialise_body(const Checkpoint& ckpt) {
  std::ostringstream os(std::ios::binary);
  {
    boost::archive::binary_oarchive ar(os, kArchiveFlags);
    uint64_t n = ckpt.tensors.size();
    ar << n;
    for (const auto& [name, t] : ckpt.tensors) {
      if (!t.defined()) throw std::invalid_argument("save_checkpoint: tensor '" + name + "' is undefined");
      save_string(ar, name);
      uint8_t dtype = t.dtype() == DType::f32 ? 0 : 1, rank = uint8_t(t.rank());
      ar << dtype << rank;
      for (int64_t d : t.shape().dims()) {
        uint64_t u = uint64_t(d);
        ar << u;
      }
      uint64_t nbytes = uint64_t(t.numel()) * dtype_size(t.dtype());
      ar << nbytes;
      if (nbytes) ar.save_binary(t.raw(), nbytes);
    }
    uint64_t m = ckpt.texts.size();
    ar << m;
    for (const auto& [name, value] : ckpt.texts) {
      save_string(ar, name);
      save_string(ar, value);
    }
  }
  if (!os) throw std::runtime_error("save_checkpoint: serialisation failed");
  return std::move(os).str();
}

class BodyReader {
 public:
  BodyReader(const std::string& path, std::string_view body)
      : path_(path), buf_(body.data(), body.size()), ar_(buf_, kArchiveFlags) {}

  uint64_t remaining() const { return buf_.remaining(); }
  void need(uint64_t n, const std::string& what) {
    if (n > remaining())
      fail(path_, "corrupted: " + what + " needs " + std::to_string(n) + " bytes but only " +
                      std::to_string(remaining()) + " remain in the body");
  }
  uint64_t u64(const std::string& what) {
    need(8, what);
    uint64_t v;
    ar_ >> v;
    return v;
  }
  uint8_t u8(const std::string& what) {
    need(1, what);
    uint8_t v;
    ar_ >> v;
    return v;
  }
  std::string str(const std::string& what) {
    uint64_t n = u64(what + " length");
    need(n, what);
    std::string s(size_t(n), '\0');
    if (n) ar_.load_binary(s.data(), size_t(n));
    return s;
  }
  void bytes(void* dst, uint64_t n, const std::string& what) {
    need(n, what);
    if (n) ar_.load_binary(dst, size_t(n));
  }

 private:
  std::string path_;
  MemoryBuf buf_;
  boost::archive::binary_iarchive ar_;
};

Checkpoint deserialise_body(const std::string& path, std::string_view body) {
  Checkpoint ckpt;
  BodyReader in(path, body);
  // Smallest possible records: a tensor is 8 (name length) + 1 + 1 + 8 (nbytes); a text 16.
  uint64_t n = in.u64("tensor count");
  if (n > in.remaining() / 18) fail(path, "corrupted: tensor count " + std::to_string(n) + " exceeds the body size");
  for (uint64_t k = 0; k < n; ++k) {
    std::string name = in.str("tensor name #" + std::to_string(k));
    const std::string what = "tensor '" + name + "'";
    uint8_t code = in.u8(what + " dtype");
    if (code > 1) fail(path, what + ": unknown dtype code " + std::to_string(code));
    DType dtype = code == 0 ? DType::f32 : DType::f64;
    uint8_t rank = in.u8(what + " rank");
    if (rank > Shape::kMaxRank)
      fail(path, what + ": rank " + std::to_string(rank) + " exceeds the maximum " + std::to_string(Shape::kMaxRank));
    Shape shape;
    uint64_t numel = 1;
    bool overflow = false;
    for (int i = 0; i < rank; ++i) {
      uint64_t d = in.u64(what + " shape");
      if (d > uint64_t(INT64_MAX)) fail(path, what + ": dimension " + std::to_string(d) + " out of range");
      if (d && numel > uint64_t(INT64_MAX) / 8 / d) overflow = true;
      numel *= d;
      shape.push_back(int64_t(d));
    }
    uint64_t nbytes = in.u64(what + " byte count");
    if (overflow || nbytes != numel * dtype_size(dtype))
      fail(path, what + ": byte count " + std::to_string(nbytes) + " is inconsistent with its shape " + shape.str() +
                     " and dtype " + dtype_name(dtype));
    in.need(nbytes, what + " data");
    Tensor t(shape, dtype);
    in.bytes(t.raw(), nbytes, what + " data");
    if (!ckpt.tensors.emplace(std::move(name), std::move(t)).second) fail(path, "corrupted: duplicate " + what);
  }
  uint64_t m = in.u64("text count");
  if (m > in.remaining() / 16) fail(path, "corrupted: text count " + std::to_string(m) + " exceeds the body size");
  for (uint64_t k = 0; k < m; ++k) {
    std::string name = in.str("text name #" + std::to_string(k));
    std::string value = in.str("text '" + name + "'");
    if (!ckpt.texts.emplace(name, std::move(value)).second) fail(path, "corrupted: duplicate text '" + name + "'");
  }
  if (in.remaining())
    fail(path, "corrupted: " + std::to_string(in.remaining()) + " unread bytes at the end of the body");
  return ckpt;
}

}  // namespace

// ---- save / load -----------------------------------------------------------------------------

namespace {

// Checks the header (the first min(size, 24) bytes of a file of `size` bytes) against the real
// size; returns the body size, which is then known to fit in the file.
uint64_t check_header(const char* header, uint64_t size, const std::string& path) {
  const size_t got = size_t(std::min<uint64_t>(size, kHeaderSize));
  if (std::memcmp(header, kMagic, std::min<size_t>(got, 8)) != 0) fail(path, "not a seqgrad checkpoint (bad magic)");
  if (got < kHeaderSize)
    fail(path, "truncated: " + std::to_string(size) + " bytes, shorter than the " + std::to_string(kHeaderSize) +
                   "-byte header");
  const uint32_t version = uint32_t(get_le(header + 8, 4));
  if (version > kVersion)
    fail(path, "written by a newer format version " + std::to_string(version) + " (this build reads up to version " +
                   std::to_string(kVersion) + ")");
  if (version == 0) fail(path, "corrupted header: format version 0");
  if (get_le(header + 12, 4) != 0) fail(path, "corrupted header: reserved field is not zero");
  const uint64_t body_size = get_le(header + 16, 8);
  const uint64_t have = size - kHeaderSize;
  if (body_size > have || have - body_size < kTrailerSize)
    fail(path, "truncated: " + std::to_string(size) + " bytes, the header announces " +
                   (body_size > UINT64_MAX - 64 ? std::string("an impossible size")
                                                : std::to_string(kHeaderSize + body_size + kTrailerSize)));
  if (have - body_size > kTrailerSize)
    fail(path,
         "corrupted: " + std::to_string(have - body_size - kTrailerSize) + " unexpected bytes after the checksum");
  return body_size;
}

// `rest` = body + CRC trailer: verifies the checksum, then deserialises.
Checkpoint verify_and_decode(std::string_view rest, const std::string& path) {
  const std::string_view body = rest.substr(0, rest.size() - kTrailerSize);
  const uint32_t stored = uint32_t(get_le(rest.data() + body.size(), 4));
  const uint32_t actual = crc32(body.data(), body.size());
  if (stored != actual) {
    char msg[96];
    std::snprintf(msg, sizeof msg, "corrupted: checksum mismatch (stored %08x, computed %08x)", stored, actual);
    fail(path, msg);
  }
  try {
    return deserialise_body(path, body);
  } catch (const boost::archive::archive_exception& e) {
    fail(path, std::string("corrupted: ") + e.what());
  }
}

}  // namespace

std::string encode_checkpoint(const Checkpoint& ckpt) {
  const std::string body = serialise_body(ckpt);
  std::string file(kHeaderSize, '\0');
  std::memcpy(file.data(), kMagic, 8);
  put_le(file.data() + 8, kVersion, 4);
  put_le(file.data() + 12, 0, 4);
  put_le(file.data() + 16, body.size(), 8);
  file += body;
  char crc[kTrailerSize];
  put_le(crc, crc32(body.data(), body.size()), 4);
  file.append(crc, kTrailerSize);
  return file;
}

Checkpoint decode_checkpoint(std::string_view bytes, const std::string& what) {
  char header[kHeaderSize] = {};
  std::memcpy(header, bytes.data(), std::min(bytes.size(), kHeaderSize));
  check_header(header, bytes.size(), what);
  return verify_and_decode(bytes.substr(kHeaderSize), what);
}

void save_checkpoint(const std::string& path, const Checkpoint& ckpt) {
  // Everything is serialised in memory first: a bad tensor throws before the file is touched.
  write_file_atomic(path, encode_checkpoint(ckpt));
}

Checkpoint load_checkpoint(const std::string& path) {
  const InputFile file(path, "checkpoint");
  const uint64_t size = file.size();

  char header[kHeaderSize] = {};
  if (!file.read_at(header, size_t(std::min<uint64_t>(size, kHeaderSize)), 0))
    fail(path, "truncated while reading the header");
  const uint64_t body_size = check_header(header, size, path);
  // body_size is now bounded by the real file size: safe to allocate.
  std::string rest(size_t(body_size) + kTrailerSize, '\0');
  if (!file.read_at(rest.data(), rest.size(), kHeaderSize)) fail(path, "truncated while reading the body");
  return verify_and_decode(rest, path);
}

// ---- modules and rng -------------------------------------------------------------------------

void put_module(Checkpoint& ckpt, Module& module, const std::string& prefix) {
  for (auto& [name, p] : module.named_parameters()) {
    if (!p->value.defined()) throw std::invalid_argument("put_module: parameter '" + name + "' has no value");
    ckpt.tensors[prefix + name] = p->value.clone();  // a snapshot: later training must not change it
  }
}

void get_module(const Checkpoint& ckpt, Module& module, const std::string& prefix) {
  load_parameters(ckpt.tensors, module, prefix, OnDTypeMismatch::error, "get_module");
}

namespace {

// Why an unexpected tensor may be there, when we can tell.
std::string hint_for_unexpected(const std::string& key) {
  const std::string hn = ".bias_hn";
  if (key.size() >= hn.size() && key.compare(key.size() - hn.size(), hn.size(), hn) == 0)
    return "; bias_hn belongs to the reset-after GRU (PyTorch's nn.GRU): build the Gru with GruForm::reset_after "
           "to load it";
  return "";
}

}  // namespace

void load_parameters(const std::map<std::string, Tensor>& tensors, Module& module, const std::string& prefix,
                     OnDTypeMismatch dtypes, const char* caller) {
  const std::string op = caller;
  auto params = module.named_parameters();
  std::vector<std::pair<Parameter*, const Tensor*>> plan;
  std::set<std::string> expected;
  // Validate everything first: names, shapes, dtypes; nothing is modified until all pass.
  for (auto& [name, p] : params) {
    const std::string key = prefix + name;
    expected.insert(key);
    auto it = tensors.find(key);
    if (it == tensors.end()) throw std::invalid_argument(op + ": no tensor '" + key + "' for parameter '" + name + "'");
    const Tensor& t = it->second;
    if (!t.defined()) throw std::invalid_argument(op + ": tensor '" + key + "' is undefined");
    const bool dtype_ok = t.dtype() == p->value.dtype() || dtypes == OnDTypeMismatch::cast;
    if (!(t.shape() == p->value.shape()) || !dtype_ok)
      throw std::invalid_argument(op + ": tensor '" + key + "' is " + t.describe() + " but the parameter is " +
                                  p->value.describe());
    plan.emplace_back(p, &t);
  }
  for (const auto& [key, _] : tensors)
    if (key.compare(0, prefix.size(), prefix) == 0 && !expected.count(key))
      throw std::invalid_argument(op + ": unexpected tensor '" + key + "' (no such parameter in the module)" +
                                  hint_for_unexpected(key));
  for (auto& [p, t] : plan) p->value.copy_from(t->dtype() == p->value.dtype() ? *t : t->to(p->value.dtype()));
}

namespace {
constexpr const char* kRngTag = "xoshiro256ss-v1";

std::string hex64(uint64_t v) {
  char s[17];
  std::snprintf(s, sizeof s, "%016llx", static_cast<unsigned long long>(v));
  return s;
}
}  // namespace

// "xoshiro256ss-v1 s0 s1 s2 s3 spare-bits has-spare", every word as 16 lowercase hex digits.
void put_rng(Checkpoint& ckpt, const std::string& name, const Rng& rng) {
  Rng::State st = rng.state();
  std::string text = kRngTag;
  for (uint64_t w : st.s) text.append(" ").append(hex64(w));
  text.append(" ").append(hex64(std::bit_cast<uint64_t>(st.spare)));
  text += st.has_spare ? " 1" : " 0";
  ckpt.texts[name] = text;
}

void get_rng(const Checkpoint& ckpt, const std::string& name, Rng& rng) {
  auto it = ckpt.texts.find(name);
  if (it == ckpt.texts.end()) throw std::invalid_argument("get_rng: checkpoint has no text '" + name + "'");
  auto bad = [&](const std::string& why) {
    return std::invalid_argument("get_rng: text '" + name + "' is not an rng state: " + why);
  };
  std::vector<std::string> tok;
  std::istringstream is(it->second);
  for (std::string w; is >> w;) tok.push_back(w);
  if (tok.size() != 7 || tok[0] != kRngTag) throw bad("expected '" + std::string(kRngTag) + "' and 6 fields");
  uint64_t w[5];
  for (int i = 0; i < 5; ++i) {
    const std::string& s = tok[size_t(i) + 1];
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), w[i], 16);
    if (s.size() != 16 || ec != std::errc() || p != s.data() + s.size())
      throw bad("field '" + s + "' is not 16 hex digits");
  }
  if (tok[6] != "0" && tok[6] != "1") throw bad("spare flag '" + tok[6] + "' is not 0 or 1");
  if ((w[0] | w[1] | w[2] | w[3]) == 0) throw bad("all-zero generator state");
  Rng::State st{{w[0], w[1], w[2], w[3]}, std::bit_cast<double>(w[4]), tok[6] == "1"};
  rng.set_state(st);
}

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// True when the file starts with the checkpoint magic (false when it cannot be read: the reader
// chosen then reports why).
bool starts_with_checkpoint_magic(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[sizeof kMagic] = {};
  return in.read(head, sizeof head) && std::memcmp(head, kMagic, sizeof kMagic) == 0;
}

}  // namespace

void save_module(const std::string& path, Module& module) {
  if (ends_with(path, ".safetensors")) return write_safetensors(path, module_tensors(module), {{"format", "seqgrad"}});
  Checkpoint ckpt;
  put_module(ckpt, module);
  save_checkpoint(path, ckpt);
}

void load_module(const std::string& path, Module& module) {
  const bool checkpoint = starts_with_checkpoint_magic(path) || !ends_with(path, ".safetensors");
  const std::map<std::string, Tensor> tensors = checkpoint ? load_checkpoint(path).tensors : read_safetensors(path);
  try {
    load_parameters(tensors, module, checkpoint ? "param/" : "", OnDTypeMismatch::cast, "load_module");
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("'" + path + "': " + e.what());
  }
}

}  // namespace seqgrad::nn
