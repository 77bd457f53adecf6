#!/usr/bin/env python3
"""The Hugging Face side of tests/interop/hf_gpt2_import.sh.

    make DIR      a byte-level BPE tokenizer trained on a few hundred lines (English and Korean)
                  and a randomly initialised GPT-2 (2 layers, 2 heads, width 32, 64 positions),
                  saved with save_pretrained into DIR (no hub is reached)
    ids DIR TEXT  the tokenizer's ids for TEXT, shifted by 4 as lmforge's vocabulary holds them
    check DIR CHECK_FILE   transformers' logits for the token ids of lmforge's check.safetensors
                  (ids - 4), compared with lmforge's logits over the same tokens (to 1e-4)
"""
import json
import os
import struct
import sys

import torch


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    types = {"F32": torch.float32, "I64": torch.int64}
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        raw = bytearray(data[8 + length + begin:8 + length + end])
        out[name] = torch.frombuffer(raw, dtype=types[entry["dtype"]]).reshape(entry["shape"])
    return out


LINES = ["First Citizen: Before we proceed any further, hear me speak.",
         "All: Speak, speak. You are all resolved rather to die than to famish?",
         "이 영화 정말 재미있다! 배우들의 연기가 좋았어요.",
         "It's 12,345 dollars -- don't you've we'll see naïve café 😀"]


def make(out_dir):
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2Config, GPT2LMHeadModel
    os.makedirs(out_dir, exist_ok=True)
    corpus = os.path.join(out_dir, "corpus.txt")
    with open(corpus, "w", encoding="utf-8") as f:
        for i in range(200):
            f.write(LINES[i % len(LINES)] + "\n")
    tokenizer = ByteLevelBPETokenizer()
    tokenizer.train([corpus], vocab_size=400, min_frequency=2, show_progress=False)
    tokenizer.save_model(out_dir)
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=tokenizer.get_vocab_size(), n_positions=64, n_embd=32,
                        n_layer=2, n_head=2, bos_token_id=None, eos_token_id=None)
    model = GPT2LMHeadModel(config)
    with torch.no_grad():  # make biases and norms non-trivial, so a mix-up shows
        for name, p in model.named_parameters():
            if "ln_" in name or name.endswith("bias"):
                p.add_(torch.randn_like(p) * 0.1)
    model.save_pretrained(out_dir, safe_serialization=True)
    print("made GPT-2 with", tokenizer.get_vocab_size(), "tokens in", out_dir)


def ids(model_dir, text):
    from transformers import GPT2TokenizerFast
    tokenizer = GPT2TokenizerFast.from_pretrained(model_dir)
    print(" ".join(str(i + 4) for i in tokenizer(text)["input_ids"]))


def check(model_dir, check_file):
    from transformers import GPT2LMHeadModel
    model = GPT2LMHeadModel.from_pretrained(model_dir).eval()
    lmforge = read_safetensors(check_file)
    with torch.no_grad():
        theirs = model(lmforge["input_ids"] - 4).logits
    ours = lmforge["logits"][..., 4:]
    diff = (ours - theirs).abs().max().item()
    ok = ours.shape == theirs.shape and diff <= 1e-4
    print("%s: logits %s, max |lmforge - transformers| %.3g" % (
        "PASS" if ok else "FAIL", tuple(theirs.shape), diff))
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "make":
        make(sys.argv[2])
    elif len(sys.argv) >= 4 and sys.argv[1] == "ids":
        ids(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 4 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3]))
    else:
        print(__doc__)
        sys.exit(2)
