#pragma once
// word2vec's continuous bag of words (Mikolov et al. 2013): the mean of the context words'
// input vectors predicts the centre word. The only parameter is the input embedding, which is
// what word2vec training produces and `lmforge embed` exports.
//
// With `subwords: true` (lmforge/word_vector_table.h) each word's vector is the mean of its own row
// and its hashed character n-gram rows, as in fastText, and the table holds those rows too.
//
// Example (recipe):
//   backbone: {type: cbow, dim: 100}                   # or: subwords: true, min_n: 3, max_n: 6
//   head: {type: negative_sampling, negative: 5}
//   task: {type: word2vec, train: ${data}/wikitext-2/train.txt, window: 5}
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "lmforge/word_vector_table.h"

namespace lmforge {

using CbowOptions = WordVectorTableOptions;

class CbowBackbone : public WordVectorTable {
 public:
  using Options = CbowOptions;

  CbowBackbone(const Options& options, const BackboneContext& context)
      : WordVectorTable(options, context, "cbow") {}

  /// tokens [B,C] context ids with mask [B,C] (undefined = all real) -> sequence [B,1,dim], the
  /// mean of the real context vectors (zero for a row without any).
  Features forward(const BackboneInput& input) override;
  void train_sentence(const Word2VecRows& rows, const Word2VecSentence& sentence, Word2VecRng& rng,
                      Word2VecLoss& loss) const override;

 protected:
  bool trains_subwords() const override { return true; }
};

}  // namespace lmforge
