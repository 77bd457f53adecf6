#!/usr/bin/python3
"""The Hugging Face side of tools/bench/compare_hf.sh: transformers' GPT2LMHeadModel, randomly
initialised (no hub), in the shape of recipes/bench/gpt_char_bench.yaml's baby GPT (4 layers,
4 heads, width 128, no dropout, tied output; the vocabulary of the data's characters).

    train:    12 windows of 64 characters at random offsets per step, AdamW (lr 1e-3, beta2
              0.99, weight decay 0.1), gradient clipping at 1: tokens/s over the steps after the
              warm-up ones, and peak resident memory.
    generate: greedy decoding with the key/value cache (model.generate, use_cache) of NEW tokens
              after a one-character prompt, BATCH sequences at once: new tokens/s.

Prints one JSON line.
    .venv/bin/python tools/bench/hf_gpt.py train --data input.txt --steps 200
    .venv/bin/python tools/bench/hf_gpt.py generate --data input.txt --batch 8 --new-tokens 256
"""
import argparse
import json
import resource
import time

import torch
import torch.nn.functional as F
from transformers import GPT2Config, GPT2LMHeadModel


def model_for(vocab, positions):
    config = GPT2Config(vocab_size=vocab, n_positions=positions, n_embd=128, n_layer=4, n_head=4,
                        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, tie_word_embeddings=True,
                        bos_token_id=None, eos_token_id=None)
    return GPT2LMHeadModel(config)


def train(a, ids, vocab):
    model = model_for(vocab, a.block)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99),
                                  weight_decay=0.1)
    start, tokens = None, 0
    for step in range(a.warmup + a.steps):
        if step == a.warmup:
            start = time.perf_counter()
        offsets = torch.randint(len(ids) - a.block - 1, (a.batch,))
        x = torch.stack([ids[o:o + a.block] for o in offsets])
        y = torch.stack([ids[o + 1:o + 1 + a.block] for o in offsets])
        logits = model(input_ids=x).logits
        loss = F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step >= a.warmup:
            tokens += x.numel()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"tokens_per_sec": tokens / seconds, "peak_rss_mib": peak, "loss": loss.item()}


def generate(a, ids, vocab):
    # Room for the prompt and every new token: no window to slide or re-encode.
    model = model_for(vocab, a.new_tokens + 1)
    model.eval()
    prompt = ids[:1].repeat(a.batch, 1)
    with torch.no_grad():
        model.generate(prompt, max_new_tokens=4, min_new_tokens=4, do_sample=False,
                       use_cache=True, pad_token_id=0)  # warm-up
        start = time.perf_counter()
        out = model.generate(prompt, max_new_tokens=a.new_tokens, min_new_tokens=a.new_tokens,
                             do_sample=False, use_cache=True, pad_token_id=0)
        seconds = time.perf_counter() - start
    new = (out.shape[1] - prompt.shape[1]) * a.batch
    return {"tokens_per_sec": new / seconds, "batch": a.batch, "new_tokens": new}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["train", "generate"])
    p.add_argument("--data", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--batch", type=int, default=12)
    p.add_argument("--block", type=int, default=64)
    p.add_argument("--new-tokens", type=int, default=256)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    text = open(a.data, encoding="utf-8").read()
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([index[c] for c in text], dtype=torch.long)
    run = train if a.mode == "train" else generate
    print(json.dumps(run(a, ids, len(chars))))


if __name__ == "__main__":
    main()
