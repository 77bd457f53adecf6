#pragma once
// GloVe training (Pennington et al. 2014) as the Stanford reference tool runs it: count
// word-context co-occurrences over the corpus, weighted 1/distance, in bounded memory
// (cooccurrence.h); shuffle the records; then minimise the weighted least-squares objective with
// AdaGrad over the shuffled records, every thread updating the shared tables (Hogwild).
//
// prepare() streams the corpus (once more to build the vocabulary when it is fitted here) and
// writes the shuffled records to <stage>/glove/cooccurrence.shuf.bin; a resumed or repeated run
// with the same vocabulary and counting options reuses the file. A trainer step is a slice of
// `records_per_step` records that `threads` workers split between them; the step reports the
// mean weighted squared error and `updated = true` (no autograd).
//
// Example (recipe):
//   task: {type: glove, train: ${data}/wikitext-2/train.txt, window: 10, memory_mb: 512,
//          analogy: ${data}/word-similarity/questions-words.txt}
//   tokenizer: {type: word, lowercase: true, min_count: 5}
//   backbone: {type: glove, dim: 100}
//   head: {type: glove, x_max: 10}
//   train: {epochs: 15}
#include <cstdint>
#include <string>
#include <vector>

#include "adagrad_step.h"
#include "cooccurrence.h"
#include "lmforge/embeddings.h"
#include "lmforge/options.h"
#include "lmforge/task.h"

namespace lmforge::glove {

struct GloveTaskOptions {
  /// Training text: a file or a directory of .txt files (sorted by name). Required.
  std::string train;
  /// What a sentence is (windows never cross one): "line" or "paragraph".
  std::string sentences = "line";
  /// Context words counted on each side.
  std::int64_t window = 10;
  /// Count context on both sides (true) or only words to the left (false).
  bool symmetric = true;
  /// Weight an occurrence at distance d by 1/d (true) or 1 (false).
  bool distance_weighting = true;
  /// Memory for counting and shuffling, in MiB; beyond it sorted runs spill to disk.
  double memory_mb = 1024;
  /// AdaGrad's initial learning rate.
  double eta = 0.05;
  /// Gradient components are clipped to +-grad_clip.
  double grad_clip = 100;
  /// Records per trainer step.
  std::int64_t records_per_step = 2000000;
  /// Worker threads (0 = the recipe's threads).
  std::int64_t threads = 0;
  /// Analogy questions (questions-words.txt format) evaluated after each epoch.
  std::string analogy;
  /// Only the most frequent words answer and ask analogies (gensim's default).
  std::int64_t restrict_vocab = 30000;
  /// Word-similarity files (WordSim-353, SimLex-999 layouts) evaluated after each epoch.
  std::vector<std::string> similarity;

  void visit(OptionVisitor& v);
};

class GloveTask : public Task {
 public:
  using Options = GloveTaskOptions;

  GloveTask(const Options& options, const TaskContext& context);

  void prepare(Tokenizer& tokenizer, bool fit_vocabulary) override;
  std::int64_t num_outputs() const override { return vocabulary_.size(); }
  std::int64_t steps_per_epoch() const override;
  void start_epoch(std::int64_t epoch) override { epoch_ = epoch; }
  StepResult train_step(Model& model, std::int64_t step) override;
  Metrics evaluate(Model& model, const std::string& split) override;
  std::vector<std::string> eval_splits() const override;
  std::string primary_metric() const override;
  bool higher_is_better() const override { return true; }
  std::vector<std::string> summary(const Metrics& final_metrics) const override;

  /// The shuffled co-occurrence records the steps read.
  const std::string& records_path() const { return records_path_; }
  std::int64_t records() const { return records_; }
  const CooccurrenceStats& counting() const { return stats_; }

 private:
  /// Streams the corpus and writes the shuffled records (or keeps a matching earlier file).
  void count_cooccurrences(const Tokenizer& tokenizer);
  std::string fingerprint() const;

  Options options_;
  TaskContext context_;
  std::vector<std::string> files_;
  Vocabulary vocabulary_;
  std::string records_path_;
  std::int64_t records_ = 0;
  CooccurrenceStats stats_;
  bool reused_ = false;
  double counting_seconds_ = 0;
  std::int64_t threads_ = 1;
  std::int64_t epoch_ = 0;
  std::vector<Cooccurrence> step_records_;
  AnalogyResult last_analogy_;
};

}  // namespace lmforge::glove
