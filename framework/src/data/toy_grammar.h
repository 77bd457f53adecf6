#pragma once
// A small probabilistic grammar of movie-review sentences whose exact per-token entropy is known.
// Each sentence has a hidden sentiment (the label) that shifts its word choices, so the same data
// serves language modelling (true perplexity known) and classification (Bayes accuracy known).
// The quickstart uses it so lmforge runs offline with no data set downloaded.
#include <cstdint>
#include <string>

namespace lmforge {

struct ToyGrammarReport {
  double test_nats_per_token = 0;  ///< the true model's cross-entropy on test.txt (incl. <eos>)
  double bayes_accuracy = 0;       ///< best possible sentiment accuracy on labelled/test.tsv
  std::int64_t train_tokens = 0;
};

/// Writes train.txt/valid.txt/test.txt (unlabelled, one sentence per line),
/// labelled/{train,valid,test}.tsv (label<TAB>sentence) and reference.json into `directory`.
/// `labelled_fraction` of the training sentences keep their label.
ToyGrammarReport write_toy_grammar(const std::string& directory, std::int64_t sentences,
                                   std::uint64_t seed, double labelled_fraction);

}  // namespace lmforge
