#pragma once
// Sequence to sequence over line-aligned parallel files (line i of `target` translates line i of
// `source`) or over the two columns of one tab-separated file (`pairs`, e.g. questions and
// answers), for a body that implements lmforge/seq2seq.h: teacher forcing with label-smoothed
// cross-entropy, batches of similar lengths filled up to a token budget, validation loss,
// perplexity and corpus BLEU of greedy (or beam) translations; `lmforge translate` through
// Translator. Source and target share the stage's tokenizer and vocabulary. Validation and test
// pairs come from files of their own or are held out of the training pairs (valid_fraction,
// test_fraction); `samples` prints a few of them with the model's output at the end.
//
// Example (recipe):
//   task: {type: seq2seq, source: ${data}/multi30k/tok/train.lc.norm.tok.de,
//          target: ${data}/multi30k/tok/train.lc.norm.tok.en, valid_source: ..., valid_target: ...}
//   task: {type: seq2seq, pairs: ${data}/ko-chatbot/chatbot.tsv, columns: [Q, A],
//          valid_fraction: 0.05, test_fraction: 0.05, samples: 5}
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lmforge/options.h"
#include "lmforge/seq2seq.h"
#include "lmforge/task.h"

namespace lmforge {

struct Seq2SeqOptions {
  std::string source, target;
  std::string pairs;
  std::vector<std::string> columns{"0", "1"};
  bool header = false;
  double valid_fraction = 0;
  double test_fraction = 0;
  std::int64_t samples = 0;
  std::string valid_source, valid_target;
  std::string test_source, test_target;
  std::string encoding = "utf-8";
  std::int64_t max_length = 128;
  std::string too_long = "refuse";
  std::int64_t max_tokens = 0;
  double label_smoothing = 0.1;
  bool bleu = true;
  std::string bleu_tokenize = "13a";
  std::int64_t eval_beam = 1;
  double length_penalty = 1.0;
  double max_length_a = 1.5;
  std::int64_t max_length_b = 10;
  std::int64_t eval_batch_size = 64;
  void visit(OptionVisitor& v);
  /// Throws ConfigError at `place` for options that contradict each other.
  void check(const std::string& place) const;
};

class Seq2SeqTask : public Task, public Translator {
 public:
  using Options = Seq2SeqOptions;
  Seq2SeqTask(const Options& options, const TaskContext& context);

  void prepare(Tokenizer& tokenizer, bool fit_vocabulary) override;
  std::int64_t num_outputs() const override { return vocab_size_; }
  std::int64_t steps_per_epoch() const override {
    return static_cast<std::int64_t>(batches_.size());
  }
  void start_epoch(std::int64_t epoch) override;
  StepResult train_step(Model& model, std::int64_t step) override;
  Metrics evaluate(Model& model, const std::string& split) override;
  std::vector<std::string> eval_splits() const override;
  std::string primary_metric() const override { return options_.bleu ? "bleu" : "ppl"; }
  bool higher_is_better() const override { return options_.bleu; }
  std::vector<std::string> summary(const Metrics& final_metrics) const override;

  std::vector<std::string> translate(Model& model, const Tokenizer& tokenizer,
                                     const std::vector<std::string>& sources,
                                     const DecodeOptions& options) override;

  /// One sentence pair: source ids + <eos>; target <bos> + ids + <eos>.
  struct Pair {
    std::vector<std::int64_t> ids;  // the source (named `ids` for the SDK's batching helpers)
    std::vector<std::int64_t> target;
  };
  /// Batches of pair indices: sorted by length, cut where `rows * longest` would pass
  /// `max_tokens` (or at `max_rows` rows when max_tokens is 0).
  static std::vector<std::vector<std::int64_t>> token_batches(const std::vector<Pair>& pairs,
                                                              std::int64_t max_tokens,
                                                              std::int64_t max_rows);

 private:
  /// Sentence pairs as read, before tokenisation, with where each came from.
  struct Texts {
    std::vector<std::string> sources, targets;
    std::vector<std::int64_t> lines;  // 1-based line of each pair in its file(s)
    std::string source_path, target_path;
    bool one_file = false;  // both sides from `pairs`
    Texts pick(const std::vector<std::int64_t>& rows) const;
  };
  struct Split {
    std::vector<Pair> pairs;
    std::vector<std::string> references;  // target lines as read, for BLEU
    std::vector<std::string> sources;
  };
  Texts read_parallel(const std::string& source, const std::string& target,
                      const std::string& name) const;
  Texts read_pairs() const;
  Split encode_split(const Tokenizer& tokenizer, Texts texts, const std::string& name) const;
  /// The split `name` from its own files, or held out of the training pairs (`rows`).
  void add_eval_split(const Tokenizer& tokenizer, const std::string& name, double fraction,
                      const std::string& source, const std::string& target, const Texts& all,
                      const std::vector<std::int64_t>& rows);
  /// Lines showing the `rows` of `data` with the model's `outputs` for them, for summary().
  std::vector<std::string> sample_lines(const std::string& split, const Split& data,
                                        const std::vector<std::size_t>& rows,
                                        const std::vector<std::string>& outputs) const;
  /// Loss (summed nats) and target tokens of a batch of `pairs`.
  std::pair<torch::Tensor, std::int64_t> batch_loss(Model& model, const std::vector<Pair>& pairs,
                                                    const std::vector<std::int64_t>& indices,
                                                    double label_smoothing);
  std::vector<std::string> decode_sentences(Model& model, const Tokenizer& tokenizer,
                                            const std::vector<std::vector<std::int64_t>>& sources,
                                            const DecodeOptions& options) const;
  DecodeOptions eval_decode_options() const;

  Options options_;
  TaskContext context_;
  const Tokenizer* tokenizer_ = nullptr;
  std::int64_t vocab_size_ = 0;
  std::vector<Pair> train_;
  std::vector<std::vector<std::int64_t>> batches_;
  std::vector<std::int64_t> order_;  // this epoch's batch order
  std::map<std::string, Split> eval_;
  std::map<std::string, std::vector<std::string>> samples_;  // per split, its last evaluation's
};

}  // namespace lmforge
