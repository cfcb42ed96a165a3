// safetensors: round trips, exact bytes of a tiny file, malformed headers that must throw clearly
// (never crash), and the PyTorch nn.RNN/LSTM/GRU name and bias mapping with exact numbers.
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "nn/cells.h"
#include "nn/io/checkpoint.h"
#include "nn/io/safetensors.h"
#include "nn/recurrent.h"
#include "testing.h"

using namespace seqgrad;
using namespace seqgrad::nn;
using seqgrad::testing::TempDir;
namespace fs = std::filesystem;

namespace {

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

// A file made of a header text and `data_bytes` zero bytes of data.
std::string make_file(const std::string& json, size_t data_bytes) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[size_t(i)] = char((uint64_t(json.size()) >> (8 * i)) & 0xff);
  return out + json + std::string(data_bytes, '\0');
}

void require_same(const std::map<std::string, Tensor>& a, const std::map<std::string, Tensor>& b) {
  REQUIRE(a.size() == b.size());
  for (const auto& [name, t] : a) {
    INFO(name);
    REQUIRE(b.count(name));
    REQUIRE(bitwise_equal(t, b.at(name)));
  }
}

Tensor vec(std::initializer_list<double> v, DType dtype = DType::f64) {
  return Tensor::from(Shape{int64_t(v.size())}, v, dtype);
}

// A cell registered as layer "l0", the way Recurrent names its first layer.
template <typename Cell>
struct FirstLayer : Module {
  template <typename... Args>
  explicit FirstLayer(Args&&... args) : l0(std::forward<Args>(args)...) {
    register_module("l0", l0);
  }
  Cell l0;
};

}  // namespace

TEST_CASE("safetensors: round trip of f32/f64 tensors and metadata", "[nn][safetensors]") {
  TempDir dir("st");
  Rng rng(4);
  std::map<std::string, Tensor> t;
  t["rnn.weight_ih_l0"] = Tensor::normal({6, 3}, rng);
  t["rnn.bias"] = Tensor::normal({5}, rng, 0.0, 1.0, DType::f64);  // odd f32 count before it: alignment
  t["odd"] = Tensor::normal({3}, rng);
  t["scalar"] = Tensor::scalar(2.5, DType::f64);
  t["empty"] = Tensor::zeros({0, 4});
  t["quote\"and\\slash\n\x01ü"] = Tensor::ones({1});
  std::map<std::string, std::string> meta{{"format", "pt"}, {"note", "tab\there \"q\" ✓"}};
  write_safetensors(dir.file("a.safetensors"), t, meta);
  Safetensors back = read_safetensors_file(dir.file("a.safetensors"));
  require_same(t, back.tensors);
  REQUIRE(back.metadata == meta);
  require_same(t, read_safetensors(dir.file("a.safetensors")));
  // Memory and file paths agree; f64 data comes first and stays 8-byte aligned.
  const std::string bytes = read_bytes(dir.file("a.safetensors"));
  REQUIRE(bytes == encode_safetensors(t, meta));
  require_same(t, decode_safetensors(bytes).tensors);
  REQUIRE(bytes.size() % 8 == 0);
  REQUIRE(fs::directory_iterator(dir.path)->path().filename() == "a.safetensors");
}

TEST_CASE("safetensors: exact bytes of a tiny file, and a hand-written header", "[nn][safetensors]") {
  std::map<std::string, Tensor> t{{"a", vec({1.0, -2.0}, DType::f32)}};
  const std::string json = R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  REQUIRE(json.size() == 85);
  std::string expected =
      std::string("\x58\0\0\0\0\0\0\0", 8) + json + "   " + std::string("\x00\x00\x80\x3f\x00\x00\x00\xc0", 8);
  REQUIRE(encode_safetensors(t, {{"format", "pt"}}) == expected);

  // As Python's json.dumps writes it: spaces, other key order, escapes, a scalar, no metadata.
  const std::string hand =
      "{\"b\\u00e9\": {\"shape\": [], \"data_offsets\": [0, 8], \"dtype\": \"F64\"}, "
      "\"__metadata__\": {}}\n  ";
  std::string file = make_file(hand, 0);
  const double v = 0.1;
  file.append(reinterpret_cast<const char*>(&v), 8);
  Safetensors s = decode_safetensors(file);
  REQUIRE(s.tensors.size() == 1);
  REQUIRE(s.tensors.at("b\xc3\xa9").item() == 0.1);
  REQUIRE(s.tensors.at("b\xc3\xa9").rank() == 0);
}

TEST_CASE("safetensors: malformed files throw clear errors", "[nn][safetensors]") {
  auto bad = [](const std::string& json, size_t data) { return decode_safetensors(make_file(json, data), "x.st"); };
  const std::string ok_entry = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  REQUIRE(decode_safetensors(make_file("{" + ok_entry + "}", 8)).tensors.size() == 1);

  // Bad JSON.
  REQUIRE_THROWS_NAMING(bad("{\"a\":", 0), "x.st", "JSON");
  REQUIRE_THROWS_NAMING(bad("{\"a\" 1}", 0), "JSON", "':'");
  REQUIRE_THROWS_NAMING(bad("{" + ok_entry + "}x", 8), "JSON", "after");
  REQUIRE_THROWS_NAMING(bad("[1, 2]", 0), "JSON", "object");
  REQUIRE_THROWS_NAMING(bad("{\"a\":\"\x01\"}", 0), "control character");
  REQUIRE_THROWS_NAMING(bad("{\"a\":\"\\ud800\"}", 0), "surrogate");
  REQUIRE_THROWS_NAMING(bad("{\"a\":tru}", 0), "literal");
  REQUIRE_THROWS_NAMING(bad("{\"a\":01}", 0), "expected '}'");  // "0" then "1": not valid JSON
  REQUIRE_THROWS_NAMING(bad("{\"m\":" + std::string(100000, '[') + "}", 0), "nesting");
  REQUIRE_THROWS_NAMING(bad("{" + ok_entry + "," + ok_entry + "}", 8), "duplicate key");

  // Structure.
  REQUIRE_THROWS_NAMING(bad(R"({"a":{"dtype":"F32","shape":[2]}})", 8), "'a'", "data_offsets");
  REQUIRE_THROWS_NAMING(bad(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", 8), "'a'", "\"x\"");
  REQUIRE_THROWS_NAMING(bad(R"({"a":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}})", 8), "'a'",
                        "unknown dtype 'Q7'");
  REQUIRE_THROWS_NAMING(bad(R"({"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", 4), "'a'",
                        "unsupported dtype 'F16'");
  REQUIRE_THROWS_NAMING(bad(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8), "'a'", "non-negative");
  REQUIRE_THROWS_NAMING(bad(R"({"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", 8), "'a'", "non-negative");
  REQUIRE_THROWS_NAMING(bad(R"({"a":{"dtype":"F32","shape":[1,1,1,1,1,1,1],"data_offsets":[0,4]}})", 4), "rank 7");
  REQUIRE_THROWS_NAMING(bad(R"({"a":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,8]}})", 8),
                        "out of range");
  REQUIRE_THROWS_NAMING(bad(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8), "'a'",
                        "needs more");
  REQUIRE_THROWS_NAMING(bad(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8), "'a'", "needs 12");
  REQUIRE_THROWS_NAMING(bad(R"({"__metadata__":{"k":1}})", 0), "__metadata__", "not a string");

  // Offsets.
  REQUIRE_THROWS_NAMING(bad(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4), "'a'", "out of range");
  REQUIRE_THROWS_NAMING(bad(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8), "'a'", "out of range");
  REQUIRE_THROWS_NAMING(bad(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                            R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                            12),
                        "'a'", "'b'", "overlap");
  REQUIRE_THROWS_NAMING(bad(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12), "gap", "'a'");
  REQUIRE_THROWS_NAMING(bad(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 12), "12 bytes", "cover 8");

  // Header length.
  std::string f = make_file("{" + ok_entry + "}", 8);
  f[0] = char(0xff);
  f[5] = 1;
  REQUIRE_THROWS_NAMING(decode_safetensors(f, "x.st"), "x.st", "header length", "exceeds");
  REQUIRE_THROWS_NAMING(decode_safetensors(std::string("\x01\0\0", 3), "x.st"), "truncated");
  REQUIRE_THROWS_NAMING(decode_safetensors(make_file("", 0), "x.st"), "too small");
}

TEST_CASE("safetensors: truncations and byte corruption never crash", "[nn][safetensors]") {
  TempDir dir("st");
  Rng rng(8);
  std::map<std::string, Tensor> t{{"w", Tensor::normal({3, 2}, rng)},
                                  {"b", Tensor::normal({3}, rng, 0, 1, DType::f64)}};
  const std::string good = encode_safetensors(t, {{"k", "v"}});
  for (size_t n = 0; n < good.size(); ++n) {
    INFO("length " << n);
    REQUIRE_THROWS(decode_safetensors(good.substr(0, n)));
  }
  // Any byte of the length field or header replaced by any of a few values: parses or throws.
  const uint64_t header_end = 8 + uint8_t(good[0]);
  int parsed = 0, thrown = 0;
  for (size_t pos = 0; pos < header_end; ++pos)
    for (char c : {'\0', '"', '{', '}', '[', ']', ',', ':', '9', '\\', 'x', '\xff'}) {
      std::string b = good;
      b[pos] = c;
      try {
        decode_safetensors(b);
        ++parsed;
      } catch (const std::runtime_error&) {
        ++thrown;
      }
    }
  REQUIRE(thrown > 0);
  REQUIRE(parsed + thrown == int(header_end) * 12);

  // Through the file reader too.
  write_bytes(dir.file("cut.safetensors"), good.substr(0, good.size() - 3));
  REQUIRE_THROWS_NAMING(read_safetensors(dir.file("cut.safetensors")), "cut.safetensors", "out of range");
  REQUIRE_THROWS_NAMING(read_safetensors(dir.file("absent.safetensors")), "absent.safetensors", "no such file");
  std::map<std::string, Tensor> undefined{{"u", Tensor()}};
  REQUIRE_THROWS_NAMING(write_safetensors(dir.file("u.safetensors"), undefined), "'u'", "undefined");
  REQUIRE_FALSE(fs::exists(dir.file("u.safetensors")));
}

TEST_CASE("safetensors: PyTorch names and bias summing with exact numbers", "[nn][safetensors]") {
  SECTION("LSTM import sums the two biases") {
    std::map<std::string, Tensor> pt{{"rnn.weight_ih_l0", Tensor::from({4, 2}, {1, 2, 3, 4, 5, 6, 7, 8}, DType::f64)},
                                     {"rnn.weight_hh_l0", Tensor::from({4, 1}, {9, 10, 11, 12}, DType::f64)},
                                     {"rnn.bias_ih_l0", vec({1, 2, 3, 4})},
                                     {"rnn.bias_hh_l0", vec({0.5, 0.25, -3, 0.125})},
                                     {"head.weight", vec({7})}};
    auto ours = from_pytorch_rnn(pt, TorchRnn::lstm, "rnn.");
    REQUIRE(ours.size() == 4);
    REQUIRE(ours.at("rnn.l0.bias").to_vector() == std::vector<double>{1.5, 2.25, 0, 4.125});
    REQUIRE(bitwise_equal(ours.at("rnn.l0.weight_ih"), pt.at("rnn.weight_ih_l0")));
    REQUIRE(bitwise_equal(ours.at("rnn.l0.weight_hh"), pt.at("rnn.weight_hh_l0")));
    REQUIRE(ours.at("head.weight").shares_storage(pt.at("head.weight")));  // passed through

    auto again = to_pytorch_rnn(ours, TorchRnn::lstm, "rnn.");
    REQUIRE(again.at("rnn.bias_ih_l0").to_vector() == std::vector<double>{1.5, 2.25, 0, 4.125});
    REQUIRE(again.at("rnn.bias_hh_l0").to_vector() == std::vector<double>{0, 0, 0, 0});
    REQUIRE(bitwise_equal(again.at("rnn.weight_ih_l0"), pt.at("rnn.weight_ih_l0")));
  }
  SECTION("GRU import: r,z summed, n split into bias and bias_hn") {
    std::map<std::string, Tensor> pt{
        {"weight_ih_l0", Tensor::from({6, 1}, {1, 2, 3, 4, 5, 6}, DType::f64)},
        {"weight_hh_l0", Tensor::from({6, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, DType::f64)},
        //                     r          z          n
        {"bias_ih_l0", vec({0.5, 1.0, 2.0, -1.0, 3.0, 4.0})},
        {"bias_hh_l0", vec({0.25, 0.5, -2.0, 1.0, 8.0, 16.0})}};
    auto ours = from_pytorch_rnn(pt, TorchRnn::gru);
    REQUIRE(ours.at("l0.bias").to_vector() == std::vector<double>{0.75, 1.5, 0.0, 0.0, 3.0, 4.0});
    REQUIRE(ours.at("l0.bias_hn").to_vector() == std::vector<double>{8.0, 16.0});
    auto back = to_pytorch_rnn(ours, TorchRnn::gru);
    REQUIRE(back.at("bias_ih_l0").to_vector() == std::vector<double>{0.75, 1.5, 0.0, 0.0, 3.0, 4.0});
    REQUIRE(back.at("bias_hh_l0").to_vector() == std::vector<double>{0, 0, 0, 0, 8.0, 16.0});
    REQUIRE(from_pytorch_rnn(back, TorchRnn::gru).at("l0.bias_hn").to_vector() == std::vector<double>{8.0, 16.0});
  }
  SECTION("bias=False imports as zero biases") {
    std::map<std::string, Tensor> pt{{"weight_ih_l0", Tensor::zeros({3, 2})}, {"weight_hh_l0", Tensor::zeros({3, 3})}};
    auto ours = from_pytorch_rnn(pt, TorchRnn::rnn);
    REQUIRE(ours.at("l0.bias").to_vector() == std::vector<double>{0, 0, 0});
    REQUIRE(ours.at("l0.bias").dtype() == DType::f32);
  }
}

TEST_CASE("safetensors: 2-layer bidirectional mapping round trip through a file", "[nn][safetensors]") {
  // Our layout, as the stacked/bidirectional module names it: l0, l0_reverse, l1, l1_reverse.
  struct BiElman : Module {
    Rng rng{5};
    Elman l0{3, 4, rng}, l0r{3, 4, rng}, l1{8, 4, rng}, l1r{8, 4, rng};
    BiElman() {
      register_module("l0", l0);
      register_module("l0_reverse", l0r);
      register_module("l1", l1);
      register_module("l1_reverse", l1r);
    }
  };
  BiElman a;
  auto pt = to_pytorch_rnn(module_tensors(a), TorchRnn::rnn);
  std::vector<std::string> names;
  for (auto& [n, _] : pt) names.push_back(n);
  REQUIRE(names == std::vector<std::string>{"bias_hh_l0", "bias_hh_l0_reverse", "bias_hh_l1", "bias_hh_l1_reverse",
                                            "bias_ih_l0", "bias_ih_l0_reverse", "bias_ih_l1", "bias_ih_l1_reverse",
                                            "weight_hh_l0", "weight_hh_l0_reverse", "weight_hh_l1",
                                            "weight_hh_l1_reverse", "weight_ih_l0", "weight_ih_l0_reverse",
                                            "weight_ih_l1", "weight_ih_l1_reverse"});
  TempDir dir("st");
  write_safetensors(dir.file("rnn.safetensors"), pt, {{"format", "pt"}});
  BiElman b;
  b.l1r.bias.value.fill(9.0);
  load_module_tensors(b, from_pytorch_rnn(read_safetensors(dir.file("rnn.safetensors")), TorchRnn::rnn));
  require_same(module_tensors(a), module_tensors(b));

  // GRU-shaped tensors with bias_hn round-trip exactly; LSTM likewise.
  Rng rng(6);
  for (TorchRnn kind : {TorchRnn::lstm, TorchRnn::gru}) {
    const int64_t G = kind == TorchRnn::lstm ? 4 : 3, H = 2;
    std::map<std::string, Tensor> ours;
    for (std::string l : {"l0", "l0_reverse", "l1", "l1_reverse"}) {
      const int64_t I = l[1] == '0' ? 3 : 2 * H;
      ours["enc." + l + ".weight_ih"] = Tensor::normal({G * H, I}, rng);
      ours["enc." + l + ".weight_hh"] = Tensor::normal({G * H, H}, rng);
      ours["enc." + l + ".bias"] = Tensor::normal({G * H}, rng);
      if (kind == TorchRnn::gru) ours["enc." + l + ".bias_hn"] = Tensor::normal({H}, rng);
    }
    require_same(ours, from_pytorch_rnn(to_pytorch_rnn(ours, kind, "enc."), kind, "enc."));
  }
}

TEST_CASE("safetensors: PyTorch mapping errors name the offending tensor", "[nn][safetensors]") {
  std::map<std::string, Tensor> gru{{"l0.weight_ih", Tensor::zeros({6, 3})},
                                    {"l0.weight_hh", Tensor::zeros({6, 2})},
                                    {"l0.bias", Tensor::zeros({6})},
                                    {"l0.bias_hn", Tensor::zeros({2})}};
  REQUIRE(to_pytorch_rnn(gru, TorchRnn::gru).size() == 4);

  auto m = gru;
  m.erase("l0.bias_hn");
  REQUIRE_THROWS_NAMING(to_pytorch_rnn(m, TorchRnn::gru), "'l0.bias_hn'", "Cho");
  REQUIRE_THROWS_NAMING(to_pytorch_rnn(gru, TorchRnn::lstm), "'l0.bias_hn'", "LSTM");
  m = gru;
  m["l0.weight_hh"] = Tensor::zeros({6, 3});
  REQUIRE_THROWS_NAMING(to_pytorch_rnn(m, TorchRnn::gru), "'l0.weight_hh'", "(6, 3)");
  m = gru;
  m["l0.weight_ih"] = Tensor::zeros({5, 3});
  REQUIRE_THROWS_NAMING(to_pytorch_rnn(m, TorchRnn::gru), "'l0.weight_ih'", "(5, 3)");
  m = gru;
  m["l0.bias"] = Tensor::zeros({6}, DType::f64);
  REQUIRE_THROWS_NAMING(to_pytorch_rnn(m, TorchRnn::gru), "'l0.bias'", "f64");
  m = gru;
  m["l0.gamma"] = Tensor::zeros({2});
  REQUIRE_THROWS_NAMING(to_pytorch_rnn(m, TorchRnn::gru), "'l0.gamma'");
  m = gru;
  m["l2.weight_ih"] = Tensor::zeros({6, 2});
  REQUIRE_THROWS_NAMING(to_pytorch_rnn(m, TorchRnn::gru), "'l2.weight_ih'", "layer 1 is missing");
  m = gru;
  m.erase("l0.weight_ih");
  REQUIRE_THROWS_NAMING(to_pytorch_rnn(m, TorchRnn::gru), "'l0.weight_ih'", "missing");

  std::map<std::string, Tensor> pt{{"weight_ih_l0", Tensor::zeros({3, 2})},
                                   {"weight_hh_l0", Tensor::zeros({3, 3})},
                                   {"bias_ih_l0", Tensor::zeros({3})}};
  REQUIRE_THROWS_NAMING(from_pytorch_rnn(pt, TorchRnn::rnn), "'bias_hh_l0'", "missing");
  pt["bias_hh_l0"] = Tensor::zeros({4});
  REQUIRE_THROWS_NAMING(from_pytorch_rnn(pt, TorchRnn::rnn), "'bias_hh_l0'", "(4)");
  pt["bias_hh_l0"] = Tensor::zeros({3});
  pt["weight_hr_l0"] = Tensor::zeros({3, 3});
  REQUIRE_THROWS_NAMING(from_pytorch_rnn(pt, TorchRnn::rnn), "'weight_hr_l0'", "proj_size");
  pt.erase("weight_hr_l0");
  pt["weight_hh_l0_reverse"] = Tensor::zeros({3, 3});
  REQUIRE_THROWS_NAMING(from_pytorch_rnn(pt, TorchRnn::rnn), "'weight_ih_l0_reverse'", "missing");
  REQUIRE_THROWS_NAMING(from_pytorch_rnn(pt, TorchRnn::lstm), "'weight_hh_l0'", "(3, 3)");
}

// The C++ side of tests/pytorch/compare_pytorch.py: with SEQGRAD_PYTORCH_REF=<its --out dir>,
// loads PyTorch's weights into our Recurrent stack and compares outputs, final states and
// gradients (input and every weight) in float64. Without the variable it does nothing.
TEST_CASE("safetensors: PyTorch weights load into a module of either dtype", "[nn][safetensors]") {
  // An f32 nn.RNN whose two biases do not add exactly in f32: 1 + 2^-30 rounds to 1.
  const double tiny = std::ldexp(1.0, -30);
  std::map<std::string, Tensor> pt{{"weight_ih_l0", Tensor::from({2, 1}, {0.1, 0.2})},
                                   {"weight_hh_l0", Tensor::from({2, 2}, {0.3, 0.4, 0.5, 0.6})},
                                   {"bias_ih_l0", vec({1.0, 2.0}, DType::f32)},
                                   {"bias_hh_l0", vec({tiny, 0.5}, DType::f32)}};
  Rng rng(1);
  SECTION("into f64 with dtype: cast first, biases summed exactly") {
    FirstLayer<Elman> cell(1, 2, rng);
    cell.to(DType::f64);
    load_module_tensors(cell, from_pytorch_rnn(pt, TorchRnn::rnn, "", DType::f64));
    REQUIRE(cell.l0.bias.value.to_vector() == std::vector<double>{1.0 + tiny, 2.5});
    REQUIRE(cell.l0.weight_ih.value.to_vector() == std::vector<double>{double(0.1f), double(0.2f)});
    REQUIRE(cell.l0.bias.value.dtype() == DType::f64);
  }
  SECTION("into f64 without dtype: the f32 sum, cast on load like load_state_dict") {
    FirstLayer<Elman> cell(1, 2, rng);
    cell.to(DType::f64);
    load_module_tensors(cell, from_pytorch_rnn(pt, TorchRnn::rnn));
    REQUIRE(cell.l0.bias.value.to_vector() == std::vector<double>{1.0, 2.5});
  }
  SECTION("f64 tensors into an f32 module are rounded on load") {
    FirstLayer<Elman> cell(1, 2, rng);
    load_module_tensors(cell, from_pytorch_rnn(pt, TorchRnn::rnn, "", DType::f64));
    REQUIRE(cell.l0.bias.value.dtype() == DType::f32);
    REQUIRE(cell.l0.bias.value.to_vector() == std::vector<double>{1.0, 2.5});
  }
  SECTION("checkpoints stay strict about dtypes") {
    FirstLayer<Elman> cell(1, 2, rng);
    cell.to(DType::f64);
    Checkpoint ckpt;
    ckpt.tensors = from_pytorch_rnn(pt, TorchRnn::rnn);
    REQUIRE_THROWS_NAMING(get_module(ckpt, cell, ""), "get_module: tensor 'l0.weight_ih' is f32 (2, 1)",
                          "parameter is f64");
  }
}

TEST_CASE("safetensors: errors name the function called, and a Cho-form GRU is told to use reset-after",
          "[nn][safetensors]") {
  Rng rng(2);
  FirstLayer<Gru> reset_after(1, 2, rng, GruForm::reset_after), cho(1, 2, rng, GruForm::cho);
  const auto pt = to_pytorch_rnn(module_tensors(reset_after), TorchRnn::gru);
  REQUIRE_THROWS_NAMING(load_module_tensors(cho, from_pytorch_rnn(pt, TorchRnn::gru)),
                        "load_module_tensors:", "unexpected tensor 'l0.bias_hn'", "GruForm::reset_after");
  auto missing = module_tensors(reset_after);
  missing.erase("l0.weight_hh");
  REQUIRE_THROWS_NAMING(load_module_tensors(reset_after, missing), "load_module_tensors: no tensor 'l0.weight_hh'");
  TempDir dir("st");
  write_safetensors(dir.file("gru.safetensors"), from_pytorch_rnn(pt, TorchRnn::gru));
  REQUIRE_THROWS_NAMING(load_module(dir.file("gru.safetensors"), cho), "gru.safetensors",
                        "load_module:", "GruForm::reset_after");
}

TEST_CASE("safetensors: gradients under PyTorch's names", "[nn][safetensors]") {
  // GRU: both PyTorch biases get our bias's gradient in r and z; in n, b_ih gets bias's, b_hh bias_hn's.
  std::map<std::string, Tensor> grads{{"l0.weight_ih", Tensor::from({3, 1}, {1, 2, 3}, DType::f64)},
                                      {"l0.weight_hh", Tensor::from({3, 1}, {4, 5, 6}, DType::f64)},
                                      {"l0.bias", vec({0.5, 0.25, 0.125})},
                                      {"l0.bias_hn", vec({8.0})}};
  auto pt = to_pytorch_rnn_grads(grads, TorchRnn::gru);
  REQUIRE(pt.at("bias_ih_l0").to_vector() == std::vector<double>{0.5, 0.25, 0.125});
  REQUIRE(pt.at("bias_hh_l0").to_vector() == std::vector<double>{0.5, 0.25, 8.0});
  REQUIRE(pt.at("weight_hh_l0").to_vector() == std::vector<double>{4, 5, 6});
  // LSTM: b_hh's gradient is the whole bias gradient.
  grads = {{"enc.l0.weight_ih", Tensor::zeros({4, 1}, DType::f64)},
           {"enc.l0.weight_hh", Tensor::zeros({4, 1}, DType::f64)},
           {"enc.l0.bias", vec({1, 2, 3, 4})},
           {"head.bias", vec({7})}};
  pt = to_pytorch_rnn_grads(grads, TorchRnn::lstm, "enc.");
  REQUIRE(pt.at("enc.bias_hh_l0").to_vector() == std::vector<double>{1, 2, 3, 4});
  REQUIRE(pt.at("head.bias").to_vector() == std::vector<double>{7});
  // module_grads: zeros before any backward, then the gradients.
  Rng rng(3);
  Elman cell(1, 2, rng);
  REQUIRE(module_grads(cell).at("bias").to_vector() == std::vector<double>{0, 0});
}

// Hidden ("[.pytorch]"): never part of the default run or CTest; run it by hand after
// tests/pytorch/compare_pytorch.py has written the reference files (see tests/pytorch/README.md).
TEST_CASE("safetensors: PyTorch reference outputs and gradients (SEQGRAD_PYTORCH_REF)", "[nn][safetensors][.pytorch]") {
  const char* ref = std::getenv("SEQGRAD_PYTORCH_REF");
  INFO("set SEQGRAD_PYTORCH_REF to the folder written by tests/pytorch/compare_pytorch.py");
  REQUIRE(ref != nullptr);
  for (TorchRnn kind : {TorchRnn::rnn, TorchRnn::lstm, TorchRnn::gru}) {
    const std::string name = kind == TorchRnn::rnn ? "rnn" : kind == TorchRnn::lstm ? "lstm" : "gru";
    INFO(name);
    auto f = read_safetensors((fs::path(ref) / (name + ".safetensors")).string());
    std::map<std::string, Tensor> pt;
    for (auto& [n, t] : f)
      if (n.rfind("rnn.", 0) == 0) pt[n] = t;
    const Tensor& x = f.at("input.x");
    const int64_t G = kind == TorchRnn::rnn ? 1 : kind == TorchRnn::lstm ? 4 : 3;
    const int64_t H = f.at("rnn.weight_hh_l0").size(1);
    CellFactory factory = kind == TorchRnn::rnn    ? cell_factory<Elman>(Activation::tanh)
                          : kind == TorchRnn::lstm ? cell_factory<Lstm>(0.0)
                                                   : cell_factory<Gru>(GruForm::reset_after);
    Rng rng(0);
    RecurrentOptions options;
    options.num_layers = 2;
    options.bidirectional = true;
    Recurrent net(factory, x.size(2), H, rng, options);
    net.to(DType::f64);
    net.eval();
    Checkpoint ckpt;
    ckpt.tensors = from_pytorch_rnn(pt, kind, "rnn.");
    get_module(ckpt, net, "rnn.");
    net.zero_grad();

    Tape tape;
    Var xv = tape.variable(x);
    RecurrentResult r = net(xv, rng);
    std::vector<Var> hs, cs;
    for (const State& s : r.final) {
      hs.push_back(s.h);
      if (kind == TorchRnn::lstm) cs.push_back(s.c);
    }
    Var h_n = stack(hs, 0);
    Var loss = sum(r.output * tape.constant(f.at("loss.w_output"))) + sum(h_n * tape.constant(f.at("loss.w_h_n")));
    if (kind == TorchRnn::lstm) loss = loss + sum(stack(cs, 0) * tape.constant(f.at("loss.w_c_n")));
    tape.backward(loss);

    const double tol = 1e-10;
    CHECK(max_abs_diff(r.output.value(), f.at("expected.output")) < tol);
    CHECK(max_abs_diff(h_n.value(), f.at("expected.h_n")) < tol);
    if (kind == TorchRnn::lstm) CHECK(max_abs_diff(stack(cs, 0).value(), f.at("expected.c_n")) < tol);
    CHECK(max_abs_diff(xv.grad(), f.at("grad.x")) < tol);
    // Every gradient PyTorch reports, under its name (to_pytorch_rnn_grads maps our biases' gradients).
    std::map<std::string, Tensor> ours;
    for (auto& [n, g] : module_grads(net)) ours["rnn." + n] = g;
    const auto pt_grads = to_pytorch_rnn_grads(ours, kind, "rnn.");
    REQUIRE(pt_grads.size() == size_t(16));  // 2 layers x 2 directions x 4 tensors
    for (const auto& [n, g] : pt_grads) {
      INFO(n);
      CHECK(max_abs_diff(g, f.at("grad." + n)) < tol);
    }
    CHECK(G * H == pt_grads.at("rnn.bias_hh_l0").size(0));
  }
}
