#pragma once
// word2vec training (Mikolov et al. 2013) as word2vec.c, gensim and fastText run it: a stream of
// sentences, frequent-word subsampling, a dynamic window, and a learning rate that decays
// linearly over all words of all epochs; CBOW or skip-gram from the backbone, negative sampling,
// hierarchical softmax or the full softmax from the head.
//
// Autograd plays no part: each trainer step reads about `words_per_step` words of text, splits it
// into blocks that `threads` workers take in turn, and each worker runs word2vec.c's loop on the
// model's float rows in place (Hogwild), calling the head's fused update per example
// (lmforge/word2vec.h). The step reports the mean loss and `updated = true`.
//
// A step is a byte range of the text, read line-aligned (text_corpus.h), and every worker's
// random numbers are seeded from the seed, epoch, step and block: with threads: 1 a run is
// reproducible and a resumed run equals an uninterrupted one without saving a stream position.
//
// Example (recipe):
//   task: {type: word2vec, train: ${data}/gutenberg-en/books, sentences: paragraph, window: 5,
//          analogy: ${data}/word-similarity/questions-words.txt}
//   tokenizer: {type: word, lowercase: true, min_count: 5}
//   backbone: {type: cbow, dim: 100}
//   head: {type: negative_sampling, negative: 5}
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lmforge/embeddings.h"
#include "lmforge/options.h"
#include "lmforge/task.h"
#include "lmforge/word2vec.h"
#include "text_corpus.h"

namespace lmforge {

struct Word2VecTaskOptions {
  /// Training text: a file, a directory of .txt files or a glob. Required.
  std::string train;
  /// What a sentence is (windows never cross one): "line" or "paragraph".
  std::string sentences = "line";
  /// Longest sentence; longer ones are cut. Default 1000 (word2vec.c).
  std::int64_t max_sentence_length = 1000;
  /// Largest distance between centre and context word; each centre word draws its own window
  /// in [1, window].
  std::int64_t window = 5;
  /// Frequent-word subsampling threshold (word2vec.c's formula; 0 = off).
  double sample = 1e-3;
  /// Initial learning rate. Default 0.05 (fastText's for both modes, word2vec.c's for CBOW).
  double alpha = 0.05;
  /// Learning rate reached after the last word of the last epoch.
  double min_alpha = 1e-4;
  /// Epochs the learning rate decays over; must equal train.epochs.
  std::int64_t epochs = 1;
  /// Words of text per trainer step.
  std::int64_t words_per_step = 200000;
  /// Worker threads (0 = the recipe's `threads`).
  std::int64_t threads = 0;
  /// Analogy questions (questions-words.txt format) evaluated after each epoch.
  std::string analogy;
  /// Only the most frequent words answer and ask analogies (gensim's default).
  std::int64_t restrict_vocab = 30000;
  /// Word-similarity files (WordSim-353, SimLex-999 layouts) evaluated after each epoch.
  std::vector<std::string> similarity;
  /// Also write the training text as the tokenizer splits it, one sentence per line, to this
  /// file: identical input for gensim or fastText.
  std::string write_tokenized;

  void visit(OptionVisitor& v);
};

/// Token -> id lookups for the training loop without the std::string that Vocabulary::id builds
/// per call: open addressing over views of the vocabulary's own strings, which must outlive it.
class WordIndex {
 public:
  WordIndex() = default;
  explicit WordIndex(const Vocabulary& vocabulary);
  /// The id of `token`, or Vocabulary::kUnk.
  std::int64_t find(std::string_view token) const;

 private:
  struct Slot {
    std::size_t hash = 0;
    std::string_view token;
    std::int64_t id = -1;
  };
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
};

class Word2VecTask : public Task {
 public:
  using Options = Word2VecTaskOptions;

  Word2VecTask(const Options& options, const TaskContext& context);
  // The word index points into the task's own vocabulary.
  Word2VecTask(const Word2VecTask&) = delete;
  Word2VecTask& operator=(const Word2VecTask&) = delete;

  void prepare(Tokenizer& tokenizer, bool fit_vocabulary) override;
  std::int64_t num_outputs() const override { return vocabulary_.size(); }
  std::int64_t steps_per_epoch() const override;
  void start_epoch(std::int64_t epoch) override;
  StepResult train_step(Model& model, std::int64_t step) override;
  Metrics evaluate(Model& model, const std::string& split) override;
  std::vector<std::string> eval_splits() const override;
  std::string primary_metric() const override;
  bool higher_is_better() const override { return true; }
  std::vector<std::string> summary(const Metrics& final_metrics) const override;

  /// Words (in-vocabulary, specials excluded) in the training text: the count the subsampling
  /// threshold and the negative-sampling table are built from.
  std::int64_t train_words() const { return train_words_; }
  /// Bytes of text per step.
  std::int64_t step_bytes() const { return step_bytes_; }
  const TextCorpus& corpus() const { return *corpus_; }
  /// The learning rate at a fraction `progress` of all epochs.
  double learning_rate(double progress) const;

 private:
  struct Block;
  struct Worker;
  struct Tally;
  void bind(Model& model);
  Tally train_block(const Block& block, std::string_view text, std::int64_t step, Worker& worker);
  std::vector<std::string_view> sentence_lines(std::string_view text) const;
  void write_tokenized_text() const;

  Options options_;
  TaskContext context_;
  std::unique_ptr<TextCorpus> corpus_;
  const Tokenizer* tokenizer_ = nullptr;  // owned by the stage, which outlives the task
  Vocabulary vocabulary_;
  WordIndex index_;                   // views into vocabulary_
  std::vector<std::int64_t> counts_;  // training frequency per id; specials 0
  std::vector<std::uint32_t> keep_;   // subsampling: keep when 32 random bits are below
  std::int64_t train_words_ = 0;
  std::int64_t step_bytes_ = 1;
  std::int64_t threads_ = 1;
  std::int64_t epoch_ = 0;
  std::string text_;  // the current step's lines

  // Bound to the model by the first step (and re-read every step).
  const Word2VecBackbone* backbone_ = nullptr;
  Word2VecHead* head_ = nullptr;
  float* input_rows_ = nullptr;
  std::int64_t dim_ = 0;

  AnalogyResult last_analogy_;
};

}  // namespace lmforge
