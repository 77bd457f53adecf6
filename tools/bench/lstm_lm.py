#!/usr/bin/python3
"""The benchmark's Python side: the same LSTM language model as recipes/bench/lstm_lm_bench.yaml
in PyTorch (python3-torch, the same LibTorch 1.13), trained for the same number of steps.
Prints one JSON line: tokens/s over the training steps and peak resident memory.

    /usr/bin/python3 tools/bench/lstm_lm.py --data ../shared/data/wikitext-2/train.txt --steps 300
"""
import argparse
import json
import resource
import time

import torch
import torch.nn as nn


class LstmLm(nn.Module):
    def __init__(self, vocab, dim, layers, dropout):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, dim, layers, dropout=dropout, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(dim, vocab)
        self.out.weight = self.embedding.weight  # tied, as in lmforge's lm head

    def forward(self, tokens, state):
        x = self.drop(self.embedding(tokens))
        y, state = self.lstm(x, state)
        return self.out(self.drop(y)), state


def load_stream(path):
    vocab = {"<pad>": 0, "<unk>": 1, "<bos>": 2, "<eos>": 3}
    ids = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            for word in line.split():
                ids.append(vocab.setdefault(word, len(vocab)))
            ids.append(3)
    return torch.tensor(ids, dtype=torch.long), len(vocab)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.manual_seed(1)
    torch.set_num_threads(a.threads)
    stream, vocab = load_stream(a.data)
    batch, bptt = 20, 35
    cols = stream.numel() // batch
    data = stream[: cols * batch].view(batch, cols)
    model = LstmLm(vocab, 200, 2, 0.2)
    opt = torch.optim.SGD(model.parameters(), lr=20)
    loss_fn = nn.CrossEntropyLoss()
    state = None
    tokens = 0
    seconds = 0.0
    for step in range(a.steps):
        start = time.perf_counter()
        i = step * bptt
        x, y = data[:, i : i + bptt], data[:, i + 1 : i + 1 + bptt]
        if state is not None:
            state = tuple(s.detach() for s in state)
        opt.zero_grad()
        logits, state = model(x, state)
        loss = loss_fn(logits.reshape(-1, vocab), y.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        opt.step()
        loss.item()
        seconds += time.perf_counter() - start
        tokens += x.numel()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"tokens_per_sec": tokens / seconds, "peak_rss_mib": peak, "loss": loss.item()}))


if __name__ == "__main__":
    main()
