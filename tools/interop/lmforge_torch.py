#!/usr/bin/env python3
"""Rebuild an `lmforge export` in plain PyTorch and check it against lmforge's own logits.

    python3 tools/interop/lmforge_torch.py check EXPORT_DIR   # compares with check.safetensors
    python3 tools/interop/lmforge_torch.py logits EXPORT_DIR "the movie was"

EXPORT_DIR holds what `lmforge export RUN --output EXPORT_DIR/model.safetensors [--check-tokens N]`
wrote: the weights, config.json (components with their resolved options, each tensor's role) and
vocab.txt. Needs only `torch` (any 1.13+ or 2.x); `safetensors` is used when installed, otherwise
the file is read by hand (the format is an 8-byte header length, a JSON header, raw bytes).

Mirrored: backbones lstm and transformer (causal or bidirectional, pre/post norm, learned,
sinusoidal or rotary positions, GELU or SwiGLU, QK-norm), heads lm (tied or not) and classifier
(pooling last/first/mean/max/concat).
Inputs are whole sequences without padding, within the transformer's max_positions.
"""
import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16,
          "BF16": torch.bfloat16, "I64": torch.int64, "I32": torch.int32, "I16": torch.int16,
          "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}


def read_safetensors(path):
    """name -> tensor, without the safetensors package."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    start = 8 + length
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        raw = bytearray(data[start + begin:start + end])
        dtype = DTYPES[entry["dtype"]]
        flat = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(entry["shape"]).clone()
    return tensors


def load_tensors(path):
    try:
        from safetensors.torch import load_file
        return load_file(path)
    except ImportError:
        return read_safetensors(path)


def part(tensors, prefix):
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


class Lstm(nn.Module):
    """lmforge's lstm backbone: an embedding, then one single-layer nn.LSTM per layer."""

    def __init__(self, options, weights):
        super().__init__()
        table = weights["embedding.weight"]
        self.embedding = nn.Embedding(*table.shape)
        layers = []
        for i in range(options["layers"]):
            w_ih = weights["lstm%d.weight_ih_l0" % i]
            layers.append(nn.LSTM(w_ih.shape[1], w_ih.shape[0] // 4, batch_first=True))
        self.lstms = nn.ModuleList(layers)
        own = {"embedding.weight": table}
        for i in range(options["layers"]):
            for k, v in part(weights, "lstm%d." % i).items():
                own["lstms.%d.%s" % (i, k)] = v
        self.load_state_dict(own)

    def input_embedding(self):
        return self.embedding.weight

    def forward(self, ids):
        x = self.embedding(ids)
        for lstm in self.lstms:
            x, _ = lstm(x)
        return x


class Norm(nn.Module):
    def __init__(self, weights, prefix, width):
        super().__init__()
        self.weight = nn.Parameter(weights[prefix + "weight"])
        bias = weights.get(prefix + "bias")
        self.bias = nn.Parameter(bias) if bias is not None else None
        self.width = width

    def forward(self, x):
        return F.layer_norm(x, (self.width,), self.weight, self.bias, 1e-5)


def linear(weights, prefix):
    return weights[prefix + "weight"], weights.get(prefix + "bias")


def rotate(x):
    """Rotary positions (RoFormer) in the half-split layout: feature j pairs with j + d/2 and
    turns by position * 10000^(-2j/d)."""
    t, d = x.shape[-2], x.shape[-1]
    freq = torch.exp(torch.arange(d // 2, dtype=torch.float64) * (-2.0 * math.log(10000.0) / d))
    angles = torch.arange(t, dtype=torch.float64)[:, None] * freq[None, :]
    angles = torch.cat([angles, angles], 1)
    first, second = x.chunk(2, -1)
    turned = torch.cat([-second, first], -1)
    return x * angles.cos().float() + turned * angles.sin().float()


class Transformer(nn.Module):
    """lmforge's transformer backbone (GPT-2 shape); qkv rows are queries, keys, values, each
    head-major; GELU is the exact (erf) form; LayerNorm eps 1e-5."""

    def __init__(self, options, weights):
        super().__init__()
        self.o = options
        self.w = {k: v for k, v in weights.items()}
        self.width = options["width"]
        self.heads = options["heads"]

    def input_embedding(self):
        return self.w["token_embedding.weight"]

    def positions(self, length):
        if self.o["positions"] == "rotary":
            return 0.0  # applied to queries and keys inside attention instead
        if self.o["positions"] == "learned":
            return self.w["position_embedding.weight"][:length]
        half = (self.width + 1) // 2
        freq = torch.exp(torch.arange(half, dtype=torch.float64) *
                         (-2.0 * math.log(10000.0) / self.width))
        angles = torch.arange(length, dtype=torch.float64)[:, None] * freq[None, :]
        return torch.stack([angles.sin(), angles.cos()], 2).reshape(length, 2 * half)[
            :, :self.width].float()

    def attend(self, x, i, causal):
        b, t, w = x.shape
        h, d = self.heads, w // self.heads
        qkv = F.linear(x, *linear(self.w, "blocks.%d.qkv." % i))
        q, k, v = qkv.view(b, t, 3, h, d).permute(2, 0, 3, 1, 4)
        if self.o.get("qk_norm"):
            q = Norm(self.w, "blocks.%d.q_norm." % i, d)(q)
            k = Norm(self.w, "blocks.%d.k_norm." % i, d)(k)
        if self.o["positions"] == "rotary":
            q, k = rotate(q), rotate(k)
        scores = q @ k.transpose(-1, -2) / math.sqrt(d)
        if causal:
            scores = scores.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float("-inf"))
        y = scores.softmax(-1) @ v
        y = y.permute(0, 2, 1, 3).reshape(b, t, w)
        return F.linear(y, *linear(self.w, "blocks.%d.proj." % i))

    def feed_forward(self, x, i):
        if self.o.get("activation") == "swiglu":  # ff_in holds the gate's rows, then the value's
            gate, value = F.linear(x, *linear(self.w, "blocks.%d.ff_in." % i)).chunk(2, -1)
            return F.linear(F.silu(gate) * value, *linear(self.w, "blocks.%d.ff_out." % i))
        approximate = "tanh" if self.o.get("activation") == "gelu_tanh" else "none"
        inner = F.gelu(F.linear(x, *linear(self.w, "blocks.%d.ff_in." % i)), approximate=approximate)
        return F.linear(inner, *linear(self.w, "blocks.%d.ff_out." % i))

    def forward(self, ids):
        if ids.shape[1] > self.o["max_positions"]:
            raise SystemExit("sequence longer than max_positions %d" % self.o["max_positions"])
        x = F.embedding(ids, self.w["token_embedding.weight"]) + self.positions(ids.shape[1])
        causal = self.o["mode"] == "causal"
        for i in range(self.o["layers"]):
            n1 = Norm(self.w, "blocks.%d.attention_norm." % i, self.width)
            n2 = Norm(self.w, "blocks.%d.ff_norm." % i, self.width)
            if self.o["norm"] == "pre":
                x = x + self.attend(n1(x), i, causal)
                x = x + self.feed_forward(n2(x), i)
            else:
                x = n1(x + self.attend(x, i, causal))
                x = n2(x + self.feed_forward(x, i))
        if self.o["norm"] == "pre":
            x = Norm(self.w, "final_norm.", self.width)(x)
        return x


class LmHead(nn.Module):
    def __init__(self, options, weights, backbone):
        super().__init__()
        self.weight = backbone.input_embedding() if options["tie_weights"] else weights["weight"]
        self.bias = weights.get("bias")

    def forward(self, features):
        return F.linear(features, self.weight, self.bias)


class ClassifierHead(nn.Module):
    def __init__(self, options, weights, backbone):
        super().__init__()
        self.pooling = options["pooling"]
        self.hidden = linear(weights, "hidden.") if "hidden.weight" in weights else None
        self.output = linear(weights, "output.")

    def pool(self, x, how):
        if how == "concat":
            return torch.cat([self.pool(x, "last"), self.pool(x, "max"), self.pool(x, "mean")], 1)
        return {"last": lambda: x[:, -1], "first": lambda: x[:, 0], "mean": lambda: x.mean(1),
                "max": lambda: x.amax(1)}[how]()

    def forward(self, features):
        x = self.pool(features, self.pooling)
        if self.hidden is not None:
            x = F.relu(F.linear(x, *self.hidden))
        return F.linear(x, *self.output)


BACKBONES = {"lstm": Lstm, "transformer": Transformer}
HEADS = {"lm": LmHead, "classifier": ClassifierHead}


class Model(nn.Module):
    def __init__(self, export_dir):
        super().__init__()
        with open(os.path.join(export_dir, "config.json"), encoding="utf-8") as f:
            self.config = json.load(f)
        weights = load_tensors(os.path.join(export_dir, self.config["weights"]))
        b, h = self.config["backbone"], self.config["head"]
        if b["type"] not in BACKBONES or h["type"] not in HEADS:
            raise SystemExit("not mirrored here: backbone %s, head %s (mirrored: %s; %s)" % (
                b["type"], h["type"], ", ".join(BACKBONES), ", ".join(HEADS)))
        self.backbone = BACKBONES[b["type"]](b, part(weights, "backbone."))
        self.head = HEADS[h["type"]](h, part(weights, "head."), self.backbone)
        self.vocabulary = self.read_vocabulary(os.path.join(export_dir, "vocab.txt"))

    @staticmethod
    def read_vocabulary(path):
        if not os.path.exists(path):
            return {}
        with open(path, encoding="utf-8") as f:
            return {line.split("\t")[0]: i for i, line in enumerate(f.read().splitlines())}

    def forward(self, ids):
        return self.head(self.backbone(ids))


def main(argv):
    if len(argv) < 3 or argv[1] not in ("check", "logits"):
        print(__doc__)
        return 2
    torch.set_grad_enabled(False)
    model = Model(argv[2]).eval()
    if argv[1] == "logits":
        words = argv[3].lower().split() if len(argv) > 3 else []
        ids = torch.tensor([[model.vocabulary.get(w, 1) for w in words]])
        print(model(ids)[0, -1].topk(5))
        return 0
    check = load_tensors(os.path.join(argv[2], "check.safetensors"))
    ours = model(check["input_ids"])
    theirs = check["logits"]
    if ours.shape != theirs.shape:
        print("FAIL: logits shape %s, lmforge's %s" % (tuple(ours.shape), tuple(theirs.shape)))
        return 1
    diff = (ours - theirs).abs().max().item()
    ok = diff <= 1e-5
    print("%s: %s/%s logits %s, max |difference| %.3g (torch %s)" % (
        "PASS" if ok else "FAIL", model.config["backbone"]["type"], model.config["head"]["type"],
        tuple(ours.shape), diff, torch.__version__))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
