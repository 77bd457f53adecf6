#pragma once
// Next-token prediction over contiguous BPTT windows, as in the classic word-level LM setup: the
// corpus is one token stream cut into `batch_size` parallel rows; each step sees the next `bptt`
// tokens of every row and carries the recurrent state (detached) into the next step.
#include <torch/torch.h>

#include <functional>

#include "lmforge/task.h"

namespace lmforge {

struct LanguageModelingOptions {
  std::string train;
  std::string valid;
  std::string test;
  std::string encoding = "utf-8";
  /// How lines hold text: plain text, or a labelled data set whose text column is read (so a
  /// language model can be fine-tuned on a classification set's own text, ULMFiT's middle step).
  std::string format = "text";
  std::int64_t text_column = 1;  // tsv/csv
  bool header = false;           // tsv/csv
  std::int64_t bptt = 35;
  /// "contiguous": batch_size parallel streams read in order, state carried (the classic BPTT
  /// setup); "random": batch_size windows at random offsets every step, no state (nanoGPT).
  std::string windows = "contiguous";
  std::int64_t eval_batch_size = 10;
  double valid_fraction = 0.0;  // hold out the end of the training stream as "valid"
  std::string reference;
  void visit(OptionVisitor& v);
};

class LanguageModelingTask : public Task {
 public:
  using Options = LanguageModelingOptions;
  LanguageModelingTask(const Options& options, const TaskContext& context);

  void prepare(Tokenizer& tokenizer, bool fit_vocabulary) override;
  std::int64_t num_outputs() const override { return vocab_size_; }
  std::int64_t steps_per_epoch() const override;
  void start_epoch(std::int64_t epoch) override;
  StepResult train_step(Model& model, std::int64_t step) override;
  Metrics evaluate(Model& model, const std::string& split) override;
  std::vector<std::string> eval_splits() const override;
  std::string primary_metric() const override { return "ppl"; }
  bool higher_is_better() const override { return false; }
  bool trains_next_token() const override { return true; }
  void save_state(torch::serialize::OutputArchive& archive) const override;
  void load_state(torch::serialize::InputArchive& archive) override;
  std::vector<std::string> summary(const Metrics& final_metrics) const override;

  /// Rows of the batched stream: [rows, tokens/rows].
  static torch::Tensor batchify(const torch::Tensor& stream, std::int64_t rows);

 private:
  /// Calls `on_text` for each text of `spec` (a file or a glob of files) in the declared format.
  void for_each_text(const std::string& spec, const std::string& option,
                     const std::function<void(const std::string&)>& on_text) const;
  /// The token ids of `spec` with <eos> after each text; `characters` gets the texts' Unicode
  /// characters plus one line break each.
  torch::Tensor encode_file(Tokenizer& tokenizer, const std::string& spec,
                            const std::string& option, std::int64_t& characters) const;
  /// Prints the share of <unk> in a split (a warning above 10%, with the fix).
  void report_split(const std::string& split, const torch::Tensor& stream,
                    bool vocabulary_reused) const;

  Options options_;
  TaskContext context_;
  std::int64_t vocab_size_ = 0;
  torch::Tensor train_;                        // [batch_size, columns]
  torch::Tensor train_stream_;                 // [tokens], for random windows
  std::map<std::string, torch::Tensor> eval_;  // split -> [eval_batch_size, columns]
  State state_;
  double unigram_nats_ = 0;  // entropy of the training unigram distribution (baseline)
  std::map<std::string, double> characters_per_token_;  // split -> its text's, for bpc
};

}  // namespace lmforge
