#!/usr/bin/python3
"""The MLM benchmark's Python side: the encoder and head of recipes/bench/mlm_bench.yaml in
PyTorch (the same LibTorch), trained the way lmforge's mlm task trains: WikiText-2 as one stream
(<eos> after each line) cut into 64-token segments (<bos> first), batches of 20, 15% of the
maskable tokens chosen per batch (80% <mask>, 10% random, 10% kept), the head's dense + GELU +
LayerNorm and tied projection applied to the chosen positions only, AdamW, gradient clipping.
Prints one JSON line: tokens/s over the training steps and peak resident memory.

    .venv/bin/python tools/bench/mlm_encoder.py --data ../shared/data/wikitext-2/train.txt --steps 200
"""
import argparse
import json
import math
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

PAD, UNK, BOS, EOS = 0, 1, 2, 3


class Block(nn.Module):
    def __init__(self, width, heads, dropout):
        super().__init__()
        self.heads = heads
        self.attention_norm = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.ff_norm = nn.LayerNorm(width)
        self.ff_in = nn.Linear(width, 4 * width)
        self.ff_out = nn.Linear(4 * width, width)
        self.drop = nn.Dropout(dropout)
        self.dropout = dropout

    def attend(self, x):
        B, T, C = x.size()
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))
        # Full segments: no padding, so no mask (bidirectional attention).
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0)
        return self.proj(y.transpose(1, 2).contiguous().view(B, T, C))

    def forward(self, x):
        x = x + self.drop(self.attend(self.attention_norm(x)))
        return x + self.drop(self.ff_out(F.gelu(self.ff_in(self.ff_norm(x)))))


class Bert(nn.Module):
    def __init__(self, vocab, block_size, layers, heads, width, dropout):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, width)
        self.position_embedding = nn.Embedding(block_size, width)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([Block(width, heads, dropout) for _ in range(layers)])
        self.final_norm = nn.LayerNorm(width)
        # GPT-2's initialisation, as lmforge's transformer backbone; the head keeps PyTorch's.
        self.apply(self._init)
        for name, p in self.named_parameters():
            if name.endswith("proj.weight") or name.endswith("ff_out.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * layers))
        # BERT's head: dense + GELU + LayerNorm, projection tied to the embedding, own bias.
        self.dense = nn.Linear(width, width)
        self.head_norm = nn.LayerNorm(width)
        self.bias = nn.Parameter(torch.zeros(vocab))

    @staticmethod
    def _init(module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, tokens, targets):
        T = tokens.size(1)
        x = self.drop(self.token_embedding(tokens) + self.position_embedding(torch.arange(T)))
        for block in self.blocks:
            x = block(x)
        x = self.final_norm(x)
        chosen = targets != -100
        h = self.head_norm(F.gelu(self.dense(x[chosen])))
        logits = F.linear(h, self.token_embedding.weight, self.bias)
        return F.cross_entropy(logits, targets[chosen])


def load_segments(path, length):
    # Words split at whitespace; lmforge's word tokenizer also splits off punctuation, so the two
    # vocabularies differ by a few hundred entries (both print their size).
    vocab = {"<pad>": PAD, "<unk>": UNK, "<bos>": BOS, "<eos>": EOS}
    ids = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            words = line.split()
            if not words:
                continue
            ids.extend(vocab.setdefault(w, len(vocab)) for w in words)
            ids.append(EOS)
    mask_id = vocab.setdefault("<mask>", len(vocab))
    room = length - 1
    n = len(ids) // room
    body = torch.tensor(ids[: n * room], dtype=torch.long).view(n, room)
    return torch.cat([torch.full((n, 1), BOS), body], 1), len(vocab), mask_id


def corrupt(tokens, vocab, mask_id, rate=0.15):
    maskable = (tokens > EOS) & (tokens != mask_id)
    chosen = (torch.rand(tokens.shape) < rate) & maskable
    targets = torch.where(chosen, tokens, torch.full_like(tokens, -100))
    u = torch.rand(tokens.shape)
    inputs = tokens.clone()
    inputs[chosen & (u < 0.8)] = mask_id
    random = chosen & (u >= 0.8) & (u < 0.9)
    inputs[random] = torch.randint(EOS + 1, mask_id, (int(random.sum()),))
    return inputs, targets


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=20)
    p.add_argument("--length", type=int, default=64)
    a = p.parse_args()
    torch.manual_seed(1)
    torch.set_num_threads(a.threads)
    segments, vocab, mask_id = load_segments(a.data, a.length)
    model = Bert(vocab, a.length, layers=4, heads=4, width=160, dropout=0.2)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    order = torch.randperm(segments.size(0))
    tokens = 0
    seconds = 0.0
    for step in range(a.steps):
        start = time.perf_counter()
        batch = segments[order[(step * a.batch) % segments.size(0):][: a.batch]]
        inputs, targets = corrupt(batch, vocab, mask_id)
        opt.zero_grad()
        loss = model(inputs, targets)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        loss.item()
        seconds += time.perf_counter() - start
        tokens += batch.numel()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"tokens_per_sec": tokens / seconds, "peak_rss_mib": peak,
                      "loss": loss.item(), "vocab": vocab}))


if __name__ == "__main__":
    main()
