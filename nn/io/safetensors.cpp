// safetensors reader/writer with a small strict JSON parser for its header, and the PyTorch
// recurrent-parameter name mapping (see nn/io/safetensors.h for the format and the mapping table).
#include "nn/io/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "nn/io/checkpoint.h"
#include "nn/io/file_io.h"
#include "nn/io/json.h"

namespace seqgrad::nn {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

namespace {

// ---- header interpretation -------------------------------------------------------------------

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin, end;
};

struct Header {
  std::vector<Entry> entries;
  std::map<std::string, std::string> metadata;
};

[[noreturn]] void fail(const std::string& what, const std::string& problem) {
  throw std::runtime_error("safetensors '" + what + "': " + problem);
}

uint64_t to_u64(const Json& v, const std::string& what, const std::string& field) {
  if (v.kind != Json::Kind::number) fail(what, field + " must be a non-negative integer, got a " + v.kind_name());
  const std::string& t = v.text;
  if (t.empty() || t.find_first_not_of("0123456789") != std::string::npos)
    fail(what, field + " must be a non-negative integer, got " + t);
  if (t.size() > 1 && t[0] == '0') fail(what, field + " has a leading zero: " + t);
  uint64_t x = 0;
  for (char c : t) {
    uint64_t d = uint64_t(c - '0');
    if (x > (UINT64_MAX - d) / 10) fail(what, field + " is out of range: " + t);
    x = x * 10 + d;
  }
  return x;
}

// One tensor's header entry: dtype F32/F64, a shape whose byte size its data_offsets span exactly.
Entry interpret_entry(const std::string& name, const Json& v, uint64_t data_size, const std::string& what) {
  const std::string t = "tensor '" + name + "'";
  if (v.kind != Json::Kind::object) fail(what, t + ": entry must be an object");
  const Json *dtype = nullptr, *shape = nullptr, *offsets = nullptr;
  for (const auto& [k, f] : v.members) {
    if (k == "dtype") dtype = &f;
    else if (k == "shape") shape = &f;
    else if (k == "data_offsets") offsets = &f;
    else fail(what, t + ": unexpected field \"" + k + "\"");
  }
  if (!dtype || !shape || !offsets) fail(what, t + ": needs dtype, shape and data_offsets");
  Entry e;
  e.name = name;
  if (dtype->kind != Json::Kind::string) fail(what, t + ": dtype must be a string");
  if (dtype->text == "F32") e.dtype = DType::f32;
  else if (dtype->text == "F64") e.dtype = DType::f64;
  else {
    static const char* known[] = {"BOOL", "U8",   "I8",  "F8_E5M2", "F8_E4M3", "I16", "U16",
                                  "F16",  "BF16", "I32", "U32",     "I64",     "U64"};
    bool is_known = std::find_if(std::begin(known), std::end(known), [&](const char* k) { return dtype->text == k; }) !=
                    std::end(known);
    fail(what, t + ": " + (is_known ? "unsupported" : "unknown") + " dtype '" + dtype->text +
                   "' (seqgrad reads F32 and F64)");
  }
  if (shape->kind != Json::Kind::array) fail(what, t + ": shape must be an array");
  if (shape->items.size() > size_t(Shape::kMaxRank))
    fail(what, t + ": rank " + std::to_string(shape->items.size()) + " exceeds the maximum " +
                   std::to_string(Shape::kMaxRank));
  uint64_t nbytes = dtype_size(e.dtype);
  bool overflow = false;
  for (const Json& d : shape->items) {
    uint64_t n = to_u64(d, what, t + " shape");
    if (n > uint64_t(INT64_MAX)) fail(what, t + ": dimension out of range");
    if (n && nbytes > uint64_t(INT64_MAX) / n) overflow = true;
    nbytes *= n;
    e.shape.push_back(int64_t(n));
  }
  if (offsets->kind != Json::Kind::array || offsets->items.size() != 2)
    fail(what, t + ": data_offsets must be [begin, end]");
  e.begin = to_u64(offsets->items[0], what, t + " data_offsets");
  e.end = to_u64(offsets->items[1], what, t + " data_offsets");
  if (e.begin > e.end || e.end > data_size)
    fail(what, t + ": data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                   "] out of range for a data section of " + std::to_string(data_size) + " bytes" +
                   (e.end > data_size ? " (truncated file?)" : ""));
  if (overflow || e.end - e.begin != nbytes)
    fail(what, t + ": data_offsets span " + std::to_string(e.end - e.begin) + " bytes, but shape " + e.shape.str() +
                   " " + dtype->text + " needs " + (overflow ? "more" : std::to_string(nbytes)));
  return e;
}

// The tensors must tile the data section exactly, as the reference implementation requires.
void check_tiling(const std::vector<Entry>& entries, uint64_t data_size, const std::string& what) {
  std::vector<const Entry*> order;
  for (const Entry& e : entries) order.push_back(&e);
  std::stable_sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t at = 0;
  const Entry* prev = nullptr;
  for (const Entry* e : order) {
    if (e->begin < at) fail(what, "tensors '" + prev->name + "' and '" + e->name + "' overlap in the data section");
    if (e->begin > at)
      fail(what,
           "gap of " + std::to_string(e->begin - at) + " bytes before tensor '" + e->name + "' in the data section");
    at = e->end;
    prev = e;
  }
  if (at != data_size)
    fail(what,
         "the data section has " + std::to_string(data_size) + " bytes but the tensors cover " + std::to_string(at));
}

Header interpret(const Json& root, uint64_t data_size, const std::string& what) {
  Header h;
  for (const auto& [name, v] : root.members) {
    if (name == "__metadata__") {
      if (v.kind != Json::Kind::object) fail(what, "__metadata__ must be an object of strings");
      for (const auto& [k, s] : v.members) {
        if (s.kind != Json::Kind::string) fail(what, "__metadata__ value \"" + k + "\" is not a string");
        h.metadata[k] = s.text;
      }
      continue;
    }
    h.entries.push_back(interpret_entry(name, v, data_size, what));
  }
  check_tiling(h.entries, data_size, what);
  return h;
}

uint64_t get_u64_le(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t(uint8_t(p[i])) << (8 * i);
  return v;
}

// Validates the header length and parses the header; `header_len` bytes start at byte 8.
Header parse_header(std::string_view json, uint64_t data_size, const std::string& what) {
  Json root;
  try {
    root = parse_json(json, {.max_depth = 32});
  } catch (const JsonError& e) {
    fail(what, "bad header JSON at byte " + std::to_string(e.byte) + ": " + e.problem);
  }
  if (root.kind != Json::Kind::object) fail(what, "bad header JSON: the header must be a JSON object");
  return interpret(root, data_size, what);
}

uint64_t check_header_length(uint64_t n, uint64_t file_size, const std::string& what) {
  if (file_size < 8) fail(what, "truncated: " + std::to_string(file_size) + " bytes, too short for the header length");
  if (n > file_size - 8)
    fail(what, "header length " + std::to_string(n) + " exceeds the " + std::to_string(file_size - 8) +
                   " bytes after the length field (truncated or not a safetensors file)");
  if (n < 2) fail(what, "header length " + std::to_string(n) + " is too small for a JSON object");
  return n;
}

}  // namespace

// ---- encode / decode -------------------------------------------------------------------------

std::string encode_safetensors(const std::map<std::string, Tensor>& tensors,
                               const std::map<std::string, std::string>& metadata) {
  std::vector<std::pair<const std::string*, const Tensor*>> order;
  for (const auto& [name, t] : tensors) {
    if (name == "__metadata__") throw std::invalid_argument("write_safetensors: '__metadata__' is reserved");
    if (!t.defined()) throw std::invalid_argument("write_safetensors: tensor '" + name + "' is undefined");
    order.emplace_back(&name, &t);
  }
  // Larger elements first keeps every tensor aligned to its element size in the data section.
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return dtype_size(a.second->dtype()) > dtype_size(b.second->dtype());
  });
  std::string json = "{";
  if (!metadata.empty()) {
    json += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [k, v] : metadata) {
      if (!first) json += ',';
      first = false;
      json += json_quote(k);
      json += ':';
      json += json_quote(v);
    }
    json += '}';
  }
  uint64_t offset = 0;
  for (const auto& [name, t] : order) {
    if (json.size() > 1) json += ',';
    json += json_quote(*name);
    json += ":{\"dtype\":\"";
    json += t->dtype() == DType::f32 ? "F32" : "F64";
    json += "\",\"shape\":[";
    for (int i = 0; i < t->rank(); ++i) json.append(i ? "," : "").append(std::to_string(t->shape()[i]));
    uint64_t nbytes = uint64_t(t->numel()) * dtype_size(t->dtype());
    json += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + nbytes) + "]}";
    offset += nbytes;
  }
  json += '}';
  json.append((8 - json.size() % 8) % 8, ' ');

  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[size_t(i)] = char((uint64_t(json.size()) >> (8 * i)) & 0xff);
  out.reserve(8 + json.size() + offset);
  out += json;
  for (const auto& [name, t] : order)
    out.append(static_cast<const char*>(t->raw()), size_t(t->numel()) * dtype_size(t->dtype()));
  return out;
}

Safetensors decode_safetensors(std::string_view bytes, const std::string& what) {
  const uint64_t n = check_header_length(bytes.size() >= 8 ? get_u64_le(bytes.data()) : 0, bytes.size(), what);
  Header h = parse_header(bytes.substr(8, size_t(n)), bytes.size() - 8 - n, what);
  const char* data = bytes.data() + 8 + n;
  Safetensors out;
  out.metadata = std::move(h.metadata);
  for (const Entry& e : h.entries) {
    Tensor t(e.shape, e.dtype);
    if (e.end > e.begin) std::memcpy(t.raw(), data + e.begin, size_t(e.end - e.begin));
    out.tensors.emplace(e.name, std::move(t));
  }
  return out;
}

void write_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  write_file_atomic(path, encode_safetensors(tensors, metadata));
}

Safetensors read_safetensors_file(const std::string& path) {
  const InputFile file(path, "safetensors");
  const uint64_t size = file.size();
  auto read_exact = [&](void* dst, uint64_t n, uint64_t offset) {
    if (!file.read_at(dst, size_t(n), offset)) fail(path, "truncated while reading");
  };
  char len[8] = {};
  if (size >= 8) read_exact(len, 8, 0);
  const uint64_t n = check_header_length(get_u64_le(len), size, path);
  std::string json(size_t(n), '\0');  // bounded by the file size
  read_exact(json.data(), n, 8);
  Header h = parse_header(json, size - 8 - n, path);
  Safetensors out;
  out.metadata = std::move(h.metadata);
  for (const Entry& e : h.entries) {
    Tensor t(e.shape, e.dtype);
    read_exact(t.raw(), e.end - e.begin, 8 + n + e.begin);
    out.tensors.emplace(e.name, std::move(t));
  }
  return out;
}

std::map<std::string, Tensor> read_safetensors(const std::string& path) { return read_safetensors_file(path).tensors; }

// ---- modules ---------------------------------------------------------------------------------

std::map<std::string, Tensor> module_tensors(Module& module) {
  std::map<std::string, Tensor> out;
  for (auto& [name, p] : module.named_parameters()) out[name] = p->value;
  return out;
}

std::map<std::string, Tensor> module_grads(Module& module) {
  std::map<std::string, Tensor> out;
  for (auto& [name, p] : module.named_parameters())
    out[name] = p->grad.defined() ? p->grad : Tensor::zeros(p->value.shape(), p->value.dtype());
  return out;
}

void load_module_tensors(Module& module, const std::map<std::string, Tensor>& tensors) {
  load_parameters(tensors, module, "", OnDTypeMismatch::cast, "load_module_tensors");
}

// ---- PyTorch recurrent name mapping ----------------------------------------------------------

namespace {

int gates_of(TorchRnn kind) { return kind == TorchRnn::rnn ? 1 : kind == TorchRnn::lstm ? 4 : 3; }

// One direction of one layer: its four (GRU: five) tensors in OUR naming.
struct LayerTensors {
  Tensor weight_ih, weight_hh, bias, bias_hn;
  std::string w_ih_name, w_hh_name, bias_name, bias_hn_name;  // for messages
};
using LayerKey = std::pair<int64_t, bool>;  // (layer, reverse)

// "l12_reverse" -> (12, true); nullopt when `s` is not a layer name.
std::optional<LayerKey> parse_layer(std::string_view s) {
  if (s.size() < 2 || s[0] != 'l') return std::nullopt;
  bool reverse = false;
  if (s.size() > 8 && s.substr(s.size() - 8) == "_reverse") {
    reverse = true;
    s.remove_suffix(8);
  }
  s.remove_prefix(1);
  if (s.empty() || s.size() > 9 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  int64_t k = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    k = k * 10 + (c - '0');
  }
  return LayerKey{k, reverse};
}

std::string layer_suffix(const LayerKey& key) {
  std::string s = "l";
  s.append(std::to_string(key.first)).append(key.second ? "_reverse" : "");
  return s;
}

// Shapes: weight_ih (G·H, I), weight_hh (G·H, H), bias (G·H), bias_hn (H); layers 0..L−1, every
// layer with both directions or none, one H and dtype throughout, layer k>0 input = H × dirs.
void validate_layers(const std::map<LayerKey, LayerTensors>& layers, TorchRnn kind, const char* op) {
  const int64_t G = gates_of(kind);
  if (layers.empty()) return;
  bool bidir = layers.count({0, true}) > 0;
  int64_t H = -1;
  DType dtype = DType::f32;
  int64_t expected_layer = 0;
  for (const auto& [key, l] : layers) {
    auto err = [&](const std::string& name, const std::string& msg) {
      return std::invalid_argument(std::string(op) + ": tensor '" + name + "' " + msg);
    };
    if (key.first != expected_layer && !(key.second && key.first == expected_layer - 1))
      throw err(l.w_ih_name.empty() ? l.w_hh_name : l.w_ih_name, "belongs to layer " + std::to_string(key.first) +
                                                                     " but layer " + std::to_string(expected_layer) +
                                                                     " is missing");
    if (!key.second) expected_layer = key.first + 1;
    if (key.second != false && !bidir) throw err(l.w_hh_name, "is a reverse direction, but layer 0 has none");
    if (!key.second && bidir && !layers.count({key.first, true}))
      throw std::invalid_argument(std::string(op) + ": layer " + std::to_string(key.first) +
                                  " has no reverse direction, but layer 0 has one");
    if (key.second && !layers.count({key.first, false}))
      throw err(l.w_hh_name, "is a reverse direction without a forward one");
    if (!l.weight_ih.defined()) throw err(l.w_ih_name, "is missing");
    if (!l.weight_hh.defined()) throw err(l.w_hh_name, "is missing");
    if (!l.bias.defined()) throw err(l.bias_name, "is missing");
    const Tensor& whh = l.weight_hh;
    if (whh.rank() != 2 || whh.size(0) != G * whh.size(1))
      throw err(l.w_hh_name, "has shape " + whh.shape().str() + ", expected (" + std::to_string(G) + "·H, H)");
    if (H < 0) {
      H = whh.size(1);
      dtype = whh.dtype();
    }
    if (whh.size(1) != H)
      throw err(l.w_hh_name,
                "has hidden size " + std::to_string(whh.size(1)) + " but layer 0 has " + std::to_string(H));
    const Tensor& wih = l.weight_ih;
    int64_t I_expected = key.first == 0 ? -1 : H * (bidir ? 2 : 1);
    if (wih.rank() != 2 || wih.size(0) != G * H || (I_expected >= 0 && wih.size(1) != I_expected))
      throw err(l.w_ih_name, "has shape " + wih.shape().str() + ", expected (" + std::to_string(G * H) + ", " +
                                 (I_expected >= 0 ? std::to_string(I_expected) : std::string("I")) + ")");
    if (!(l.bias.shape() == Shape{G * H}))
      throw err(l.bias_name, "has shape " + l.bias.shape().str() + ", expected (" + std::to_string(G * H) + ")");
    if (l.bias_hn.defined() && !(l.bias_hn.shape() == Shape{H}))
      throw err(l.bias_hn_name, "has shape " + l.bias_hn.shape().str() + ", expected (" + std::to_string(H) + ")");
    for (auto [t, name] : {std::pair{&l.weight_ih, &l.w_ih_name}, std::pair{&l.weight_hh, &l.w_hh_name},
                           std::pair{&l.bias, &l.bias_name}, std::pair{&l.bias_hn, &l.bias_hn_name}})
      if (t->defined() && t->dtype() != dtype)
        throw err(*name, std::string("is ") + dtype_name(t->dtype()) + " but layer 0 is " + dtype_name(dtype));
  }
}

// out[begin, begin + n) = a[a0, a0 + n) (+ b[b0, b0 + n) when b is defined); all same dtype. The
// sum is taken in double and rounded once (for f32 the same bits as a float sum: double has more
// than 2·24 + 2 bits, so the double rounding is innocuous).
void copy_sum(Tensor& out, int64_t begin, const Tensor& a, int64_t a0, const Tensor* b, int64_t b0, int64_t n) {
  dispatch(out.dtype(), [&](auto zero) {
    using T = decltype(zero);
    T* o = out.data<T>() + begin;
    const T* x = a.data<T>() + a0;
    const T* y = b ? b->data<T>() + b0 : nullptr;
    for (int64_t i = 0; i < n; ++i) o[i] = y ? T(double(x[i]) + double(y[i])) : x[i];
  });
}

}  // namespace

std::map<std::string, Tensor> to_pytorch_rnn(const std::map<std::string, Tensor>& named, TorchRnn kind,
                                             const std::string& prefix) {
  const char* op = "to_pytorch_rnn";
  std::map<std::string, Tensor> out;
  std::map<LayerKey, LayerTensors> layers;
  for (const auto& [name, t] : named) {
    if (name.compare(0, prefix.size(), prefix) != 0) {
      out[name] = t;
      continue;
    }
    std::string_view rest = std::string_view(name).substr(prefix.size());
    size_t dot = rest.find('.');
    auto key = dot == std::string_view::npos ? std::nullopt : parse_layer(rest.substr(0, dot));
    std::string_view param = key ? rest.substr(dot + 1) : std::string_view();
    if (!t.defined()) throw std::invalid_argument(std::string(op) + ": tensor '" + name + "' is undefined");
    LayerTensors& l = layers[key.value_or(LayerKey{-1, false})];
    if (key && param == "weight_ih") l.weight_ih = t, l.w_ih_name = name;
    else if (key && param == "weight_hh") l.weight_hh = t, l.w_hh_name = name;
    else if (key && param == "bias") l.bias = t, l.bias_name = name;
    else if (key && param == "bias_hn" && kind == TorchRnn::gru) l.bias_hn = t, l.bias_hn_name = name;
    else
      throw std::invalid_argument(std::string(op) + ": tensor '" + name + "' is not a " +
                                  (kind == TorchRnn::gru    ? "GRU"
                                   : kind == TorchRnn::lstm ? "LSTM"
                                                            : "RNN") +
                                  " layer parameter (expected " + prefix + "l<k>[_reverse].weight_ih|weight_hh|bias" +
                                  (kind == TorchRnn::gru ? "|bias_hn)" : ")"));
  }
  // Fill in names of missing tensors for the messages.
  for (auto& [key, l] : layers) {
    std::string base = prefix + layer_suffix(key) + ".";
    if (l.w_ih_name.empty()) l.w_ih_name = base + "weight_ih";
    if (l.w_hh_name.empty()) l.w_hh_name = base + "weight_hh";
    if (l.bias_name.empty()) l.bias_name = base + "bias";
    if (l.bias_hn_name.empty()) l.bias_hn_name = base + "bias_hn";
  }
  validate_layers(layers, kind, op);
  const int64_t G = gates_of(kind);
  for (const auto& [key, l] : layers) {
    if (kind == TorchRnn::gru && !l.bias_hn.defined())
      throw std::invalid_argument(std::string(op) + ": tensor '" + l.bias_hn_name +
                                  "' is missing: a GRU without bias_hn (Cho form) has no PyTorch equivalent; "
                                  "use GruForm::reset_after");
    const std::string sfx = std::string("_").append(layer_suffix(key));
    const int64_t H = l.weight_hh.size(1);
    out[prefix + "weight_ih" + sfx] = l.weight_ih.clone();
    out[prefix + "weight_hh" + sfx] = l.weight_hh.clone();
    out[prefix + "bias_ih" + sfx] = l.bias.clone();
    Tensor bhh = Tensor::zeros(Shape{G * H}, l.bias.dtype());
    if (kind == TorchRnn::gru) copy_sum(bhh, 2 * H, l.bias_hn, 0, nullptr, 0, H);
    out[prefix + "bias_hh" + sfx] = bhh;
  }
  return out;
}

std::map<std::string, Tensor> to_pytorch_rnn_grads(const std::map<std::string, Tensor>& grads, TorchRnn kind,
                                                   const std::string& prefix) {
  std::map<std::string, Tensor> out = to_pytorch_rnn(grads, kind, prefix);
  // PyTorch adds b_ih and b_hh where we have one bias: both get its gradient (for the GRU only in r
  // and z; b_hh's n part is our bias_hn, which to_pytorch_rnn already put there).
  for (auto& [name, bias_hh] : out) {
    const size_t at = name.find("bias_hh_", prefix.size());
    if (name.compare(0, prefix.size(), prefix) != 0 || at != prefix.size()) continue;
    const Tensor& bias_ih = out.at(prefix + "bias_ih_" + name.substr(at + 8));
    const int64_t shared = kind == TorchRnn::gru ? bias_hh.numel() / 3 * 2 : bias_hh.numel();
    copy_sum(bias_hh, 0, bias_ih, 0, nullptr, 0, shared);
  }
  return out;
}

namespace {

// One direction of one layer in PYTORCH naming, as read: tensors and their names (for messages).
struct TorchLayer {
  Tensor w_ih, w_hh, b_ih, b_hh;
  std::string n_ih, n_hh, n_bih, n_bhh;
};

// Sorts `state_dict` into PyTorch layers under `prefix` and copies every other tensor to `out`.
std::map<LayerKey, TorchLayer> torch_layers(const std::map<std::string, Tensor>& state_dict, const std::string& prefix,
                                            std::map<std::string, Tensor>& out, const char* op) {
  std::map<LayerKey, TorchLayer> raw;
  for (const auto& [name, t] : state_dict) {
    if (name.compare(0, prefix.size(), prefix) != 0) {
      out[name] = t;
      continue;
    }
    std::string_view rest = std::string_view(name).substr(prefix.size());
    std::optional<LayerKey> key;
    std::string_view field;
    for (std::string_view f : {"weight_ih_", "weight_hh_", "bias_ih_", "bias_hh_"})
      if (rest.substr(0, f.size()) == f) {
        key = parse_layer(rest.substr(f.size()));
        field = f;
        break;
      }
    if (!key)
      throw std::invalid_argument(std::string(op) + ": tensor '" + name +
                                  "' is not a PyTorch recurrent parameter (expected " + prefix +
                                  "weight_ih|weight_hh|bias_ih|bias_hh_l<k>[_reverse]; proj_size is unsupported)");
    if (!t.defined()) throw std::invalid_argument(std::string(op) + ": tensor '" + name + "' is undefined");
    TorchLayer& r = raw[*key];
    if (field == "weight_ih_") r.w_ih = t, r.n_ih = name;
    else if (field == "weight_hh_") r.w_hh = t, r.n_hh = name;
    else if (field == "bias_ih_") r.b_ih = t, r.n_bih = name;
    else r.b_hh = t, r.n_bhh = name;
  }
  return raw;
}

// One PyTorch layer in our naming: bias (G·H) = b_ih + b_hh, except a GRU's n gate, whose b_hn (H)
// stays separate. Checks the biases; validate_layers checks the rest.
LayerTensors layer_from_torch(TorchLayer& r, const LayerKey& key, TorchRnn kind, const std::string& prefix,
                              const char* op) {
  const int64_t G = gates_of(kind);
  const std::string sfx = std::string("_").append(layer_suffix(key));
  if (r.n_ih.empty()) r.n_ih = prefix + "weight_ih" + sfx;
  if (r.n_hh.empty()) r.n_hh = prefix + "weight_hh" + sfx;
  if (r.n_bih.empty()) r.n_bih = prefix + "bias_ih" + sfx;
  if (r.n_bhh.empty()) r.n_bhh = prefix + "bias_hh" + sfx;
  if (!r.w_hh.defined()) throw std::invalid_argument(std::string(op) + ": tensor '" + r.n_hh + "' is missing");
  if (r.b_ih.defined() != r.b_hh.defined())
    throw std::invalid_argument(std::string(op) + ": tensor '" + (r.b_ih.defined() ? r.n_bhh : r.n_bih) +
                                "' is missing (PyTorch has both biases or neither)");
  for (auto [t, name] : {std::pair{&r.b_ih, &r.n_bih}, std::pair{&r.b_hh, &r.n_bhh}})
    if (t->defined() &&
        (t->rank() != 1 || t->dtype() != r.w_hh.dtype() || (r.w_hh.rank() == 2 && t->size(0) != r.w_hh.size(0))))
      throw std::invalid_argument(std::string(op) + ": tensor '" + *name + "' is " + t->describe() + ", expected " +
                                  dtype_name(r.w_hh.dtype()) + " (" +
                                  (r.w_hh.rank() == 2 ? std::to_string(r.w_hh.size(0)) : std::string("G·H")) + ")");
  LayerTensors l;
  l.weight_ih = r.w_ih, l.w_ih_name = r.n_ih;
  l.weight_hh = r.w_hh, l.w_hh_name = r.n_hh;
  l.bias_name = r.n_bih;
  l.bias_hn_name = r.n_bhh;
  if (r.w_hh.rank() == 2 && r.w_hh.size(0) % G == 0) {  // else validate_layers reports the shape
    const int64_t H = r.w_hh.size(1), GH = r.w_hh.size(0);
    l.bias = Tensor::zeros(Shape{GH}, r.w_hh.dtype());
    if (kind == TorchRnn::gru) l.bias_hn = Tensor::zeros(Shape{GH / G}, r.w_hh.dtype());
    if (r.b_ih.defined() && GH == G * H) {
      if (kind == TorchRnn::gru) {
        copy_sum(l.bias, 0, r.b_ih, 0, &r.b_hh, 0, 2 * H);      // r, z: b_i + b_h
        copy_sum(l.bias, 2 * H, r.b_ih, 2 * H, nullptr, 0, H);  // n: b_in
        copy_sum(l.bias_hn, 0, r.b_hh, 2 * H, nullptr, 0, H);   // b_hn stays inside r ⊙ (·)
      } else {
        copy_sum(l.bias, 0, r.b_ih, 0, &r.b_hh, 0, GH);
      }
    }
  } else {
    l.bias = Tensor::zeros(Shape{G}, r.w_hh.dtype());  // placeholder; the weight_hh shape throws
  }
  return l;
}

}  // namespace

std::map<std::string, Tensor> from_pytorch_rnn(const std::map<std::string, Tensor>& state_dict, TorchRnn kind,
                                               const std::string& prefix, std::optional<DType> dtype) {
  const char* op = "from_pytorch_rnn";
  std::map<std::string, Tensor> out;
  std::map<LayerKey, TorchLayer> raw = torch_layers(state_dict, prefix, out, op);
  if (dtype)
    for (auto& [key, r] : raw)
      for (Tensor* t : {&r.w_ih, &r.w_hh, &r.b_ih, &r.b_hh})
        if (t->defined() && t->dtype() != *dtype) *t = t->to(*dtype);
  std::map<LayerKey, LayerTensors> layers;
  for (auto& [key, r] : raw) layers[key] = layer_from_torch(r, key, kind, prefix, op);
  validate_layers(layers, kind, op);
  for (const auto& [key, l] : layers) {
    const std::string base = prefix + layer_suffix(key) + ".";
    out[base + "weight_ih"] = l.weight_ih.clone();
    out[base + "weight_hh"] = l.weight_hh.clone();
    out[base + "bias"] = l.bias;
    if (kind == TorchRnn::gru) out[base + "bias_hn"] = l.bias_hn;
  }
  return out;
}

}  // namespace seqgrad::nn
