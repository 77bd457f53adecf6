#pragma once
// Text classification: one label per example, padded batches, accuracy / macro-F1. Reads the
// common benchmark layouts directly (TSV/CSV columns, SST-2's "label text", TREC's
// "DESC:manner text", MR's one file per class) so data sets need no conversion script.
//
// Example (recipe):
//   task: {type: classification, train: ${data}/trec/train.txt, format: trec, fraction: 0.1}
//   head: {type: classifier}
#include <map>
#include <string>
#include <vector>

#include "lmforge/labelled_task.h"
#include "lmforge/labelled_text.h"

namespace lmforge {

struct ClassificationOptions : LabelledDataOptions, LabelledTextFormat {
  void visit(OptionVisitor& v);
};

class ClassificationTask : public LabelledTask {
 public:
  using Options = ClassificationOptions;
  using Record = LabelledRecord;

  ClassificationTask(const Options& options, const TaskContext& context);

  void prepare(Tokenizer& tokenizer, bool fit_vocabulary) override;

  /// Reads one train/valid/test option value in `options.format`.
  static std::vector<Record> read_records(const Options& options, const std::string& spec,
                                          const std::string& option, const std::string& place);

 protected:
  std::vector<Example> encode_for_prediction(const Tokenizer& tokenizer, const std::string& text,
                                             std::vector<std::string>& words) const override;
  std::string baseline_note(const std::string& split) const override;

 private:
  Example encode(const Tokenizer& tokenizer, const std::string& text, std::int64_t label) const;

  Options options_;
  std::map<std::string, double> majority_baseline_;  // split -> accuracy of the majority class
};

}  // namespace lmforge
