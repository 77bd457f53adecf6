#pragma once
// Masked-LM pre-training (BERT, Devlin et al. 2019; RoBERTa's dynamic masking, Liu et al. 2019):
// the corpus becomes segments of at most max_length tokens (<bos> first), a share of their tokens
// is corrupted (masking.h) and a bidirectional body with a per-token head (mlm) recovers them. The
// masks are drawn afresh for every epoch from the recipe seed, the epoch and the step, so a resumed
// run draws the very masks the uninterrupted one would; validation masks are drawn once, so its
// figures compare from epoch to epoch. Loss, accuracy and perplexity count the chosen tokens only.
//
// Example (recipe):
//   task: {type: mlm, train: ${data}/wikitext-2/train.txt, valid: ..., max_length: 64}
//   backbone: {type: transformer, mode: bidirectional, ...}
//   head: {type: mlm}
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lmforge/task.h"
#include "lmforge/text_source.h"
#include "masking.h"

namespace lmforge {

struct MlmOptions {
  std::string train;
  std::string valid;
  std::string test;
  TextSource source;
  /// Longest segment in tokens, <bos> included.
  std::int64_t max_length = 128;
  /// "packed": the text as one stream cut into full segments (RoBERTa's FULL-SENTENCES, no
  /// padding); "line": one segment per line, a long line cut into several.
  std::string segments = "packed";
  double mask_rate = 0.15;
  double mask_token = 0.8;
  double random_token = 0.1;
  /// "auto": whole words when the vocabulary is made of word pieces (sentencepiece's "▁").
  std::string whole_word = "auto";
  std::int64_t eval_batch_size = 32;
  void visit(OptionVisitor& v);
};

class MlmTask : public Task {
 public:
  using Options = MlmOptions;
  /// The vocabulary entry the task corrupts tokens into.
  static constexpr const char* kMaskToken = "<mask>";

  /// Checks what the declarations cannot: mask_token + random_token <= 1.
  MlmTask(const Options& options, const TaskContext& context);

  /// Adds <mask> to a vocabulary fitted here; a vocabulary from init or a tokenizer that cannot
  /// take new entries (sentencepiece) must already hold it.
  void prepare(Tokenizer& tokenizer, bool fit_vocabulary) override;
  std::int64_t num_outputs() const override { return vocab_size_; }
  std::int64_t steps_per_epoch() const override;
  void start_epoch(std::int64_t epoch) override;
  StepResult train_step(Model& model, std::int64_t step) override;
  /// loss (nats per chosen token), ppl, accuracy over the chosen tokens, and the baselines.
  Metrics evaluate(Model& model, const std::string& split) override;
  std::vector<std::string> eval_splits() const override;
  std::string primary_metric() const override { return "ppl"; }
  bool higher_is_better() const override { return false; }
  std::vector<std::string> summary(const Metrics& final_metrics) const override;

  /// Batch `step` of the current epoch, corrupted, all rows (start_epoch first).
  mlm::MaskedBatch train_batch(std::int64_t step) const;
  /// One segment: token ids, <bos> first, at most max_length.
  struct Segment {
    std::vector<std::int64_t> ids;
  };
  /// Segments of "train", "valid" or "test" after prepare (empty for a split without data).
  const std::vector<Segment>& segments(const std::string& split) const;
  bool whole_word() const { return rule_.whole_word; }
  /// Entropy (nats) of the training text's maskable unigram distribution: the loss of a model
  /// that ignores the context, where a stuck MLM sits.
  double unigram_nats() const { return unigram_nats_; }

 private:
  std::vector<Segment> read_segments(const Tokenizer& tokenizer, const std::string& spec,
                                     const std::string& option) const;
  std::int64_t find_mask_token(Tokenizer& tokenizer, bool fit_vocabulary) const;
  void check_backbone(Model& model) const;

  Options options_;
  TaskContext context_;
  mlm::MaskingRule rule_;
  std::unique_ptr<mlm::Masker> masker_;
  std::int64_t vocab_size_ = 0;
  std::map<std::string, std::vector<Segment>> splits_;
  std::vector<std::vector<std::int64_t>> epoch_batches_;
  std::int64_t epoch_ = -1;
  double unigram_nats_ = 0;
  double majority_share_ = 0;  // share of the commonest maskable token: accuracy of guessing it
};

}  // namespace lmforge
