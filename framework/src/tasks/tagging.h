#pragma once
// Sequence labelling (POS tags, BIO entity tags): one label per token, read from CoNLL-style files
// — one `token<TAB or spaces>...label` per line, a blank line between sentences. Each token is
// looked up whole in the tokenizer's vocabulary, never cut, so tokens and labels stay aligned.
// Padded batches, token accuracy / macro-F1 / per-label precision and recall.
//
// Example (recipe):
//   task: {type: tagging, train: ${data}/conll/train.txt, valid: ..., test: ..., fraction: 0.1}
//   head: {type: tagger}
#include <torch/serialize/archive.h>
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lmforge/task.h"

namespace lmforge {

struct TaggingOptions {
  std::string train;
  std::string valid;
  std::string test;
  std::int64_t token_column = 0;
  std::int64_t label_column = -1;
  std::string separator = "whitespace";
  std::string comment_prefix = "#";
  std::string encoding = "utf-8";
  std::int64_t limit = 0;
  double fraction = 1.0;
  double valid_fraction = 0.0;
  std::int64_t max_length = 256;
  void visit(OptionVisitor& v);
};

class TaggingTask : public Task {
 public:
  using Options = TaggingOptions;

  /// One sentence as read from a file, before lookup.
  struct Sentence {
    std::vector<std::string> tokens;
    std::vector<std::string> labels;
    std::vector<std::int64_t> lines;  ///< line of each token, for error messages
    std::string path;
  };
  /// One encoded sentence (or a max_length piece of a longer one); never empty.
  struct Example {
    std::vector<std::int64_t> ids;
    std::vector<std::int64_t> labels;
  };
  /// A padded batch on the CPU.
  struct Batch {
    torch::Tensor tokens;   ///< [B,T] int64, right-padded with Vocabulary::kPad
    torch::Tensor mask;     ///< [B,T] bool, true for real tokens
    torch::Tensor targets;  ///< [B,T] int64 label ids, -100 at padding
    std::int64_t real_tokens = 0;
  };
  /// Tags for one sentence of `predict`.
  struct Tagged {
    std::vector<std::string> tokens;
    torch::Tensor probabilities;  ///< [tokens, num_outputs] float on the CPU
  };

  TaggingTask(const Options& options, const TaskContext& context);

  void prepare(Tokenizer& tokenizer, bool fit_vocabulary) override;
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

  /// Label names in id order.
  const std::vector<std::string>& labels() const { return labels_; }
  /// Tags each whitespace-separated sentence in `texts`. Runs on the device of the model's
  /// parameters; needs the label set (prepare or load_artifacts).
  std::vector<Tagged> predict(Model& model, const Tokenizer& tokenizer,
                              const std::vector<std::string>& texts);

  /// Reads one CoNLL-style file. Throws DataError at "path:line" for a malformed line.
  static std::vector<Sentence> read_sentences(const Options& options, const std::string& path,
                                              const std::string& option, const std::string& place);
  /// Vocabulary id of one whole token: the tokenizer's pieces of it glued back together (so a
  /// lowercasing tokenizer lowercases), looked up as one entry; <unk> when absent.
  static std::int64_t token_id(const Tokenizer& tokenizer, const std::string& token);

  /// Examples of "train", "valid" or "test" after prepare (empty for a split without data).
  const std::vector<Example>& examples(const std::string& split) const;
  /// Training example indices of each batch of the current epoch, in step order.
  const std::vector<std::vector<std::int64_t>>& epoch_batches() const { return epoch_batches_; }
  /// Batch `step` of the current epoch (start_epoch(0) first if no epoch was started).
  Batch train_batch(std::int64_t step);
  /// Pads `indices` of `examples` into one batch.
  static Batch make_batch(const std::vector<Example>& examples,
                          const std::vector<std::int64_t>& indices);
  /// Token accuracy of tagging every token of `split` with the training data's most frequent tag,
  /// and with each word's most frequent training tag (that majority for unseen words); -1 when
  /// the split has no data.
  double majority_baseline(const std::string& split) const;
  double word_baseline(const std::string& split) const;

 private:
  std::vector<Example> encode(const Tokenizer& tokenizer, const Sentence& sentence,
                              const std::vector<std::int64_t>& label_ids) const;
  torch::Tensor checked_logits(Model& model, const Batch& batch, torch::Device device) const;
  void compute_baselines();
  std::vector<std::int64_t> train_fingerprint() const;

  Options options_;
  TaskContext context_;
  double batch_share_weight_ = 1.0;  ///< this rank's share of the current training batch
  std::vector<std::string> labels_;
  std::map<std::string, std::int64_t> label_ids_;
  std::map<std::string, std::vector<Example>> splits_;
  std::map<std::string, double> majority_baseline_;
  std::map<std::string, double> word_baseline_;
  std::vector<std::vector<std::int64_t>> epoch_batches_;
  std::int64_t epoch_ = -1;
  std::string last_split_;                                 // split of the last evaluate()
  std::vector<std::vector<std::int64_t>> last_confusion_;  // [true][predicted]
};

}  // namespace lmforge
