// Checkpoints: round trips, atomic writes, strict module loading, and corrupted files (truncated,
// bit-flipped, bad magic, newer version, inconsistent bodies with a valid checksum) that must
// throw a clear error and never crash.
#include <boost/crc.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "nn/cells.h"
#include "nn/io/checkpoint.h"
#include "nn/io/safetensors.h"
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

// Rewrites the CRC trailer so that a deliberately inconsistent body passes the checksum.
void fix_crc(std::string& file) {
  boost::crc_32_type crc;
  crc.process_bytes(file.data() + 24, file.size() - 28);
  uint32_t c = crc.checksum();
  for (int i = 0; i < 4; ++i) file[file.size() - 4 + size_t(i)] = char((c >> (8 * i)) & 0xff);
}

struct Head : Module {
  Parameter weight, bias;
  Head(Rng& rng, DType dtype) {
    weight.value = Tensor::normal({2, 3}, rng, 0.0, 1.0, dtype);
    bias.value = Tensor::normal({2}, rng, 0.0, 1.0, dtype);
    register_parameter("weight", weight);
    register_parameter("bias", bias);
  }
};

// Nested names: "encoder.weight_ih", ..., "head.weight", "scale".
struct Net : Module {
  Elman encoder;
  Head head;
  Parameter scale;
  explicit Net(uint64_t seed) : Net(Rng(seed)) {}
  explicit Net(Rng&& rng) : encoder(3, 4, rng), head(rng, DType::f32) {
    scale.value = Tensor::normal({1}, rng);
    register_module("encoder", encoder);
    register_module("head", head);
    register_parameter("scale", scale);
  }
};

std::vector<Tensor> snapshot(Module& m) {
  std::vector<Tensor> out;
  for (auto& [_, p] : m.named_parameters()) out.push_back(p->value.clone());
  return out;
}
bool same_values(Module& m, const std::vector<Tensor>& snap) {
  auto params = m.named_parameters();
  for (size_t i = 0; i < params.size(); ++i)
    if (!bitwise_equal(params[i].second->value, snap[i])) return false;
  return true;
}

Checkpoint sample_checkpoint() {
  Rng rng(3);
  Checkpoint c;
  c.tensors["a/f32"] = Tensor::normal({2, 3}, rng);
  c.tensors["b/f64"] = Tensor::normal({4}, rng, 0.0, 1.0, DType::f64);
  c.tensors["c/scalar"] = Tensor::scalar(-0.0);
  c.tensors["d/empty"] = Tensor::zeros({0, 5}, DType::f64);
  c.tensors["e/rank6"] = Tensor::normal({1, 2, 1, 2, 1, 2}, rng);
  c.texts["config"] = "{\"lr\": 0.01}\n";
  c.texts["empty"] = "";
  c.texts[std::string("bin\0ary", 7)] = std::string("\0\xff\x01", 3);
  return c;
}

void require_equal(const Checkpoint& a, const Checkpoint& b) {
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (const auto& [name, t] : a.tensors) {
    INFO(name);
    REQUIRE(b.tensors.count(name));
    REQUIRE(bitwise_equal(t, b.tensors.at(name)));
  }
  REQUIRE(a.texts == b.texts);
}

}  // namespace

TEST_CASE("checkpoint: tensors, texts, a module and rng state round-trip exactly", "[nn][checkpoint]") {
  TempDir dir("ckpt");
  const std::string path = dir.file("run.ckpt");
  Checkpoint c = sample_checkpoint();

  Net net(11);
  put_module(c, net);
  REQUIRE(c.tensors.count("param/encoder.weight_ih"));
  REQUIRE(c.tensors.count("param/head.bias"));
  REQUIRE(c.tensors.count("param/scale"));

  Rng rng(42);
  for (int i = 0; i < 7; ++i) rng.normal();  // odd count: a spare normal is pending
  REQUIRE(rng.state().has_spare);
  put_rng(c, "rng/data", rng);

  save_checkpoint(path, c);
  Checkpoint back = load_checkpoint(path);
  require_equal(c, back);

  Net other(99);
  REQUIRE_FALSE(same_values(other, snapshot(net)));
  get_module(back, other);
  REQUIRE(same_values(other, snapshot(net)));

  Rng restored(0);
  get_rng(back, "rng/data", restored);
  for (int i = 0; i < 50; ++i) {
    REQUIRE(std::bit_cast<uint64_t>(restored.normal()) == std::bit_cast<uint64_t>(rng.normal()));
    REQUIRE(restored.next_u64() == rng.next_u64());
  }

  // save_module / load_module, and a snapshot is not aliased to the live parameters.
  save_module(dir.file("net.ckpt"), net);
  auto before = snapshot(net);
  const Tensor scale = net.scale.value.clone();
  net.scale.value.fill(5.0);
  REQUIRE(bitwise_equal(c.tensors.at("param/scale"), scale));
  load_module(dir.file("net.ckpt"), net);
  REQUIRE(same_values(net, before));

  // The same through *.safetensors: plain safetensors under our names, read back to the same values.
  save_module(dir.file("net.safetensors"), net);
  REQUIRE(read_safetensors(dir.file("net.safetensors")).count("scale") == 1);
  net.scale.value.fill(7.0);
  load_module(dir.file("net.safetensors"), net);
  REQUIRE(same_values(net, before));
}

TEST_CASE("checkpoint: writes are atomic and a failed write keeps the old file", "[nn][checkpoint]") {
  TempDir dir("ckpt");
  const std::string path = dir.file("model.ckpt");
  Checkpoint good = sample_checkpoint();
  save_checkpoint(path, good);
  save_checkpoint(path, good);  // overwrite
  REQUIRE(dir.entries() == std::vector<std::string>{"model.ckpt"});
  const std::string good_bytes = read_bytes(path);

  Checkpoint other;
  other.tensors["x"] = Tensor::ones({1000});

  SECTION("failure mid-write (test hook)") {
    struct Reset {
      ~Reset() { detail::set_write_failure_for_testing(-1); }
    } reset;
    for (int64_t cut : {0, 10, 24, 100, 3000}) {
      detail::set_write_failure_for_testing(cut);
      REQUIRE_THROWS_NAMING(save_checkpoint(path, other), "model.ckpt", "simulated write failure");
    }
  }
  SECTION("a tensor that cannot be serialised") {
    other.tensors["y"] = Tensor();
    REQUIRE_THROWS_NAMING(save_checkpoint(path, other), "'y'", "undefined");
  }
  SECTION("rename onto a directory fails") {
    fs::create_directories(dir.path / "sub" / "blocker");
    fs::create_directories(dir.path / "sub" / "blocker" / "child");
    REQUIRE_THROWS_NAMING(save_checkpoint(dir.file("sub/blocker"), other), "blocker", "rename");
    REQUIRE(fs::is_directory(dir.path / "sub" / "blocker" / "child"));
    fs::remove_all(dir.path / "sub");
  }
  SECTION("missing directory") {
    REQUIRE_THROWS_NAMING(save_checkpoint(dir.file("nope/model.ckpt"), other), "nope/model.ckpt");
  }
  REQUIRE(read_bytes(path) == good_bytes);
  require_equal(good, load_checkpoint(path));
  REQUIRE(dir.entries() == std::vector<std::string>{"model.ckpt"});  // no temporary files left
}

TEST_CASE("checkpoint: get_module is strict and all-or-nothing", "[nn][checkpoint]") {
  Net src(1);
  Checkpoint c;
  put_module(c, src);
  Net dst(2);
  const auto before = snapshot(dst);

  SECTION("missing name") {
    c.tensors.erase("param/scale");  // the last parameter: earlier ones must still be untouched
    REQUIRE_THROWS_NAMING(get_module(c, dst), "param/scale", "no tensor");
  }
  SECTION("unexpected name") {
    c.tensors["param/head.extra"] = Tensor::zeros({1});
    REQUIRE_THROWS_NAMING(get_module(c, dst), "param/head.extra", "unexpected");
  }
  SECTION("wrong shape") {
    c.tensors["param/scale"] = Tensor::zeros({2});
    REQUIRE_THROWS_NAMING(get_module(c, dst), "param/scale", "(2)", "(1)");
  }
  SECTION("wrong dtype") {
    c.tensors["param/scale"] = c.tensors["param/scale"].to(DType::f64);
    REQUIRE_THROWS_NAMING(get_module(c, dst), "param/scale", "f64", "f32");
  }
  SECTION("wrong shape through a file") {
    TempDir dir("ckpt");
    c.tensors["param/head.weight"] = Tensor::zeros({3, 2});
    save_checkpoint(dir.file("m.ckpt"), c);
    REQUIRE_THROWS_NAMING(load_module(dir.file("m.ckpt"), dst), "m.ckpt", "param/head.weight", "(3, 2)");
  }
  REQUIRE(same_values(dst, before));
  // Names outside the prefix are ignored.
  Checkpoint ok;
  put_module(ok, src);
  ok.tensors["optim/whatever"] = Tensor::zeros({7});
  get_module(ok, dst);
  REQUIRE(same_values(dst, snapshot(src)));
}

TEST_CASE("checkpoint: truncated files throw at every length", "[nn][checkpoint]") {
  TempDir dir("ckpt");
  const std::string path = dir.file("t.ckpt");
  const std::string cut_path = dir.file("cut.ckpt");
  save_checkpoint(path, sample_checkpoint());
  const std::string bytes = read_bytes(path);
  REQUIRE(bytes.size() > 200);
  std::vector<size_t> lengths;
  for (size_t n = 0; n < bytes.size(); n += 7) lengths.push_back(n);
  lengths.push_back(bytes.size() - 1);
  for (size_t n : lengths) {
    INFO("length " << n);
    write_bytes(cut_path, bytes.substr(0, n));
    REQUIRE_THROWS_NAMING(load_checkpoint(cut_path), "cut.ckpt", "truncated");
  }
  for (size_t n = 0; n < bytes.size(); ++n) {
    INFO("length " << n);
    REQUIRE_THROWS_NAMING(decode_checkpoint(std::string_view(bytes).substr(0, n), "cut"), "'cut'", "truncated");
  }
  // One byte too many is also an error.
  write_bytes(cut_path, bytes + "x");
  REQUIRE_THROWS_NAMING(load_checkpoint(cut_path), "cut.ckpt", "corrupted");
}

TEST_CASE("checkpoint: every single-bit flip is detected", "[nn][checkpoint]") {
  TempDir dir("ckpt");
  const std::string path = dir.file("f.ckpt");
  Checkpoint c;
  c.tensors["w"] = Tensor::from({2, 2}, {1, 2, 3, 4});
  c.texts["t"] = "abc";
  save_checkpoint(path, c);
  const std::string bytes = read_bytes(path);
  REQUIRE(bytes == encode_checkpoint(c));
  require_equal(c, decode_checkpoint(bytes));
  // Every bit in memory; one bit per byte through the file reader.
  int thrown = 0;
  for (size_t pos = 0; pos < bytes.size(); ++pos)
    for (int bit = 0; bit < 8; ++bit) {
      std::string b = bytes;
      b[pos] = char(b[pos] ^ (1 << bit));
      try {
        decode_checkpoint(b, "flip");
      } catch (const std::runtime_error& e) {
        if (std::string(e.what()).find("'flip'") != std::string::npos) ++thrown;
      }
    }
  REQUIRE(thrown == int(bytes.size()) * 8);
  const std::string bad = dir.file("flip.ckpt");
  for (size_t pos = 0; pos < bytes.size(); ++pos) {
    INFO("byte " << pos);
    std::string b = bytes;
    b[pos] = char(b[pos] ^ (1 << (pos % 8)));
    write_bytes(bad, b);
    REQUIRE_THROWS_NAMING(load_checkpoint(bad), "flip.ckpt");
  }
}

TEST_CASE("checkpoint: missing file, bad magic, newer version", "[nn][checkpoint]") {
  TempDir dir("ckpt");
  REQUIRE_THROWS_NAMING(load_checkpoint(dir.file("absent.ckpt")), "absent.ckpt", "no such file");

  write_bytes(dir.file("text.ckpt"), "this is a text file, not a checkpoint at all");
  REQUIRE_THROWS_NAMING(load_checkpoint(dir.file("text.ckpt")), "text.ckpt", "not a seqgrad checkpoint");
  write_bytes(dir.file("short.ckpt"), "PK");
  REQUIRE_THROWS_NAMING(load_checkpoint(dir.file("short.ckpt")), "short.ckpt", "not a seqgrad checkpoint");
  REQUIRE_THROWS_NAMING(load_checkpoint(dir.path.string()), "not a regular file");

  const std::string path = dir.file("v.ckpt");
  save_checkpoint(path, sample_checkpoint());
  std::string bytes = read_bytes(path);
  bytes[8] = 2;
  write_bytes(path, bytes);
  REQUIRE_THROWS_NAMING(load_checkpoint(path), "v.ckpt", "newer format version 2");
}

TEST_CASE("checkpoint: inconsistent bodies with a valid checksum are refused", "[nn][checkpoint]") {
  // Body of a one-tensor file: u64 count @24, u64 name length @32, "w" @40, u8 dtype @41,
  // u8 rank @42, dims @43 and @51, u64 byte count @59, data @67.
  TempDir dir("ckpt");
  const std::string path = dir.file("b.ckpt");
  Checkpoint c;
  c.tensors["w"] = Tensor::from({2, 2}, {1, 2, 3, 4});
  save_checkpoint(path, c);
  const std::string good = read_bytes(path);
  REQUIRE(good[40] == 'w');
  REQUIRE(good[59] == 16);
  auto patched = [&](size_t at, uint64_t value, int bytes) {
    std::string b = good;
    for (int i = 0; i < bytes; ++i) b[at + size_t(i)] = char((value >> (8 * i)) & 0xff);
    fix_crc(b);
    write_bytes(path, b);
  };
  patched(41, 7, 1);
  REQUIRE_THROWS_NAMING(load_checkpoint(path), "b.ckpt", "'w'", "unknown dtype");
  patched(59, 12, 8);
  REQUIRE_THROWS_NAMING(load_checkpoint(path), "'w'", "byte count 12", "inconsistent");
  patched(43, uint64_t(1) << 40, 8);  // a huge shape must not be allocated
  REQUIRE_THROWS_NAMING(load_checkpoint(path), "'w'", "inconsistent");
  patched(59, uint64_t(1) << 62, 8);
  REQUIRE_THROWS_NAMING(load_checkpoint(path), "'w'", "inconsistent");
  patched(24, uint64_t(1) << 60, 8);
  REQUIRE_THROWS_NAMING(load_checkpoint(path), "tensor count");
  patched(32, uint64_t(1) << 50, 8);
  REQUIRE_THROWS_NAMING(load_checkpoint(path), "tensor name", "remain");
  patched(42, 9, 1);
  REQUIRE_THROWS_NAMING(load_checkpoint(path), "rank 9");
}

TEST_CASE("checkpoint: rng text is validated", "[nn][checkpoint]") {
  Checkpoint c;
  Rng rng(5);
  REQUIRE_THROWS_NAMING(get_rng(c, "rng", rng), "'rng'");
  c.texts["rng"] = "xoshiro256ss-v1 0 0 0 0 0 0";
  REQUIRE_THROWS_NAMING(get_rng(c, "rng", rng), "'rng'", "hex");
  c.texts["rng"] = "garbage";
  REQUIRE_THROWS_NAMING(get_rng(c, "rng", rng), "'rng'");
  put_rng(c, "rng", rng);
  std::string text = c.texts["rng"];
  c.texts["rng"] = text.substr(0, text.size() - 1) + "2";
  REQUIRE_THROWS_NAMING(get_rng(c, "rng", rng), "spare flag");
  const auto st = rng.state();
  c.texts["rng"] = text;
  Rng other(77);
  get_rng(c, "rng", other);
  REQUIRE(other.state().s == st.s);
}
