#include "lmforge/word_vector_table.h"

#include <torch/torch.h>

#include <limits>

#include "lmforge/error.h"

namespace lmforge {

WordVectorTable::WordVectorTable(const WordVectorTableOptions& options,
                                 const BackboneContext& context, const std::string& name)
    : options_(options), name_(name), dim_(options.dim) {
  if (context.vocab_size <= 0 || options.dim <= 0) {
    throw ConfigError(
        "", "the " + name + " backbone needs a non-empty vocabulary and a positive dim, got " +
                std::to_string(context.vocab_size) + " and " + std::to_string(options.dim));
  }
  // gensim's and fastText's range; word2vec.c's half as wide trained 0.5 analogy points worse
  // after one epoch of Gutenberg. The output side starts at zero (see the heads).
  const double bound = 1.0 / static_cast<double>(options.dim);
  embedding_ = register_parameter(
      "embedding", torch::empty({context.vocab_size, options.dim}).uniform_(-bound, bound));
  if (!options.subwords) return;
  // The recipe reader checks the declared ranges with their place; a backbone built in C++ gets
  // the same checks here.
  check_options(options, name);
  if (options.buckets > std::numeric_limits<std::int32_t>::max()) {
    throw ConfigError(
        "", name + ": buckets must be below 2^31, got " + std::to_string(options.buckets));
  }
  // fastText draws the n-gram rows from the same range as the word rows.
  ngrams_ = register_parameter(
      "ngrams", torch::empty({options.buckets, options.dim}).uniform_(-bound, bound));
}

WordVectorTable::~WordVectorTable() = default;

std::vector<std::vector<torch::Tensor>> WordVectorTable::layer_groups() {
  if (has_subwords()) return {{embedding_, ngrams_}};
  return {{embedding_}};
}

void WordVectorTable::prepare(const Vocabulary& vocabulary) {
  if (!has_subwords()) return;
  if (!trains_subwords()) {
    throw ConfigError("", "the " + name_ +
                              " backbone does not train character n-gram rows; remove "
                              "subwords: true (cbow and skipgram have them)");
  }
  const std::int64_t words = vocabulary.size();
  if (words != embedding_.size(0)) {
    throw Error("word vectors", "prepare: a vocabulary of " + std::to_string(words) +
                                    " tokens for a table of " + std::to_string(embedding_.size(0)) +
                                    " rows");
  }
  if (static_cast<std::int64_t>(ngram_offsets_.size()) == words + 1) return;
  ngram_offsets_.assign(1, 0);
  ngram_rows_.clear();
  for (std::int64_t id = 0; id < words; ++id) {
    // The specials (<pad>, <unk>, ...) are never trained; their spelling means nothing.
    if (id > Vocabulary::kEos) {
      subwords::ngram_buckets(vocabulary.token(id), options_.min_n, options_.max_n,
                              options_.buckets, ngram_rows_);
    }
    ngram_offsets_.push_back(static_cast<std::int64_t>(ngram_rows_.size()));
  }
}

Word2VecSubwords WordVectorTable::subword_rows() const {
  TORCH_CHECK(has_subwords() && !ngram_offsets_.empty(),
              "word vector table: subword rows before prepare(vocabulary)");
  return Word2VecSubwords{ngrams_.data_ptr<float>(), ngram_offsets_.data(), ngram_rows_.data()};
}

torch::Tensor WordVectorTable::word_table() {
  if (!has_subwords()) return embedding_;
  TORCH_CHECK(static_cast<std::int64_t>(ngram_offsets_.size()) == embedding_.size(0) + 1,
              "word vector table: call prepare(vocabulary) before using subword vectors");
  const auto words = static_cast<std::int64_t>(ngram_offsets_.size()) - 1;
  torch::Tensor rows =
      torch::from_blob(ngram_rows_.data(), {static_cast<std::int64_t>(ngram_rows_.size())},
                       torch::kInt)
          .to(torch::kLong);
  torch::Tensor offsets = torch::from_blob(ngram_offsets_.data(), {words}, torch::kLong).clone();
  // Sum of each word's n-gram rows (an empty bag is a zero row), then the mean with its own row.
  torch::Tensor sums = std::get<0>(torch::embedding_bag(ngrams_, rows, offsets, false, /*sum*/ 0));
  torch::Tensor counts = torch::from_blob(ngram_offsets_.data(), {words + 1}, torch::kLong)
                             .diff()
                             .to(torch::kFloat)
                             .add(1.0)
                             .unsqueeze(1);
  return (embedding_ + sums) / counts;
}

torch::Tensor WordVectorTable::word_vector(const Vocabulary& vocabulary, std::string_view word) {
  torch::NoGradGuard no_grad;
  const std::int64_t id = vocabulary.contains(word) ? vocabulary.id(word) : -1;
  if (id > Vocabulary::kEos && id < embedding_.size(0)) {
    if (!has_subwords()) return embedding_[id].clone();
    prepare(vocabulary);
    torch::Tensor sum = embedding_[id].clone();
    for (std::int64_t k = ngram_offsets_[id]; k < ngram_offsets_[id + 1]; ++k) {
      sum += ngrams_[ngram_rows_[static_cast<std::size_t>(k)]];
    }
    return sum / static_cast<double>(1 + ngram_offsets_[id + 1] - ngram_offsets_[id]);
  }
  if (!has_subwords()) return {};
  std::vector<std::int32_t> rows;
  subwords::ngram_buckets(word, options_.min_n, options_.max_n, options_.buckets, rows);
  if (rows.empty()) return {};
  std::vector<std::int64_t> ids(rows.begin(), rows.end());
  return ngrams_.index_select(0, torch::tensor(ids, torch::kLong)).mean(0);
}

torch::Tensor vocabulary_vectors(Backbone& backbone, const Vocabulary& vocabulary) {
  torch::NoGradGuard no_grad;
  auto* table = dynamic_cast<WordVectorTable*>(&backbone);
  torch::Tensor vectors;
  if (table != nullptr && table->has_subwords()) {
    table->prepare(vocabulary);
    vectors = table->word_table();
  } else {
    vectors = backbone.input_embedding();
  }
  if (!vectors.defined()) return vectors;
  return vectors.detach().to(torch::kCPU, torch::kFloat);
}

}  // namespace lmforge
