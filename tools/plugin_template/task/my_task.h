#pragma once
// my_task: next-token prediction over independent sentences.
// One sentence per line of a text file. Each batch pads whole sentences: input <bos> w1 .. wn,
// target w1 .. wn <eos>, padding ignored by the loss. Metrics: loss (nats/token), ppl and
// next-token accuracy. Works with any causal backbone and a per-token head such as lm. Written by
// `lmforge new plugin`; make it yours. In a recipe:
//
//   task: {type: my_task, train: data/train.txt, valid: data/valid.txt}
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lmforge/options.h"
#include "lmforge/task.h"

namespace my_task_plugin {

// Declared once: defaults are the members' initial values; `visit` reads the recipe (rejecting
// unknown or mistyped keys with file:line:col) and is what `lmforge plugins --describe` prints.
struct MyTaskOptions {
  std::string train;
  std::string valid;
  std::string test;
  std::int64_t max_length = 64;

  void visit(lmforge::OptionVisitor& v) {
    v.field("train", train, "training text, one sentence per line").required();
    v.field("valid", valid, "validation text (evaluated each epoch)");
    v.field("test", test, "test text (evaluated at the end)");
    v.field("max_length", max_length, "longer sentences keep their first max_length tokens")
        .positive();
  }
};

using Sentences = std::vector<std::vector<std::int64_t>>;

struct Batch {
  torch::Tensor input;   // [B,T] <bos> + ids, right-padded with <pad>
  torch::Tensor target;  // [B,T] ids + <eos>, padding -100
  torch::Tensor mask;    // [B,T] true for real tokens
  std::int64_t tokens = 0;
};

/// Pads sentences[indices] into one batch.
Batch make_batch(const Sentences& sentences, const std::vector<std::size_t>& indices);

class MyTask : public lmforge::Task {
 public:
  using Options = MyTaskOptions;

  MyTask(const Options& options, const lmforge::TaskContext& context);

  void prepare(lmforge::Tokenizer& tokenizer, bool fit_vocabulary) override;
  std::int64_t num_outputs() const override { return vocab_size_; }
  std::int64_t steps_per_epoch() const override;
  void start_epoch(std::int64_t epoch) override;
  lmforge::StepResult train_step(lmforge::Model& model, std::int64_t step) override;
  lmforge::Metrics evaluate(lmforge::Model& model, const std::string& split) override;
  std::vector<std::string> eval_splits() const override;
  std::string primary_metric() const override { return "ppl"; }
  bool higher_is_better() const override { return false; }

 private:
  torch::Tensor logits(lmforge::Model& model, const Batch& batch) const;

  Options options_;
  lmforge::TaskContext context_;
  std::int64_t vocab_size_ = 0;
  std::map<std::string, Sentences> splits_;
  std::vector<std::size_t> order_;  // training sentences in this epoch's order
};

}  // namespace my_task_plugin
