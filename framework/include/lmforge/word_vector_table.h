#pragma once
// The body every word2vec-style backbone shares: one input embedding table [V,dim], initialised
// uniform in +-1/dim as gensim and fastText do. A backbone of that family derives from it and says
// only how a window becomes what its head scores (forward for autograd, train_sentence for the
// word2vec task's fused loop; see lmforge/word2vec.h).
//
// With `subwords: true` the table also holds fastText's hashed character n-gram rows
// (lmforge/subwords.h): a word's vector is the mean of its own row and its n-gram rows, and a word
// outside the vocabulary gets the mean of its n-gram rows. The mean rather than the sum, as in
// fastText: a ten-letter word has some 30 n-grams of 3..6 characters and a three-letter word 8, so
// a sum would make long words' vectors (and their scores against the head) several times larger
// at the same training, and the learning rates tuned for word2vec and fastText would not carry
// over.
//
// Example (recipe):
//   backbone: {type: skipgram, dim: 100, subwords: true, min_n: 3, max_n: 6, buckets: 2000000}
#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lmforge/backbone.h"
#include "lmforge/export.h"
#include "lmforge/options.h"
#include "lmforge/subwords.h"
#include "lmforge/vocabulary.h"
#include "lmforge/word2vec.h"

namespace lmforge {

struct WordVectorTableOptions {
  /// Width of the word vectors.
  std::int64_t dim = 100;
  /// fastText's subword vectors (off by default).
  bool subwords = false;
  /// Shortest character n-gram, in code points, with subwords.
  std::int64_t min_n = 3;
  /// Longest character n-gram, in code points, with subwords.
  std::int64_t max_n = 6;
  /// Rows of the hashed n-gram table, with subwords (fastText's default).
  std::int64_t buckets = 2000000;

  void visit(OptionVisitor& v) {
    v.field("dim", dim, "width of the word vectors").positive();
    v.field("subwords", subwords,
            "fastText's subword vectors: a word's vector is the mean of its own row and the rows "
            "of its hashed character n-grams, so words never seen in training get vectors too");
    v.field("min_n", min_n,
            "with subwords: shortest character n-gram of '<word>', in code points (fastText: 3)")
        .range(1, subwords::kLongestNgram);
    // Read after min_n, so the bound is the recipe's min_n.
    v.field("max_n", max_n,
            "with subwords: longest character n-gram, in code points; at least min_n "
            "(fastText: 6)")
        .range(static_cast<double>(min_n), subwords::kLongestNgram);
    v.field("buckets", buckets,
            "with subwords: rows of the n-gram table that n-grams are hashed into (FNV-1a); "
            "dim * buckets * 4 bytes of memory")
        .positive();
  }
};

/// Checkpoint keys: "embedding" [V,dim]; with subwords also "ngrams" [buckets,dim].
class LMFORGE_API WordVectorTable : public Backbone, public Word2VecBackbone {
 public:
  /// `name` is the backbone's registered name, for the error message of an empty vocabulary.
  WordVectorTable(const WordVectorTableOptions& options, const BackboneContext& context,
                  const std::string& name);
  ~WordVectorTable() override;  // out of line: the typeinfo lives once, in liblmforge

  std::int64_t output_size() const override { return dim_; }
  /// The words' own rows (what the fused loop trains and pre-trained vectors fill); with
  /// subwords, `word_vectors` gives the vectors users see.
  torch::Tensor input_embedding() override { return embedding_; }
  std::vector<std::vector<torch::Tensor>> layer_groups() override;
  bool causal() const override { return false; }
  bool carries_state() const override { return false; }

  /// With subwords, finds each vocabulary word's n-gram rows (specials have none). Cheap to call
  /// again for the same vocabulary.
  void prepare(const Vocabulary& vocabulary) override;

  bool has_subwords() const { return ngrams_.defined(); }
  const WordVectorTableOptions& options() const { return options_; }
  /// The vector of every vocabulary word [V,dim] (differentiable): with subwords the mean of its
  /// own row and its n-gram rows (needs `prepare`), else its row.
  torch::Tensor word_table();
  /// The vector of any word [dim] (no gradient): a vocabulary word's as in `word_table`, another
  /// the mean of its n-gram rows. Undefined without subwords for a word outside the vocabulary,
  /// or when the word is too short to have an n-gram of min_n characters.
  torch::Tensor word_vector(const Vocabulary& vocabulary, std::string_view word);

 protected:
  /// True in a backbone whose `train_sentence` trains the n-gram rows (through `subword_rows`);
  /// `prepare` refuses `subwords: true` for one that would leave them at their random start.
  virtual bool trains_subwords() const { return false; }
  /// For the fused passes: where each word's n-gram rows are (after `prepare`).
  Word2VecSubwords subword_rows() const;

  WordVectorTableOptions options_;
  std::string name_;
  std::int64_t dim_;
  torch::Tensor embedding_;
  torch::Tensor ngrams_;  // [buckets, dim], undefined without subwords
  // Word w's n-gram rows are ngram_rows_[ngram_offsets_[w] .. ngram_offsets_[w + 1]).
  std::vector<std::int64_t> ngram_offsets_;
  std::vector<std::int32_t> ngram_rows_;
};

/// The vectors a user of the trained stage sees for its vocabulary [V,dim] (detached, float, on
/// the CPU): a subword table's composed vectors, else the backbone's input embedding (undefined
/// when it has none).
LMFORGE_API torch::Tensor vocabulary_vectors(Backbone& backbone, const Vocabulary& vocabulary);

}  // namespace lmforge
