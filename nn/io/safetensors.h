// safetensors files (the Hugging Face format PyTorch users exchange weights in) and the mapping
// between our recurrent parameter names and PyTorch's nn.RNN / nn.LSTM / nn.GRU state_dict names.
//
// File: u64 little-endian header length N | N bytes of JSON | raw little-endian tensor data.
//   {"__metadata__":{"k":"v"},"name":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},...}
// Offsets are relative to the start of the data section. We read and write F32 and F64; other
// dtypes are refused by name. The reader checks the header length against the file size, parses
// the JSON with a small strict parser of our own (depth-limited), and requires the tensors to
// tile the data section exactly (no overlap, no gap) before it allocates anything. The writer
// emits compact JSON (metadata first, then tensors by dtype size descending, then name), pads the
// header with spaces to a multiple of 8 bytes, and writes atomically like checkpoints.
//
// PyTorch name mapping (k = layer, [_reverse] = the backward direction of a bidirectional layer;
// our stacked/bidirectional modules name layers "l0", "l1", ..., "l0_reverse", ...):
//
//   ours  <prefix>l{k}[_reverse].weight_ih   (G·H, I)  <->  <prefix>weight_ih_l{k}[_reverse]  (G·H, I)
//   ours  <prefix>l{k}[_reverse].weight_hh   (G·H, H)  <->  <prefix>weight_hh_l{k}[_reverse]  (G·H, H)
//   ours  <prefix>l{k}[_reverse].bias        (G·H)     <->  <prefix>bias_ih_l{k}[_reverse] + bias_hh_l{k}[_reverse]
//   ours  <prefix>l{k}[_reverse].bias_hn     (H)       <->  GRU only: the n-part of bias_hh
//
//   G = 1 (Elman, nn.RNN), 4 (LSTM, gates i f g o), 3 (GRU, gates r z n): the same gate orders as
//   PyTorch, so weights map unchanged.
//   Import (from_pytorch_rnn): RNN/LSTM bias = b_ih + b_hh. GRU (PyTorch's nn.GRU is the
//     reset-after form): bias[r,z] = b_ih[r,z] + b_hh[r,z], bias[n] = b_ih[n], bias_hn = b_hh[n].
//     A module saved with bias=False (no bias tensors) imports with zero biases.
//   Export (to_pytorch_rnn): bias_ih = bias, bias_hh = 0, except GRU bias_hh[n] = bias_hn. A GRU
//     without bias_hn (Cho form) has no PyTorch equivalent and is refused.
// Names outside <prefix> pass through unchanged, so a whole model converts with one call per
// recurrent module; a name under <prefix> that is not a recurrent parameter throws, naming it.
// Shapes are validated (consistent G·H, H, and layer k>0 input = H × directions).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "autograd/tensor.h"
#include "nn/module.h"

namespace seqgrad::nn {

struct Safetensors {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;  // the "__metadata__" object (string values only)
};

// Writes atomically (temp file + fsync + rename). Throws naming the path or the tensor.
void write_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});
std::map<std::string, Tensor> read_safetensors(const std::string& path);
Safetensors read_safetensors_file(const std::string& path);  // tensors and metadata

// The same format in memory (`what` names the source in error messages).
std::string encode_safetensors(const std::map<std::string, Tensor>& tensors,
                               const std::map<std::string, std::string>& metadata = {});
Safetensors decode_safetensors(std::string_view bytes, const std::string& what = "<memory>");

// PyTorch recurrent modules: nn.RNN, nn.LSTM, nn.GRU.
enum class TorchRnn { rnn, lstm, gru };

// Our names -> PyTorch state_dict names (new tensors; inputs are not modified).
std::map<std::string, Tensor> to_pytorch_rnn(const std::map<std::string, Tensor>& named, TorchRnn kind,
                                             const std::string& prefix = "");
// Our gradients (e.g. module_grads) -> the gradients PyTorch reports under its names, to compare
// with a PyTorch run: both of PyTorch's biases get our bias's gradient (GRU: b_hh's n part gets
// bias_hn's). Checks like to_pytorch_rnn.
std::map<std::string, Tensor> to_pytorch_rnn_grads(const std::map<std::string, Tensor>& grads, TorchRnn kind,
                                                   const std::string& prefix = "");
// PyTorch state_dict names -> our names. With `dtype`, the tensors under prefix come out in that
// dtype (cast first, so an f32 file imported as f64 sums its biases exactly); the two biases are
// summed in double in any case and rounded once.
std::map<std::string, Tensor> from_pytorch_rnn(const std::map<std::string, Tensor>& state_dict, TorchRnn kind,
                                               const std::string& prefix = "",
                                               std::optional<DType> dtype = std::nullopt);

// A module's parameter values by name (sharing storage), its gradients by name (zeros where there is
// none yet), and the all-or-nothing reverse: every name present with the parameter's shape, nothing
// extra, and, like PyTorch's load_state_dict, values of another dtype cast to the parameter's.
// (A module's own file: save_module / load_module in checkpoint.h, *.safetensors included.)
// Errors name load_module_tensors and the tensor (an unexpected 'bias_hn' says to build the Gru in
// its reset-after form).
std::map<std::string, Tensor> module_tensors(Module& module);
std::map<std::string, Tensor> module_grads(Module& module);
void load_module_tensors(Module& module, const std::map<std::string, Tensor>& tensors);

}  // namespace seqgrad::nn
