// Checkpoints: named tensors and named text values (parameters, optimiser state, RNG state, run
// config) in one file with a format version, a header check and a checksum, written atomically
// (temporary file + rename), so a crash never leaves a half-written checkpoint behind. Loading is
// all-or-nothing: any mismatch throws before a single parameter is changed.
//
// On-disk format, version 1 (little-endian, 64-bit sizes; Boost.Serialization binary archive
// without its own header for the body, so a big-endian host is refused at compile time):
//   header  24 bytes: magic "\x89SGCKPT\n" | u32 format version | u32 reserved (0) | u64 body length
//   body    u64 n; n × (str name, u8 dtype 0=f32 1=f64, u8 rank, rank × u64 dim, u64 nbytes, raw)
//           u64 m; m × (str name, str value)        where str = u64 length + bytes
//   trailer u32 CRC-32 (boost::crc_32_type) of the body
// Loading checks magic, version and exact file size, then the CRC over the body bytes, and only
// then deserialises them from memory, checking every count against the bytes that remain.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "autograd/rng.h"
#include "autograd/tensor.h"
#include "nn/io/file_io.h"  // write_file_atomic, detail::set_write_failure_for_testing
#include "nn/module.h"

namespace seqgrad::nn {

struct Checkpoint {
  std::map<std::string, Tensor> tensors;     // e.g. "param/encoder.l0.weight_ih", "optim/exp_avg/..."
  std::map<std::string, std::string> texts;  // e.g. "config", "rng/data", "optim/step"
};

// Writes `ckpt` to `path` atomically. Throws naming the path on any I/O failure.
void save_checkpoint(const std::string& path, const Checkpoint& ckpt);
// Reads and validates a checkpoint: magic, format version, sizes, checksum. Throws naming the path
// and the problem (not a checkpoint, newer format, truncated, corrupted) — never crashes.
Checkpoint load_checkpoint(const std::string& path);

// The same file format in memory (`what` names the source in error messages).
std::string encode_checkpoint(const Checkpoint& ckpt);
Checkpoint decode_checkpoint(std::string_view bytes, const std::string& what = "<memory>");

// Module parameters as "<prefix><name>" tensors.
void put_module(Checkpoint& ckpt, Module& module, const std::string& prefix = "param/");
// Copies every parameter from ckpt into module. Strict: a missing or unexpected name, a shape or
// dtype mismatch throws, naming it, before any parameter is modified.
void get_module(const Checkpoint& ckpt, Module& module, const std::string& prefix = "param/");

// What loading does with a tensor whose dtype differs from its parameter's.
enum class OnDTypeMismatch { error, cast };
// The loader behind get_module and load_module_tensors: every parameter from "<prefix><name>" in
// `tensors`, all-or-nothing (names and shapes are checked before any parameter changes); `caller`
// is the public function named in its errors.
void load_parameters(const std::map<std::string, Tensor>& tensors, Module& module, const std::string& prefix,
                     OnDTypeMismatch dtypes, const char* caller);

// Rng state as a text value, bit-exact.
void put_rng(Checkpoint& ckpt, const std::string& name, const Rng& rng);
void get_rng(const Checkpoint& ckpt, const std::string& name, Rng& rng);

// A module's parameters in one file: THE way to save and load them. The file name picks the format
// save_module writes: "*.safetensors" is safetensors with our parameter names (what PyTorch users
// exchange; the format has no checksum), anything else a seqgrad checkpoint holding "param/<name>"
// (CRC-32 checked). load_module reads a checkpoint (recognised by its magic bytes, whatever the name)
// or a *.safetensors file: all-or-nothing, values of another dtype cast to the parameter's (like
// PyTorch's load_state_dict), errors naming load_module, the file and the tensor.
void save_module(const std::string& path, Module& module);
void load_module(const std::string& path, Module& module);

}  // namespace seqgrad::nn
