#include "classification_task.h"

#include <algorithm>
#include <set>

#include "lmforge/error.h"
#include "lmforge/text_util.h"
#include "lmforge/vocabulary.h"

namespace lmforge {

void ClassificationOptions::visit(OptionVisitor& v) {
  visit_data(v, "training data: a file, or for format files_per_class 'label=path,label=path'",
             Unit::kExamples);
  visit_format(v, {"tsv", "csv", "label_first", "trec", "files_per_class"});
}

ClassificationTask::ClassificationTask(const Options& options, const TaskContext& context)
    : LabelledTask(context,
                   Traits{"classification", LabelledTask::Granularity::kText,
                          "a pooled head such as 'classifier'", "label", "accuracy",
                          /*stream_base: streams 1-4, as before the task became a plugin*/ 0},
                   options),
      options_(options) {
  if ((options_.format == "tsv" || options_.format == "csv") &&
      options_.text_column == options_.label_column) {
    throw ConfigError(context.place, "text_column and label_column are both " +
                                         std::to_string(options_.text_column));
  }
}

std::vector<ClassificationTask::Record> ClassificationTask::read_records(const Options& options,
                                                                         const std::string& spec,
                                                                         const std::string& option,
                                                                         const std::string& place) {
  return read_labelled_text(options, options.encoding, spec, option, place);
}

ClassificationTask::Example ClassificationTask::encode(const Tokenizer& tokenizer,
                                                       const std::string& text,
                                                       std::int64_t label) const {
  Example example{tokenizer.encode(text), {label}};
  if (static_cast<std::int64_t>(example.ids.size()) > options_.max_length) {
    example.ids.resize(static_cast<std::size_t>(options_.max_length));
  }
  // An example with no tokens still counts in accuracy; one <unk> lets the backbone see it.
  if (example.ids.empty()) example.ids.push_back(Vocabulary::kUnk);
  return example;
}

void ClassificationTask::prepare(Tokenizer& tokenizer, bool fit_vocabulary) {
  const std::string& place = context().place;
  std::vector<Record> train = read_records(options_, options_.train, "train", place);
  if (train.empty()) {
    throw DataError(place, "training data '" + options_.train + "' has no examples");
  }
  // The label set comes from the whole training file, so `fraction`/`limit` never change the
  // head's size or make a valid/test label unknown.
  std::set<std::string> unique;
  for (const auto& r : train) unique.insert(r.label);
  set_labels({unique.begin(), unique.end()});
  auto label_ids_of = [&](const std::vector<Record>& records) {
    std::vector<std::int64_t> ids;
    ids.reserve(records.size());
    for (const auto& r : records) ids.push_back(label_id(r.label, r.where));
    return ids;
  };

  std::map<std::string, std::vector<Record>> eval_records;
  for (const auto& [split, spec] :
       {std::pair<std::string, std::string>{"valid", options_.valid}, {"test", options_.test}}) {
    if (spec.empty()) continue;
    auto records = read_records(options_, spec, split, place);
    if (records.empty()) throw DataError(place, split + " data '" + spec + "' has no examples");
    eval_records[split] = std::move(records);
  }

  std::vector<std::int64_t> train_labels = label_ids_of(train);
  auto selection = select_training(train.size(), train_labels);
  if (!selection.held_out.empty())
    eval_records["valid"] = batching::pick(train, selection.held_out);
  train = batching::pick(train, selection.train);
  train_labels = batching::pick(train_labels, selection.train);

  // Only the examples actually trained on are counted: held-out or dropped text must not shape
  // the vocabulary of a label-efficiency run.
  if (fit_vocabulary) {
    for (const auto& r : train) tokenizer.count(r.text);
    tokenizer.build_vocabulary();
  }

  majority_baseline_.clear();
  std::vector<Example> train_examples;
  train_examples.reserve(train.size());
  std::vector<std::int64_t> label_counts(labels().size(), 0);
  for (std::size_t i = 0; i < train.size(); ++i) {
    train_examples.push_back(encode(tokenizer, train[i].text, train_labels[i]));
    ++label_counts[train_labels[i]];
  }
  auto majority = static_cast<std::int64_t>(
      std::max_element(label_counts.begin(), label_counts.end()) - label_counts.begin());
  auto baseline = [&](const std::vector<Example>& examples) {
    auto hits = std::count_if(examples.begin(), examples.end(),
                              [&](const Example& e) { return e.labels.front() == majority; });
    return static_cast<double>(hits) /
           static_cast<double>(std::max<std::size_t>(1, examples.size()));
  };
  majority_baseline_["train"] = baseline(train_examples);
  set_examples("train", std::move(train_examples));
  for (const auto& [split, records] : eval_records) {
    std::vector<std::int64_t> ids = label_ids_of(records);
    std::vector<Example> examples;
    examples.reserve(records.size());
    for (std::size_t i = 0; i < records.size(); ++i) {
      examples.push_back(encode(tokenizer, records[i].text, ids[i]));
    }
    majority_baseline_[split] = baseline(examples);
    set_examples(split, std::move(examples));
  }
  report_unknown_share(!fit_vocabulary);
}

std::vector<ClassificationTask::Example> ClassificationTask::encode_for_prediction(
    const Tokenizer& tokenizer, const std::string& text, std::vector<std::string>&) const {
  return {encode(tokenizer, text, 0)};
}

std::string ClassificationTask::baseline_note(const std::string& split) const {
  auto baseline = majority_baseline_.find(split);
  if (baseline == majority_baseline_.end()) return "";
  return " (majority-class baseline " + text_util::fixed(baseline->second) + ")";
}

}  // namespace lmforge
