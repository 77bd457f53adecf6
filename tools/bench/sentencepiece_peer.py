"""Python's sentencepiece on the same text and settings as lmforge's sentencepiece tokenizer, for
tools/bench/compare_sentencepiece.sh. Prints one line: `seconds=S` plus what was done.

  sentencepiece_peer.py train TEXT MODEL_PREFIX VOCAB_SIZE THREADS
  sentencepiece_peer.py encode TEXT MODEL
"""
import sys
import time

import sentencepiece as spm


def train(text, prefix, vocab_size, threads):
    start = time.perf_counter()
    # lmforge's settings: its four specials at ids 0..3, every line (no sampling), defaults
    # otherwise (unigram, character_coverage 0.9995, no byte fallback).
    spm.SentencePieceTrainer.train(
        input=text, model_prefix=prefix, model_type="unigram", vocab_size=int(vocab_size),
        character_coverage=0.9995, byte_fallback=False, num_threads=int(threads),
        input_sentence_size=0, pad_id=0, unk_id=1, bos_id=2, eos_id=3, pad_piece="<pad>",
        unk_piece="<unk>", bos_piece="<bos>", eos_piece="<eos>", minloglevel=2)
    print(f"seconds={time.perf_counter() - start:.3f} trained {prefix}.model")


def encode(text, model):
    sp = spm.SentencePieceProcessor(model_file=model)
    start = time.perf_counter()
    tokens = 0
    # One line at a time, as a language-modelling task reads a corpus (and as lmforge does).
    with open(text, encoding="utf-8") as f:
        for line in f:
            tokens += len(sp.encode(line.rstrip("\n")))
    print(f"seconds={time.perf_counter() - start:.3f} tokens={tokens}")


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "train":
        train(*sys.argv[2:6])
    elif mode == "encode":
        encode(*sys.argv[2:4])
    else:
        sys.exit(f"unknown mode {mode!r}: train or encode")
