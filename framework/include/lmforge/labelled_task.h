#pragma once
// A base for tasks that put labels on texts or on their tokens (classification, tagging, and any
// plugin task of that shape). A subclass reads its data and encodes it into Examples; the base
// owns everything else: the label set (saved with the run as labels.txt), the training selection
// (valid_fraction, fraction, limit), length-bucketed padded batches and their data-parallel share,
// the loss, evaluation with a confusion matrix (accuracy, macro-F1, per-label precision/recall),
// the summary and `predict`.
//
//   class MyTask : public LabelledTask {
//    public:
//     using Options = MyOptions;  // derives from LabelledDataOptions
//     MyTask(const Options& o, const TaskContext& c) : LabelledTask(c, traits(), o) {}
//     void prepare(Tokenizer& tokenizer, bool fit_vocabulary) override;  // set_labels,
//     set_examples
//    protected:
//     std::vector<Example> encode_for_prediction(...) const override;
//   };
#include <torch/serialize/archive.h>
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lmforge/batching.h"
#include "lmforge/export.h"
#include "lmforge/label_metrics.h"
#include "lmforge/task.h"

namespace lmforge {

/// Options every labelled task reads: where its data is and how much of it to train on.
struct LabelledDataOptions {
  std::string train;
  std::string valid;
  std::string test;
  std::string encoding = "utf-8";
  std::int64_t limit = 0;
  double fraction = 1.0;
  double valid_fraction = 0.0;
  std::int64_t max_length = 256;

  /// What one example of the data is, for the options' help.
  enum class Unit { kExamples, kSentences };
  /// Declares the options above. `train_help` describes the training file's layout.
  LMFORGE_API void visit_data(OptionVisitor& v, const char* train_help, Unit unit);
  /// Throws ConfigError at `place` when fraction/valid_fraction are out of range or
  /// valid_fraction is given beside a valid file.
  LMFORGE_API void check_sampling(const std::string& place) const;
};

/// Writes `labels` to dir/labels.txt, one a line, in id order.
LMFORGE_API void write_labels(const std::string& dir, const std::vector<std::string>& labels);
/// Reads dir/labels.txt in id order. Throws DataError when the file is missing (naming the
/// `task` stage that writes it), empty or holds a label twice.
LMFORGE_API std::vector<std::string> read_labels(const std::string& dir, const std::string& task);

/// The device of the model's parameters, `fallback` for a model without any: a task built
/// without knowing where the model lives (the predict command) follows the model.
LMFORGE_API torch::Device model_device(Model& model, torch::Device fallback);

/// Puts the model in eval mode and restores its training flag however the scope is left.
class LMFORGE_API EvalMode {
 public:
  explicit EvalMode(Model& model);
  ~EvalMode();
  EvalMode(const EvalMode&) = delete;
  EvalMode& operator=(const EvalMode&) = delete;

 private:
  Model& model_;
  bool was_training_;
};

class LMFORGE_API LabelledTask : public Task {
 public:
  /// One encoded example: token ids (never empty) and one label id for the whole text
  /// (Granularity::kText) or one per token (kToken).
  struct Example {
    std::vector<std::int64_t> ids;
    std::vector<std::int64_t> labels;
  };
  /// A padded batch on the CPU.
  struct Batch {
    torch::Tensor tokens;   ///< [B,T] int64, right-padded with Vocabulary::kPad
    torch::Tensor mask;     ///< [B,T] bool, true for real tokens
    torch::Tensor targets;  ///< [B] label ids (kText) or [B,T] with -100 at padding (kToken)
    std::int64_t real_tokens = 0;
    /// Factor on this rank's mean loss: its share of the global batch (see data_shard.h).
    double loss_weight = 1.0;
  };
  enum class Granularity { kText, kToken };
  /// What distinguishes one labelled task from another in messages, files and random streams.
  struct Traits {
    std::string task_name;  ///< registry name: messages, labels.txt, checkpoint keys
    Granularity granularity = Granularity::kText;
    std::string head_hint;      ///< the head to suggest when the head's output has another shape
    std::string label_noun;     ///< "label" or "tag", in the confusion report
    std::string accuracy_name;  ///< "accuracy" or "token accuracy", in the summary
    std::uint32_t stream_base = 0;  ///< random streams stream_base+1 .. +4 of the recipe seed
    std::string unit = "examples";  ///< what one example is in messages ("sentences")
  };

  LabelledTask(const TaskContext& context, Traits traits, const LabelledDataOptions& options);

  std::int64_t num_outputs() const override { return static_cast<std::int64_t>(labels_.size()); }
  std::int64_t steps_per_epoch() const override;
  void start_epoch(std::int64_t epoch) override;
  StepResult train_step(Model& model, std::int64_t step) override;
  Metrics evaluate(Model& model, const std::string& split) override;
  std::vector<std::string> eval_splits() const override;
  std::string primary_metric() const override { return "accuracy"; }
  bool higher_is_better() const override { return true; }
  /// Batches follow from the seed and the epoch alone; the state is a fingerprint of the training
  /// data, so a resume over changed data is refused instead of silently diverging.
  void save_state(torch::serialize::OutputArchive& archive) const override;
  void load_state(torch::serialize::InputArchive& archive) override;
  void save_artifacts(const std::string& dir) const override;
  void load_artifacts(const std::string& dir) override;
  std::vector<std::string> summary(const Metrics& final_metrics) const override;
  bool can_predict() const override { return true; }
  std::vector<Prediction> predict(Model& model, const Tokenizer& tokenizer,
                                  const std::vector<std::string>& texts) override;

  /// Label names in id order.
  const std::vector<std::string>& labels() const { return labels_; }
  /// Examples of "train", "valid" or "test" after prepare (empty for a split without data).
  const std::vector<Example>& examples(const std::string& split) const;
  /// Training example indices of each batch of the current epoch, in step order.
  const std::vector<std::vector<std::int64_t>>& epoch_batches() const { return epoch_batches_; }
  /// This rank's share of batch `step` of the current epoch (start_epoch(0) first if no epoch
  /// was started).
  Batch train_batch(std::int64_t step);
  /// Pads `indices` of `examples` into one batch.
  Batch make_batch(const std::vector<Example>& examples,
                   const std::vector<std::int64_t>& indices) const;

 protected:
  /// The examples `text` becomes for prediction, in order: one for a per-text task; a per-token
  /// task may cut a long text into pieces, and fills `words` with the tokens its labels belong to.
  virtual std::vector<Example> encode_for_prediction(const Tokenizer& tokenizer,
                                                     const std::string& text,
                                                     std::vector<std::string>& words) const = 0;
  /// Appended to the summary's accuracy line of `split`, e.g. " (majority-class baseline 0.51)".
  virtual std::string baseline_note(const std::string& /*split*/) const { return ""; }

  /// Sets the label set (id order) and forgets every split.
  void set_labels(std::vector<std::string> labels);
  /// The id of `label`; throws DataError at `where` naming the training data when it is unknown.
  std::int64_t label_id(const std::string& label, const std::string& where) const;
  /// Sets the examples of `split` ("train", "valid", "test"); a new epoch starts from scratch.
  void set_examples(const std::string& split, std::vector<Example> examples);
  /// Which of `count` training examples to keep and which to hold out, by the recipe's
  /// valid_fraction, fraction and limit; `strata` (one label id per example, or empty) keeps
  /// each label's share.
  batching::TrainingSelection select_training(std::size_t count,
                                              const std::vector<std::int64_t>& strata) const;
  /// Prints each split's share of <unk> tokens, with a warning (and the fix) above 10%; call at
  /// the end of prepare with whether the vocabulary came from an earlier stage (init) rather than
  /// from this stage's training data.
  void report_unknown_share(bool vocabulary_reused) const;
  const TaskContext& context() const { return context_; }
  const LabelledDataOptions& data_options() const { return data_; }

 private:
  torch::Tensor checked_logits(Model& model, const Batch& batch, torch::Device device) const;
  std::vector<std::int64_t> train_fingerprint() const;
  /// Writes confusion.<split>.tsv into the stage directory (rank 0; for `lmforge report`).
  void save_confusion(const Confusion& matrix, const std::string& split) const;

  TaskContext context_;
  Traits traits_;
  LabelledDataOptions data_;
  std::vector<std::string> labels_;
  std::map<std::string, std::int64_t> label_ids_;
  std::map<std::string, std::vector<Example>> splits_;
  std::vector<std::vector<std::int64_t>> epoch_batches_;
  std::int64_t epoch_ = -1;
  std::string last_split_;  // split of the last evaluate()
  Confusion last_confusion_;
};

}  // namespace lmforge
