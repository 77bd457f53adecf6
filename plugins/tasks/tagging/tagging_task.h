#pragma once
// Sequence labelling (POS tags, BIO entity tags): one label per token, read from CoNLL-style files
// — one `token<TAB or spaces>...label` per line, a blank line between sentences. Each token is
// looked up whole in the tokenizer's vocabulary, never cut, so tokens and labels stay aligned.
// Padded batches, token accuracy / macro-F1 / per-label precision and recall.
//
// Example (recipe):
//   task: {type: tagging, train: ${data}/conll/train.txt, valid: ..., test: ..., fraction: 0.1}
//   head: {type: tagger}
#include <map>
#include <string>
#include <vector>

#include "lmforge/labelled_task.h"
#include "lmforge/labelled_text.h"

namespace lmforge {

struct TaggingOptions : LabelledDataOptions, ConllFormat {
  void visit(OptionVisitor& v);
};

class TaggingTask : public LabelledTask {
 public:
  using Options = TaggingOptions;
  using Sentence = ConllSentence;

  TaggingTask(const Options& options, const TaskContext& context);

  void prepare(Tokenizer& tokenizer, bool fit_vocabulary) override;

  /// Reads one CoNLL-style file. Throws DataError at "path:line" for a malformed line.
  static std::vector<Sentence> read_sentences(const Options& options, const std::string& path,
                                              const std::string& option, const std::string& place);
  /// Vocabulary id of one whole token: the tokenizer's pieces of it glued back together (so a
  /// lowercasing tokenizer lowercases), looked up as one entry; <unk> when absent.
  static std::int64_t token_id(const Tokenizer& tokenizer, const std::string& token);

  /// Token accuracy of tagging every token of `split` with the training data's most frequent tag,
  /// and with each word's most frequent training tag (that majority for unseen words); -1 when
  /// the split has no data.
  double majority_baseline(const std::string& split) const;
  double word_baseline(const std::string& split) const;

 protected:
  std::vector<Example> encode_for_prediction(const Tokenizer& tokenizer, const std::string& text,
                                             std::vector<std::string>& words) const override;
  std::string baseline_note(const std::string& split) const override;

 private:
  /// The sentence's pieces of at most max_length tokens; `label_ids` empty when unlabelled.
  std::vector<Example> encode(const Tokenizer& tokenizer, const std::vector<std::string>& tokens,
                              const std::vector<std::int64_t>& label_ids) const;
  void compute_baselines();

  Options options_;
  std::map<std::string, double> majority_baseline_;
  std::map<std::string, double> word_baseline_;
};

}  // namespace lmforge
