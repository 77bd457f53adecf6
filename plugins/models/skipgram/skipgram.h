#pragma once
// word2vec's skip-gram (Mikolov et al. 2013): each word's input vector predicts the words around
// it. Trained as word2vec.c and gensim do, each context word's vector predicts the centre word,
// which visits the same pairs and updates one input row per pair. The only parameter is the
// input embedding, which is what `lmforge embed` exports.
//
// With `subwords: true` (lmforge/word_vector_table.h) each word's vector is the mean of its own row
// and its hashed character n-gram rows, as in fastText, and the table holds those rows too.
//
// Example (recipe):
//   backbone: {type: skipgram, dim: 100}                   # or: subwords: true, min_n: 3, max_n: 6
//   head: {type: negative_sampling, negative: 5}
//   task: {type: word2vec, train: ${data}/wikitext-2/train.txt, window: 5}
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "lmforge/word_vector_table.h"

namespace lmforge {

using SkipGramOptions = WordVectorTableOptions;

class SkipGramBackbone : public WordVectorTable {
 public:
  using Options = SkipGramOptions;

  SkipGramBackbone(const Options& options, const BackboneContext& context)
      : WordVectorTable(options, context, "skipgram") {}

  /// tokens [B,T] -> sequence [B,T,dim], each token's vector (the head predicts a word it occurs
  /// with).
  Features forward(const BackboneInput& input) override;
  void train_sentence(const Word2VecRows& rows, const Word2VecSentence& sentence, Word2VecRng& rng,
                      Word2VecLoss& loss) const override;

 protected:
  bool trains_subwords() const override { return true; }
};

}  // namespace lmforge
