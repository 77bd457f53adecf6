#include "tasks/classification.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <numeric>
#include <random>
#include <set>
#include <sstream>
#include <tuple>

#include "data/text_file.h"
#include "lmforge/error.h"
#include "lmforge/vocabulary.h"
#include "tasks/task_support.h"

namespace lmforge {
using task_support::batch_rows;
using task_support::blank;
using task_support::fixed;
using task_support::is_space;
using task_support::join;
using task_support::pick;
using task_support::seeded_rng;
using task_support::shuffle;
using task_support::strip_bom;
using task_support::trim;
using task_support::where;

namespace {

// Independent random streams derived from the recipe seed, so changing e.g. `fraction` does not
// change which examples are held out for validation or how epochs are shuffled.
enum Stream : std::uint32_t { kHoldout = 1, kFraction = 2, kLimit = 3, kEpoch = 4 };

// RFC 4180 fields: a field that starts with '"' may hold commas, "" and line breaks. A record
// whose quotes are still open at the end of a line continues on the next one.
class CsvParser {
 public:
  /// Feeds one line; true when it completed a record, now in fields().
  bool feed(const std::string& line) {
    if (in_quotes_) {
      field_ += '\n';
    } else {
      fields_.clear();
      field_.clear();
      field_start_ = true;
    }
    for (std::size_t i = 0; i < line.size(); ++i) {
      char c = line[i];
      if (in_quotes_) {
        if (c != '"') {
          field_ += c;
        } else if (i + 1 < line.size() && line[i + 1] == '"') {
          field_ += '"';
          ++i;
        } else {
          in_quotes_ = false;
        }
      } else if (c == ',') {
        fields_.push_back(std::move(field_));
        field_.clear();
        field_start_ = true;
      } else if (c == '"' && field_start_) {
        field_.clear();  // spaces before the opening quote are not content
        in_quotes_ = true;
        field_start_ = false;
      } else {
        field_ += c;
        if (!is_space(c)) field_start_ = false;
      }
    }
    if (in_quotes_) return false;
    fields_.push_back(std::move(field_));
    field_.clear();
    return true;
  }
  bool open() const { return in_quotes_; }
  const std::vector<std::string>& fields() const { return fields_; }

 private:
  std::vector<std::string> fields_;
  std::string field_;
  bool in_quotes_ = false;
  bool field_start_ = true;
};

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  while (true) {
    std::size_t tab = line.find('\t', start);
    fields.push_back(
        line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
    if (tab == std::string::npos) return fields;
    start = tab + 1;
  }
}

ClassificationTask::Record columns_record(const ClassificationOptions& options,
                                          const std::vector<std::string>& fields,
                                          const std::string& place, const char* separator) {
  auto needed = std::max(options.text_column, options.label_column) + 1;
  if (static_cast<std::int64_t>(fields.size()) < needed) {
    throw DataError(place, "expected at least " + std::to_string(needed) + " " + separator +
                               "-separated columns (text_column " +
                               std::to_string(options.text_column) + ", label_column " +
                               std::to_string(options.label_column) + "), found " +
                               std::to_string(fields.size()));
  }
  std::string label = trim(fields[options.label_column]);
  if (label.empty()) throw DataError(place, "empty label");
  // labels.txt holds one label per line.
  if (label.find('\n') != std::string::npos) throw DataError(place, "label spans several lines");
  return {label, fields[options.text_column], place};
}

// "LABEL<whitespace>TEXT"; returns {label, text}.
std::pair<std::string, std::string> split_label(const std::string& line, const std::string& place,
                                                const char* expected) {
  std::size_t begin = 0;
  while (begin < line.size() && is_space(line[begin])) ++begin;
  std::size_t end = begin;
  while (end < line.size() && !is_space(line[end])) ++end;
  if (end == line.size()) {
    throw DataError(place, std::string("expected ") + expected + ", found '" + trim(line) + "'");
  }
  return {line.substr(begin, end - begin), trim(std::string_view(line).substr(end))};
}

// Keeps the first `keep(n)` of each label's shuffled indices; returns {kept, rest}, each in file
// order so the result depends on the seed only.
std::pair<std::vector<std::size_t>, std::vector<std::size_t>> stratified_split(
    const std::vector<std::int64_t>& labels, std::int64_t num_labels, std::mt19937_64& rng,
    const std::function<std::size_t(std::size_t)>& keep) {
  std::vector<std::vector<std::size_t>> by_label(static_cast<std::size_t>(num_labels));
  for (std::size_t i = 0; i < labels.size(); ++i) by_label[labels[i]].push_back(i);
  std::vector<std::size_t> kept, rest;
  for (auto& indices : by_label) {
    if (indices.empty()) continue;
    shuffle(indices, rng);
    std::size_t k = std::min(indices.size(), keep(indices.size()));
    kept.insert(kept.end(), indices.begin(), indices.begin() + k);
    rest.insert(rest.end(), indices.begin() + k, indices.end());
  }
  std::sort(kept.begin(), kept.end());
  std::sort(rest.begin(), rest.end());
  return {kept, rest};
}

}  // namespace

void ClassificationOptions::visit(OptionVisitor& v) {
  v.field("train", train,
          "training data: a file, or for format files_per_class 'label=path,label=path'")
      .required();
  v.field("valid", valid, "validation data (evaluated each epoch), same form as train");
  v.field("test", test, "test data (evaluated at the end), same form as train");
  v.choice("format", format, {"tsv", "csv", "label_first", "trec", "files_per_class"},
           "tsv/csv: label and text columns; label_first: 'LABEL TEXT' (SST-2 stsa.binary); "
           "trec: 'DESC:manner TEXT'; files_per_class: one example per line, one file per label");
  v.field("text_column", text_column, "tsv/csv: 0-based column of the text").non_negative();
  v.field("label_column", label_column, "tsv/csv: 0-based column of the label").non_negative();
  v.field("header", header, "tsv/csv: the first record is a header and is skipped");
  v.choice("trec_labels", trec_labels, {"coarse", "fine"},
           "trec: coarse labels ('DESC') or fine ones ('DESC:manner')");
  v.field("encoding", encoding, "text encoding: utf-8, cp1252 or latin-1");
  v.field("limit", limit,
          "keep only this many training examples, chosen at random with the seed (0 = all)")
      .non_negative();
  v.field("fraction", fraction,
          "keep this fraction of the training examples of each label (at least one), chosen at "
          "random with the seed; for label-efficiency experiments")
      .range(0, 1);
  v.field("valid_fraction", valid_fraction,
          "without a valid file, hold out this fraction of each label's training examples for "
          "validation (0 = none)")
      .range(0, 1);
  v.field("max_length", max_length, "longer texts keep their first max_length tokens").positive();
}

ClassificationTask::ClassificationTask(const Options& options, const TaskContext& context)
    : options_(options), context_(context) {
  task_support::check_sampling(context_.place, options_.fraction, options_.valid_fraction,
                               options_.valid);
  if ((options_.format == "tsv" || options_.format == "csv") &&
      options_.text_column == options_.label_column) {
    throw ConfigError(context_.place, "text_column and label_column are both " +
                                          std::to_string(options_.text_column));
  }
}

std::vector<ClassificationTask::Record> ClassificationTask::read_records(const Options& options,
                                                                         const std::string& spec,
                                                                         const std::string& option,
                                                                         const std::string& place) {
  std::vector<Record> records;
  if (options.format == "files_per_class") {
    std::vector<std::pair<std::string, std::string>> entries;
    std::stringstream list(spec);
    std::string entry;
    while (std::getline(list, entry, ',')) {
      entry = trim(entry);
      if (entry.empty()) continue;
      auto eq = entry.find('=');
      std::string label = eq == std::string::npos ? "" : trim(entry.substr(0, eq));
      std::string path = eq == std::string::npos ? "" : trim(entry.substr(eq + 1));
      if (label.empty() || path.empty()) {
        throw ConfigError(place, option + ": '" + entry +
                                     "' is not label=path (format files_per_class expects e.g. "
                                     "pos=rt-polarity.pos,neg=rt-polarity.neg)");
      }
      entries.emplace_back(label, path);
    }
    if (entries.empty()) {
      throw ConfigError(place, option + ": format files_per_class needs label=path entries");
    }
    for (const auto& entry_pair : entries) {
      const std::string& label = entry_pair.first;
      const std::string& path = entry_pair.second;
      require_readable_file(path, option, place);
      for_each_line(path, options.encoding, place, [&](const std::string& raw, std::int64_t n) {
        std::string line = strip_bom(raw, n);
        if (!blank(line)) records.push_back({label, line, where(path, n)});
      });
    }
    return records;
  }

  require_readable_file(spec, option, place);
  const std::string& path = spec;
  const std::string& format = options.format;
  CsvParser csv;
  std::int64_t record_start = 0;
  bool header_pending = options.header && (format == "tsv" || format == "csv");
  for_each_line(path, options.encoding, place, [&](const std::string& raw, std::int64_t n) {
    std::string line = strip_bom(raw, n);
    if (format == "csv") {
      if (!csv.open()) {
        if (blank(line)) return;
        record_start = n;
      }
      if (!csv.feed(line)) return;
      if (header_pending) {
        header_pending = false;
        return;
      }
      records.push_back(columns_record(options, csv.fields(), where(path, record_start), "comma"));
      return;
    }
    if (blank(line)) return;
    if (header_pending) {
      header_pending = false;
      return;
    }
    std::string at = where(path, n);
    if (format == "tsv") {
      records.push_back(columns_record(options, split_tabs(line), at, "tab"));
    } else if (format == "label_first") {
      auto [label, text] = split_label(line, at, "a label, whitespace, then the text");
      records.push_back({label, text, at});
    } else {  // trec
      auto [label, text] = split_label(line, at, "a TREC label such as DESC:manner, then the text");
      auto colon = label.find(':');
      if (colon == std::string::npos || colon == 0) {
        throw DataError(at, "expected a TREC label such as DESC:manner, found '" + label + "'");
      }
      if (options.trec_labels == "coarse") label = label.substr(0, colon);
      records.push_back({label, text, at});
    }
  });
  if (format == "csv" && csv.open()) {
    throw DataError(where(path, record_start), "quoted field is never closed");
  }
  return records;
}

ClassificationTask::Example ClassificationTask::encode(const Tokenizer& tokenizer,
                                                       const std::string& text,
                                                       std::int64_t label) const {
  Example example{tokenizer.encode(text), label};
  if (static_cast<std::int64_t>(example.ids.size()) > options_.max_length) {
    example.ids.resize(static_cast<std::size_t>(options_.max_length));
  }
  // An example with no tokens still counts in accuracy; one <unk> lets the backbone see it.
  if (example.ids.empty()) example.ids.push_back(Vocabulary::kUnk);
  return example;
}

void ClassificationTask::prepare(Tokenizer& tokenizer, bool fit_vocabulary) {
  std::vector<Record> train = read_records(options_, options_.train, "train", context_.place);
  if (train.empty()) {
    throw DataError(context_.place, "training data '" + options_.train + "' has no examples");
  }

  // The label set comes from the whole training file, so `fraction`/`limit` never change the
  // head's size or make a valid/test label unknown.
  std::set<std::string> unique;
  for (const auto& r : train) unique.insert(r.label);
  labels_.assign(unique.begin(), unique.end());
  label_ids_.clear();
  for (std::size_t i = 0; i < labels_.size(); ++i) {
    label_ids_[labels_[i]] = static_cast<std::int64_t>(i);
  }
  auto num_labels = static_cast<std::int64_t>(labels_.size());
  auto label_ids_of = [&](const std::vector<Record>& records) {
    std::vector<std::int64_t> ids;
    ids.reserve(records.size());
    for (const auto& r : records) {
      auto it = label_ids_.find(r.label);
      if (it == label_ids_.end()) {
        throw DataError(r.where, "label '" + r.label + "' does not occur in the training data (" +
                                     options_.train + "; labels: " + join(labels_, 20) + ")");
      }
      ids.push_back(it->second);
    }
    return ids;
  };

  std::map<std::string, std::vector<Record>> eval_records;
  for (const auto& [split, spec] :
       {std::pair<std::string, std::string>{"valid", options_.valid}, {"test", options_.test}}) {
    if (spec.empty()) continue;
    auto records = read_records(options_, spec, split, context_.place);
    if (records.empty()) {
      throw DataError(context_.place, split + " data '" + spec + "' has no examples");
    }
    eval_records[split] = std::move(records);
  }

  std::vector<std::int64_t> train_labels = label_ids_of(train);
  // Held out before fraction/limit so every label-efficiency run is scored on the same examples.
  if (options_.valid_fraction > 0) {
    auto rng = seeded_rng(context_.seed, Stream::kHoldout);
    double f = options_.valid_fraction;
    auto [held, rest] = stratified_split(train_labels, num_labels, rng, [f](std::size_t n) {
      // Keep at least one training example of every label.
      return std::min(n - 1, static_cast<std::size_t>(std::llround(static_cast<double>(n) * f)));
    });
    if (!held.empty()) eval_records["valid"] = pick(train, held);
    train = pick(train, rest);
    train_labels = pick(train_labels, rest);
  }
  if (options_.fraction < 1) {
    auto rng = seeded_rng(context_.seed, Stream::kFraction);
    double f = options_.fraction;
    auto [kept, rest] = stratified_split(train_labels, num_labels, rng, [f](std::size_t n) {
      return std::max<std::size_t>(
          1, static_cast<std::size_t>(std::llround(static_cast<double>(n) * f)));
    });
    train = pick(train, kept);
    train_labels = pick(train_labels, kept);
  }
  if (options_.limit > 0 && options_.limit < static_cast<std::int64_t>(train.size())) {
    auto rng = seeded_rng(context_.seed, Stream::kLimit);
    std::vector<std::size_t> order(train.size());
    std::iota(order.begin(), order.end(), 0);
    shuffle(order, rng);
    order.resize(static_cast<std::size_t>(options_.limit));
    std::sort(order.begin(), order.end());
    train = pick(train, order);
    train_labels = pick(train_labels, order);
  }

  // Only the examples actually trained on are counted: held-out or dropped text must not shape
  // the vocabulary of a label-efficiency run.
  if (fit_vocabulary) {
    for (const auto& r : train) tokenizer.count(r.text);
    tokenizer.build_vocabulary();
  }

  splits_.clear();
  majority_baseline_.clear();
  auto& train_examples = splits_["train"];
  train_examples.reserve(train.size());
  std::vector<std::int64_t> label_counts(static_cast<std::size_t>(num_labels), 0);
  for (std::size_t i = 0; i < train.size(); ++i) {
    train_examples.push_back(encode(tokenizer, train[i].text, train_labels[i]));
    ++label_counts[train_labels[i]];
  }
  auto majority = static_cast<std::int64_t>(
      std::max_element(label_counts.begin(), label_counts.end()) - label_counts.begin());
  auto baseline = [&](const std::vector<Example>& examples) {
    auto hits = std::count_if(examples.begin(), examples.end(),
                              [&](const Example& e) { return e.label == majority; });
    return static_cast<double>(hits) /
           static_cast<double>(std::max<std::size_t>(1, examples.size()));
  };
  majority_baseline_["train"] = baseline(train_examples);
  for (const auto& [split, records] : eval_records) {
    std::vector<std::int64_t> ids = label_ids_of(records);
    auto& examples = splits_[split];
    examples.reserve(records.size());
    for (std::size_t i = 0; i < records.size(); ++i) {
      examples.push_back(encode(tokenizer, records[i].text, ids[i]));
    }
    majority_baseline_[split] = baseline(examples);
  }
  epoch_ = -1;
  epoch_batches_.clear();
  last_confusion_.clear();
  last_split_.clear();
}

const std::vector<ClassificationTask::Example>& ClassificationTask::examples(
    const std::string& split) const {
  return task_support::split_examples(splits_, split);
}

std::int64_t ClassificationTask::steps_per_epoch() const {
  auto n = static_cast<std::int64_t>(examples("train").size());
  auto b = static_cast<std::int64_t>(batch_rows(context_.batch_size));
  return (n + b - 1) / b;
}

void ClassificationTask::start_epoch(std::int64_t epoch) {
  const auto& train = examples("train");
  auto rng = seeded_rng(context_.seed, Stream::kEpoch, static_cast<std::uint64_t>(epoch));
  epoch_batches_ =
      task_support::shuffled_length_buckets(train, batch_rows(context_.batch_size), rng);
  epoch_ = epoch;
}

ClassificationTask::Batch ClassificationTask::make_batch(const std::vector<Example>& examples,
                                                         const std::vector<std::int64_t>& indices) {
  auto padded = task_support::pad_tokens(examples, indices);
  Batch batch{padded.tokens, padded.mask, torch::empty({padded.tokens.size(0)}, torch::kLong),
              padded.real_tokens};
  auto labels = batch.labels.accessor<std::int64_t, 1>();
  for (std::int64_t r = 0; r < labels.size(0); ++r) labels[r] = examples[indices[r]].label;
  return batch;
}

ClassificationTask::Batch ClassificationTask::train_batch(std::int64_t step) {
  if (epoch_ < 0) start_epoch(0);
  task_support::check_step(context_.place, step, epoch_batches_.size());
  // Data-parallel: this rank's share of the global batch, its mean loss weighted by the share.
  const auto& batch = epoch_batches_[step];
  auto mine = shard_indices(batch, context_.rank, context_.world_size);
  batch_share_weight_ =
      shard_loss_weight(static_cast<std::int64_t>(mine.size()),
                        static_cast<std::int64_t>(batch.size()), context_.world_size);
  return make_batch(examples("train"), mine);
}

torch::Tensor ClassificationTask::checked_logits(Model& model, const Batch& batch,
                                                 torch::Device device) const {
  Features features =
      model.backbone().forward(BackboneInput{batch.tokens.to(device), batch.mask.to(device), {}});
  torch::Tensor logits = model.head().forward(features);
  if (logits.dim() != 2 || logits.size(0) != batch.tokens.size(0) ||
      logits.size(1) != static_cast<std::int64_t>(labels_.size())) {
    std::ostringstream shape;
    shape << logits.sizes();
    throw ConfigError(context_.place,
                      "classification needs a head that gives one score per label, shape [" +
                          std::to_string(batch.tokens.size(0)) + ", " +
                          std::to_string(labels_.size()) + "], but the head gave " + shape.str() +
                          "; use a pooled head such as 'classifier'");
  }
  return logits;
}

StepResult ClassificationTask::train_step(Model& model, std::int64_t step) {
  Batch batch = train_batch(step);
  torch::Tensor logits = checked_logits(model, batch, context_.device);
  torch::Tensor loss = model.head().loss(logits, batch.labels.to(context_.device));
  return StepResult{loss * batch_share_weight_, batch.real_tokens, false};
}

Metrics ClassificationTask::evaluate(Model& model, const std::string& split) {
  const auto& data = examples(split);
  if (data.empty() || split == "train") return {};
  torch::NoGradGuard no_grad;
  task_support::EvalMode mode(model);
  auto classes = labels_.size();
  task_support::Confusion confusion(classes, std::vector<std::int64_t>(classes, 0));
  double total_loss = 0;
  for (const auto& indices :
       task_support::longest_first_batches(data, batch_rows(context_.batch_size))) {
    Batch batch = make_batch(data, indices);
    torch::Tensor logits = checked_logits(model, batch, context_.device);
    torch::Tensor loss = model.head().loss(logits, batch.labels.to(context_.device));
    total_loss += loss.item<double>() * static_cast<double>(indices.size());
    torch::Tensor predicted = logits.argmax(1).to(torch::kCPU);
    auto p = predicted.accessor<std::int64_t, 1>();
    auto t = batch.labels.accessor<std::int64_t, 1>();
    for (std::int64_t i = 0; i < p.size(0); ++i) ++confusion[t[i]][p[i]];
  }

  Metrics metrics = task_support::confusion_metrics(confusion, labels_);
  metrics["loss"] = total_loss / static_cast<double>(data.size());
  last_split_ = split;
  last_confusion_ = std::move(confusion);
  return metrics;
}

std::vector<std::string> ClassificationTask::eval_splits() const {
  return task_support::eval_splits(splits_);
}

void ClassificationTask::save_artifacts(const std::string& dir) const {
  task_support::write_labels(dir, labels_);
}

void ClassificationTask::load_artifacts(const std::string& dir) {
  std::tie(labels_, label_ids_) = task_support::read_labels(dir, "classification");
}

torch::Tensor ClassificationTask::predict(Model& model, const Tokenizer& tokenizer,
                                          const std::vector<std::string>& texts) {
  if (labels_.empty()) {
    throw Error(context_.place, "no label set: prepare the data or load the stage's labels.txt");
  }
  auto classes = static_cast<std::int64_t>(labels_.size());
  torch::Tensor probabilities = torch::zeros({static_cast<std::int64_t>(texts.size()), classes});
  if (texts.empty()) return probabilities;
  // The predict command builds the task without knowing where the model lives; follow the model.
  torch::Device device = task_support::model_device(model, context_.device);

  std::vector<Example> data;
  data.reserve(texts.size());
  for (const auto& text : texts) data.push_back(encode(tokenizer, text, 0));
  torch::NoGradGuard no_grad;
  task_support::EvalMode mode(model);
  for (const auto& indices :
       task_support::longest_first_batches(data, batch_rows(context_.batch_size))) {
    torch::Tensor logits = checked_logits(model, make_batch(data, indices), device);
    torch::Tensor p = torch::softmax(logits.to(torch::kFloat), 1).to(torch::kCPU);
    probabilities.index_copy_(0, torch::tensor(indices, torch::kLong), p);
  }
  return probabilities;
}

std::vector<std::string> ClassificationTask::summary(const Metrics& final_metrics) const {
  std::vector<std::string> lines;
  for (const char* split : {"test", "valid"}) {
    auto accuracy = final_metrics.find(std::string(split) + ".accuracy");
    if (accuracy == final_metrics.end()) continue;
    std::string line = std::string(split) + " accuracy " + fixed(accuracy->second);
    auto baseline = majority_baseline_.find(split);
    if (baseline != majority_baseline_.end()) {
      line += " (majority-class baseline " + fixed(baseline->second) + ")";
    }
    auto f1 = final_metrics.find(std::string(split) + ".macro_f1");
    if (f1 != final_metrics.end()) line += ", macro-F1 " + fixed(f1->second);
    lines.push_back(line);
    break;
  }
  if (last_confusion_.empty()) return lines;
  for (auto& line :
       task_support::confusion_report(last_confusion_, labels_, last_split_, "label")) {
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace lmforge
