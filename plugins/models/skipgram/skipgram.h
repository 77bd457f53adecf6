#pragma once
// word2vec's skip-gram (Mikolov et al. 2013): each word's input vector predicts the words around
// it. Trained as word2vec.c and gensim do, each context word's vector predicts the centre word,
// which visits the same pairs and updates one input row per pair. The only parameter is the
// input embedding, which is what `lmforge embed` exports.
//
// Example (recipe):
//   backbone: {type: skipgram, dim: 100}
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
};

}  // namespace lmforge
