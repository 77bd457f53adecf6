#!/usr/bin/python3
"""The BERT row of tools/bench/compare_hf.sh: transformers' BertForMaskedLM, randomly initialised
(no hub), in the shape of recipes/bench/mlm_bench.yaml (4 layers, 4 heads, width 160, FFN 640,
64 positions, dropout 0.2 on hidden states and attention, output tied to the embedding), trained
on what lmforge's mlm task trains on: WikiText-2 as one stream cut into 64-token segments (<bos>
first), batches of 20, 15% of the tokens chosen (80% <mask>, 10% random, 10% kept), AdamW
(lr 1e-3, weight decay 0.1), gradient clipping at 1. The segments and masking are
tools/bench/mlm_encoder.py's; --vocab sets the vocabulary to lmforge's size (words beyond it
become <unk>), so the embedding and output layer are as large on both sides.

BertForMaskedLM is used as shipped: its prediction head scores every position (labels -100 are
only left out of the loss), where lmforge's mlm head scores the chosen 15%. Token type
embeddings: one type (lmforge has none). Prints one JSON line: tokens/s over the steps after the
warm-up ones (every token of every segment counts), peak resident memory, the last loss.

    .venv/bin/python tools/bench/hf_bert.py --data ../shared/data/wikitext-2/train.txt --steps 200
"""
import argparse
import json
import os
import resource
import sys
import time

import torch
from transformers import BertConfig, BertForMaskedLM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mlm_encoder import UNK, corrupt, load_segments  # noqa: E402 (the same data on both peers)


def model_for(vocab, length):
    config = BertConfig(vocab_size=vocab, hidden_size=160, num_hidden_layers=4,
                        num_attention_heads=4, intermediate_size=640, hidden_act="gelu",
                        hidden_dropout_prob=0.2, attention_probs_dropout_prob=0.2,
                        max_position_embeddings=length, type_vocab_size=1,
                        tie_word_embeddings=True, pad_token_id=0)
    return BertForMaskedLM(config)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=20)
    p.add_argument("--length", type=int, default=64)
    p.add_argument("--vocab", type=int, default=0, help="vocabulary size (0 = the data's words)")
    a = p.parse_args()
    torch.manual_seed(1)
    torch.set_num_threads(a.threads)
    segments, vocab, mask_id = load_segments(a.data, a.length)
    if a.vocab > 0:
        # lmforge's word tokenizer splits punctuation off, so its vocabulary differs by a few
        # hundred words; the last id is <mask>, as in lmforge's extended vocabulary.
        vocab, mask_id = a.vocab, a.vocab - 1
        segments = torch.where(segments >= mask_id, torch.full_like(segments, UNK), segments)
    model = model_for(vocab, a.length)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    order = torch.randperm(segments.size(0))
    start, tokens = None, 0
    for step in range(a.warmup + a.steps):
        if step == a.warmup:
            start = time.perf_counter()
        batch = segments[order[(step * a.batch) % segments.size(0):][: a.batch]]
        inputs, targets = corrupt(batch, vocab, mask_id)
        opt.zero_grad(set_to_none=True)
        loss = model(input_ids=inputs, labels=targets).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step >= a.warmup:
            tokens += batch.numel()
    loss = loss.item()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"tokens_per_sec": tokens / seconds, "peak_rss_mib": peak, "loss": loss,
                      "vocab": vocab}))


if __name__ == "__main__":
    main()
