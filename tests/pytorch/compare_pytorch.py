#!/usr/bin/python3
"""Reference data from PyTorch for seqgrad's recurrent modules (run by hand, never in CI).

Needs Debian's python3-torch (`apt-get install python3-torch`; run with /usr/bin/python3).
For each of nn.RNN (tanh), nn.LSTM and nn.GRU -- 2 layers, bidirectional, batch_first, float64 --
it writes <out>/<kind>.safetensors holding

    rnn.<PyTorch state_dict name>   the weights, e.g. rnn.weight_ih_l0, rnn.bias_hh_l1_reverse
    input.x                         (B, T, I)
    loss.w_output, loss.w_h_n[, loss.w_c_n]   fixed weights of the scalar loss below
    expected.output                 (B, T, 2H)
    expected.h_n[, expected.c_n]    (layers * 2, B, H), PyTorch's order l0, l0_reverse, l1, ...
    grad.x, grad.rnn.<name>         d loss / d input and d loss / d every weight

    loss = sum(output * w_output) + sum(h_n * w_h_n) [+ sum(c_n * w_c_n)]

and checks on the way that folding the two PyTorch biases into one (what seqgrad's
from_pytorch_rnn / to_pytorch_rnn do) leaves the outputs unchanged. The files are written by a
tiny safetensors writer of our own (no dependency besides torch and numpy), read back and compared.

Usage: /usr/bin/python3 tests/pytorch/compare_pytorch.py [--out DIR] [--seed N]
"""
import argparse
import json
import os
import struct
import sys

import torch

B, T, I, H, LAYERS = 2, 5, 3, 4, 2
KINDS = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


# ---- a tiny safetensors writer / reader -------------------------------------------------------

DTYPES = {torch.float32: "F32", torch.float64: "F64"}
TORCH_DTYPES = {v: k for k, v in DTYPES.items()}


def write_safetensors(path, tensors, metadata=None):
    """Same layout as seqgrad's writer: u64 LE header length, compact JSON padded with spaces to
    a multiple of 8, then the raw little-endian data (f64 tensors first, then by name)."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    order = sorted(tensors, key=lambda n: (-tensors[n].element_size(), n))
    blobs, offset = [], 0
    for name in order:
        t = tensors[name].detach().contiguous().cpu()
        data = t.numpy().astype(t.numpy().dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = path + ".tmp.%d" % os.getpid()
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    data = raw[8 + n :]
    out = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        dtype = TORCH_DTYPES[e["dtype"]]
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype) if end > begin else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(e["shape"])
    return out, meta


# ---- reference computations -------------------------------------------------------------------


def run(module, x, weights):
    """Forward + backward of the fixed scalar loss; returns outputs and gradients."""
    x = x.clone().requires_grad_(True)
    module.zero_grad()
    out, state = module(x)
    h_n, c_n = state if isinstance(state, tuple) else (state, None)
    loss = (out * weights["loss.w_output"]).sum() + (h_n * weights["loss.w_h_n"]).sum()
    if c_n is not None:
        loss = loss + (c_n * weights["loss.w_c_n"]).sum()
    loss.backward()
    grads = {"grad.x": x.grad.detach().clone()}
    for name, p in module.named_parameters():
        grads["grad.rnn." + name] = p.grad.detach().clone()
    return out.detach(), h_n.detach(), (c_n.detach() if c_n is not None else None), loss.item(), grads


def fold_biases(kind, state_dict):
    """What seqgrad stores after from_pytorch_rnn and writes back with to_pytorch_rnn:
    bias_ih = b_ih + b_hh (GRU: r, z parts only), bias_hh = 0 (GRU: n part = b_hn)."""
    folded = {k: v.clone() for k, v in state_dict.items()}
    for name, b_hh in state_dict.items():
        if not name.startswith("bias_hh_"):
            continue
        b_ih = state_dict["bias_ih_" + name[len("bias_hh_") :]]
        new_ih, new_hh = b_ih.clone(), torch.zeros_like(b_hh)
        if kind == "gru":
            new_ih[: 2 * H] += b_hh[: 2 * H]
            new_hh[2 * H :] = b_hh[2 * H :]
        else:
            new_ih += b_hh
        folded["bias_ih_" + name[len("bias_hh_") :]] = new_ih
        folded[name] = new_hh
    return folded


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="pytorch_reference", help="output directory")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)

    for kind, cls in KINDS.items():
        module = cls(I, H, num_layers=LAYERS, bidirectional=True, batch_first=True).double()
        # Make every bias distinct and non-zero so the folding is actually exercised.
        with torch.no_grad():
            for name, p in module.named_parameters():
                if name.startswith("bias"):
                    p.uniform_(-1.0, 1.0)
        x = torch.randn(B, T, I, dtype=torch.float64)
        weights = {
            "loss.w_output": torch.randn(B, T, 2 * H, dtype=torch.float64),
            "loss.w_h_n": torch.randn(2 * LAYERS, B, H, dtype=torch.float64),
        }
        if kind == "lstm":
            weights["loss.w_c_n"] = torch.randn(2 * LAYERS, B, H, dtype=torch.float64)

        out, h_n, c_n, loss, grads = run(module, x, weights)

        # Folding the biases must not change the forward (nor d/dx).
        folded = cls(I, H, num_layers=LAYERS, bidirectional=True, batch_first=True).double()
        folded.load_state_dict(fold_biases(kind, module.state_dict()))
        out2, h_n2, c_n2, loss2, grads2 = run(folded, x, weights)
        err = max((out - out2).abs().max().item(), (h_n - h_n2).abs().max().item(),
                  (grads["grad.x"] - grads2["grad.x"]).abs().max().item())
        if c_n is not None:
            err = max(err, (c_n - c_n2).abs().max().item())
        if err > 1e-12:
            sys.exit("%s: folding the biases changed the outputs by %g" % (kind, err))

        tensors = {"rnn." + k: v for k, v in module.state_dict().items()}
        tensors["input.x"] = x
        tensors.update(weights)
        tensors["expected.output"] = out
        tensors["expected.h_n"] = h_n
        if c_n is not None:
            tensors["expected.c_n"] = c_n
        tensors.update(grads)
        meta = {
            "torch_version": torch.__version__,
            "module": "nn.%s(%d, %d, num_layers=%d, bidirectional=True, batch_first=True)" % (
                cls.__name__, I, H, LAYERS),
            "gates": {"rnn": "tanh", "lstm": "i f g o", "gru": "r z n (reset-after)"}[kind],
            "loss": "sum(output*w_output) + sum(h_n*w_h_n)" + (" + sum(c_n*w_c_n)" if c_n is not None else ""),
            "loss_value": repr(loss),
            "h_n_order": "l0, l0_reverse, l1, l1_reverse",
            "seed": str(args.seed),
        }
        path = os.path.join(args.out, kind + ".safetensors")
        write_safetensors(path, tensors, meta)

        back, back_meta = read_safetensors(path)
        assert back_meta == meta and set(back) == set(tensors), "safetensors round trip: names differ"
        for name, t in tensors.items():
            assert torch.equal(back[name], t.detach()), "safetensors round trip: %s differs" % name
        print("%-5s %s: %d tensors, loss %.17g, bias folding max diff %.3g" % (kind, path, len(tensors), loss, err))


if __name__ == "__main__":
    main()
