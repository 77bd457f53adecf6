"""gensim's side of tools/bench/compare_word2vec.sh, and one analogy evaluation for every tool.

  word2vec_peers.py gensim --corpus F --mode cbow|skipgram --threads 2 --output F.vec
  word2vec_peers.py evaluate --vectors F.vec --analogies questions-words.txt

Both print one JSON line.
"""
import argparse
import json
import logging
import time


def train_gensim(args):
    from gensim.models import Word2Vec

    started = time.perf_counter()
    # gensim's defaults spelled out: the settings lmforge's bench recipe and fastText get.
    model = Word2Vec(vector_size=100, window=5, negative=5, hs=0, sample=1e-3, min_count=5,
                     alpha=0.025, min_alpha=1e-4, cbow_mean=1, workers=args.threads,
                     sg=1 if args.mode == "skipgram" else 0, epochs=1, seed=args.seed)
    model.build_vocab(corpus_file=args.corpus)
    vocab_done = time.perf_counter()
    model.train(corpus_file=args.corpus, total_words=model.corpus_total_words,
                total_examples=model.corpus_count, epochs=1)
    trained = time.perf_counter()
    model.wv.save_word2vec_format(args.output)
    words = model.corpus_total_words
    print(json.dumps({"words": words, "train_seconds": trained - vocab_done,
                      "words_per_sec": words / (trained - vocab_done),
                      "total_seconds": time.perf_counter() - started}))


def evaluate(args):
    from gensim.models import KeyedVectors

    vectors = KeyedVectors.load_word2vec_format(args.vectors)
    score, _ = vectors.evaluate_word_analogies(args.analogies, restrict_vocab=args.restrict_vocab,
                                               case_insensitive=True)
    print(json.dumps({"analogy_accuracy": score, "words": len(vectors)}))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    gensim = commands.add_parser("gensim")
    gensim.add_argument("--corpus", required=True)
    gensim.add_argument("--mode", choices=["cbow", "skipgram"], required=True)
    gensim.add_argument("--threads", type=int, default=2)
    gensim.add_argument("--output", required=True)
    gensim.add_argument("--seed", type=int, default=1)
    gensim.set_defaults(run=train_gensim)
    score = commands.add_parser("evaluate")
    score.add_argument("--vectors", required=True)
    score.add_argument("--analogies", required=True)
    score.add_argument("--restrict-vocab", type=int, default=30000)
    score.set_defaults(run=evaluate)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    args.run(args)


if __name__ == "__main__":
    main()
