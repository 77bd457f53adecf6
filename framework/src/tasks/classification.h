#pragma once
// Text classification: one label per example, padded batches, accuracy / macro-F1. Reads the
// common benchmark layouts directly (TSV/CSV columns, SST-2's "label text", TREC's
// "DESC:manner text", MR's one file per class) so data sets need no conversion script.
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lmforge/task.h"

namespace lmforge {

struct ClassificationOptions {
  std::string train;
  std::string valid;
  std::string test;
  std::string format = "tsv";
  std::int64_t text_column = 1;
  std::int64_t label_column = 0;
  bool header = false;
  std::string trec_labels = "coarse";
  std::string encoding = "utf-8";
  std::int64_t limit = 0;
  double fraction = 1.0;
  double valid_fraction = 0.0;
  std::int64_t max_length = 256;
  void visit(OptionVisitor& v);
};

class ClassificationTask : public Task {
 public:
  using Options = ClassificationOptions;

  /// One labelled line as read from a file, before tokenisation.
  struct Record {
    std::string label;
    std::string text;
    std::string where;  ///< "path:line", for error messages
  };
  /// One tokenised example: ids truncated to max_length, never empty.
  struct Example {
    std::vector<std::int64_t> ids;
    std::int64_t label = 0;
  };
  /// A padded batch on the CPU.
  struct Batch {
    torch::Tensor tokens;  ///< [B,T] int64, right-padded with Vocabulary::kPad
    torch::Tensor mask;    ///< [B,T] bool, true for real tokens
    torch::Tensor labels;  ///< [B] int64
    std::int64_t real_tokens = 0;
  };

  ClassificationTask(const Options& options, const TaskContext& context);

  void prepare(Tokenizer& tokenizer, bool fit_vocabulary) override;
  std::int64_t num_outputs() const override { return static_cast<std::int64_t>(labels_.size()); }
  std::int64_t steps_per_epoch() const override;
  void start_epoch(std::int64_t epoch) override;
  StepResult train_step(Model& model, std::int64_t step) override;
  Metrics evaluate(Model& model, const std::string& split) override;
  std::vector<std::string> eval_splits() const override;
  std::string primary_metric() const override { return "accuracy"; }
  bool higher_is_better() const override { return true; }
  void save_artifacts(const std::string& dir) const override;
  void load_artifacts(const std::string& dir) override;
  std::vector<std::string> summary(const Metrics& final_metrics) const override;

  /// Label names in id order.
  std::vector<std::string> labels() const { return labels_; }
  /// Class probabilities [N, num_outputs] (float, CPU) for `texts`, in their order. Runs on the
  /// device of the model's parameters; needs the label set (prepare or load_artifacts).
  torch::Tensor predict(Model& model, const Tokenizer& tokenizer,
                        const std::vector<std::string>& texts);

  /// Reads one train/valid/test option value in `options.format` (for files_per_class `spec` is
  /// "label=path,label=path"). Throws DataError at "path:line" for a malformed line, ConfigError
  /// at `place` for a malformed files_per_class spec.
  static std::vector<Record> read_records(const Options& options, const std::string& spec,
                                          const std::string& option, const std::string& place);

  /// Examples of "train", "valid" or "test" after prepare (empty for a split without data).
  const std::vector<Example>& examples(const std::string& split) const;
  /// Training example indices of each batch of the current epoch, in step order.
  const std::vector<std::vector<std::int64_t>>& epoch_batches() const { return epoch_batches_; }
  /// Batch `step` of the current epoch (start_epoch(0) first if no epoch was started).
  Batch train_batch(std::int64_t step);
  /// Pads `indices` of `examples` into one batch.
  static Batch make_batch(const std::vector<Example>& examples,
                          const std::vector<std::int64_t>& indices);

 private:
  Example encode(const Tokenizer& tokenizer, const std::string& text, std::int64_t label) const;
  torch::Tensor checked_logits(Model& model, const Batch& batch, torch::Device device) const;

  Options options_;
  TaskContext context_;
  double batch_share_weight_ = 1.0;  ///< this rank's share of the current training batch
  std::vector<std::string> labels_;
  std::map<std::string, std::int64_t> label_ids_;
  std::map<std::string, std::vector<Example>> splits_;
  std::map<std::string, double> majority_baseline_;  // split -> accuracy of the majority class
  std::vector<std::vector<std::int64_t>> epoch_batches_;
  std::int64_t epoch_ = -1;
  std::string last_split_;                                 // split of the last evaluate()
  std::vector<std::vector<std::int64_t>> last_confusion_;  // [true][predicted]
};

}  // namespace lmforge
