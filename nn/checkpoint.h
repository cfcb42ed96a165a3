// Checkpoints: named tensors and named text values (parameters, optimiser state, RNG state, run
// config) in one file with a format version, a header check and a checksum, written atomically
// (temporary file + rename), so a crash never leaves a half-written checkpoint behind. Loading is
// all-or-nothing: any mismatch throws before a single parameter is changed.
#pragma once

#include <map>
#include <string>

#include "autograd/rng.h"
#include "autograd/tensor.h"
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

// Module parameters as "<prefix><name>" tensors.
void put_module(Checkpoint& ckpt, Module& module, const std::string& prefix = "param/");
// Copies every parameter from ckpt into module. Strict: a missing or unexpected name, a shape or
// dtype mismatch throws, naming it, before any parameter is modified.
void get_module(const Checkpoint& ckpt, Module& module, const std::string& prefix = "param/");

// Rng state as a text value, bit-exact.
void put_rng(Checkpoint& ckpt, const std::string& name, const Rng& rng);
void get_rng(const Checkpoint& ckpt, const std::string& name, Rng& rng);

// Convenience: a module alone.
void save_module(const std::string& path, Module& module);
void load_module(const std::string& path, Module& module);

}  // namespace seqgrad::nn
