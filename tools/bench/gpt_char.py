#!/usr/bin/python3
"""The benchmark's Python side: the same character-level "baby GPT" as
recipes/bench/gpt_char_bench.yaml (nanoGPT's CPU config: block 64, 4 layers, 4 heads, width 128,
batch 12, no dropout, tied output without bias) in PyTorch (python3-torch, the same LibTorch 1.13),
written as nanoGPT writes it and trained the way lmforge's language-modelling task trains: 12
contiguous streams read 64 tokens at a time, AdamW, gradient clipping. Prints one JSON line:
tokens/s over the training steps and peak resident memory.

    /usr/bin/python3 tools/bench/gpt_char.py --data ../shared/data/tinyshakespeare/input.txt --steps 200
"""
import argparse
import json
import math
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, width, heads, block_size, dropout):
        super().__init__()
        self.heads = heads
        self.attention_norm = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.ff_norm = nn.LayerNorm(width)
        self.ff_in = nn.Linear(width, 4 * width)
        self.ff_out = nn.Linear(4 * width, width)
        self.drop = nn.Dropout(dropout)
        self.register_buffer("mask", torch.tril(torch.ones(block_size, block_size)).view(1, 1, block_size, block_size))

    def attend(self, x):
        B, T, C = x.size()
        q, k, v = self.qkv(x).split(C, dim=2)
        q = q.view(B, T, self.heads, C // self.heads).transpose(1, 2)
        k = k.view(B, T, self.heads, C // self.heads).transpose(1, 2)
        v = v.view(B, T, self.heads, C // self.heads).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf"))
        att = self.drop(F.softmax(att, dim=-1))
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.proj(y)

    def forward(self, x):
        x = x + self.drop(self.attend(self.attention_norm(x)))
        return x + self.drop(self.ff_out(F.gelu(self.ff_in(self.ff_norm(x)))))


class Gpt(nn.Module):
    def __init__(self, vocab, block_size, layers, heads, width, dropout):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, width)
        self.position_embedding = nn.Embedding(block_size, width)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([Block(width, heads, block_size, dropout) for _ in range(layers)])
        self.final_norm = nn.LayerNorm(width)
        self.apply(self._init)
        for name, p in self.named_parameters():
            if name.endswith("proj.weight") or name.endswith("ff_out.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * layers))

    @staticmethod
    def _init(module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, tokens):
        T = tokens.size(1)
        positions = torch.arange(T, dtype=torch.long)
        x = self.drop(self.token_embedding(tokens) + self.position_embedding(positions))
        for block in self.blocks:
            x = block(x)
        # Tied output weights, no bias: nanoGPT's lm_head, lmforge's `lm` head with bias: false.
        return F.linear(self.final_norm(x), self.token_embedding.weight)


def load_stream(path):
    # One id per character; each line ends in an end-of-line id, as lmforge's char tokenizer and
    # language-modelling task encode it.
    vocab = {"<pad>": 0, "<unk>": 1, "<bos>": 2, "<eos>": 3}
    ids = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            for ch in line.rstrip("\n"):
                ids.append(vocab.setdefault(ch, len(vocab)))
            ids.append(3)
    return torch.tensor(ids, dtype=torch.long), len(vocab)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=12)
    p.add_argument("--block", type=int, default=64)
    a = p.parse_args()
    torch.manual_seed(1)
    torch.set_num_threads(a.threads)
    stream, vocab = load_stream(a.data)
    cols = stream.numel() // a.batch
    data = stream[: cols * a.batch].view(a.batch, cols)
    model = Gpt(vocab, a.block, layers=4, heads=4, width=128, dropout=0.0)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)
    tokens = 0
    seconds = 0.0
    steps_per_epoch = (cols - 1) // a.block
    for step in range(a.steps):
        start = time.perf_counter()
        i = (step % steps_per_epoch) * a.block
        x, y = data[:, i : i + a.block], data[:, i + 1 : i + 1 + a.block]
        opt.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        loss.item()
        seconds += time.perf_counter() - start
        tokens += x.numel()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"tokens_per_sec": tokens / seconds, "peak_rss_mib": peak, "loss": loss.item()}))


if __name__ == "__main__":
    main()
