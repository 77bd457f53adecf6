#include "tasks/classification.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iomanip>
#include <numeric>
#include <random>
#include <set>
#include <sstream>
#include <tuple>

#include "data/text_file.h"
#include "io/atomic_file.h"
#include "lmforge/error.h"
#include "lmforge/vocabulary.h"
#include "text/utf8.h"

namespace lmforge {
namespace {

// Independent random streams derived from the recipe seed, so changing e.g. `fraction` does not
// change which examples are held out for validation or how epochs are shuffled.
enum class Stream : std::uint32_t { kHoldout = 1, kFraction = 2, kLimit = 3, kEpoch = 4 };

std::mt19937_64 make_rng(std::uint64_t seed, Stream stream, std::uint64_t value = 0) {
  std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                    static_cast<std::uint32_t>(stream), static_cast<std::uint32_t>(value),
                    static_cast<std::uint32_t>(value >> 32)};
  return std::mt19937_64(seq);
}

// std::shuffle's sequence is implementation-defined; this Fisher-Yates is the same with every
// standard library, so a seed selects the same examples and batches everywhere.
template <class T>
void shuffle(std::vector<T>& items, std::mt19937_64& rng) {
  for (std::size_t i = items.size(); i > 1; --i) {
    std::swap(items[i - 1], items[static_cast<std::size_t>(rng() % i)]);
  }
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string trim(std::string_view s) {
  std::size_t begin = 0, end = s.size();
  while (begin < end && is_space(s[begin])) ++begin;
  while (end > begin && is_space(s[end - 1])) --end;
  return std::string(s.substr(begin, end - begin));
}

bool blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return is_space(c); });
}

// Editors on Windows put a byte-order mark before the first label; it must not become part of it.
std::string strip_bom(const std::string& line, std::int64_t number) {
  static const std::string kBom = "\xEF\xBB\xBF";
  if (number == 1 && line.compare(0, kBom.size(), kBom) == 0) return line.substr(kBom.size());
  return line;
}

std::string where(const std::string& path, std::int64_t line) {
  return path + ":" + std::to_string(line);
}

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

std::string join(const std::vector<std::string>& items, std::size_t max_items) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < max_items; ++i) {
    out += (i ? ", " : "") + items[i];
  }
  if (items.size() > max_items) out += ", ... (" + std::to_string(items.size()) + " in all)";
  return out;
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

template <class T>
std::vector<T> pick(const std::vector<T>& items, const std::vector<std::size_t>& indices) {
  std::vector<T> out;
  out.reserve(indices.size());
  for (std::size_t i : indices) out.push_back(items[i]);
  return out;
}

// Pads or cuts `s` to `width` code points, so UTF-8 labels line up in the confusion matrix.
std::string fit(const std::string& s, std::size_t width, bool right) {
  std::u32string cps = text::decode_utf8(s);
  if (cps.size() > width) cps.resize(width);
  std::string body = text::encode_utf8(cps);
  std::string pad(width - cps.size(), ' ');
  return right ? pad + body : body + pad;
}

std::string fixed(double value, int digits = 4) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << value;
  return s.str();
}

// Restores the model's training flag however evaluation ends.
class ModeGuard {
 public:
  explicit ModeGuard(Model& model) : model_(model), was_training_(model.is_training()) {
    model_.eval();
  }
  ~ModeGuard() { model_.train(was_training_); }

 private:
  Model& model_;
  bool was_training_;
};

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
  if (!(options_.fraction > 0 && options_.fraction <= 1)) {
    throw ConfigError(context_.place,
                      "fraction must be in (0, 1], got " + std::to_string(options_.fraction));
  }
  if (!(options_.valid_fraction >= 0 && options_.valid_fraction < 1)) {
    throw ConfigError(context_.place, "valid_fraction must be in [0, 1), got " +
                                          std::to_string(options_.valid_fraction));
  }
  if (options_.valid_fraction > 0 && !options_.valid.empty()) {
    throw ConfigError(context_.place,
                      "valid_fraction holds out training data only when there is no valid file; "
                      "give one or the other");
  }
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
    auto rng = make_rng(context_.seed, Stream::kHoldout);
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
    auto rng = make_rng(context_.seed, Stream::kFraction);
    double f = options_.fraction;
    auto [kept, rest] = stratified_split(train_labels, num_labels, rng, [f](std::size_t n) {
      return std::max<std::size_t>(
          1, static_cast<std::size_t>(std::llround(static_cast<double>(n) * f)));
    });
    train = pick(train, kept);
    train_labels = pick(train_labels, kept);
  }
  if (options_.limit > 0 && options_.limit < static_cast<std::int64_t>(train.size())) {
    auto rng = make_rng(context_.seed, Stream::kLimit);
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
  static const std::vector<Example> kNone;
  auto it = splits_.find(split);
  return it == splits_.end() ? kNone : it->second;
}

std::int64_t ClassificationTask::steps_per_epoch() const {
  auto n = static_cast<std::int64_t>(examples("train").size());
  auto b = std::max<std::int64_t>(1, context_.batch_size);
  return (n + b - 1) / b;
}

void ClassificationTask::start_epoch(std::int64_t epoch) {
  const auto& train = examples("train");
  auto b = static_cast<std::size_t>(std::max<std::int64_t>(1, context_.batch_size));
  std::vector<std::int64_t> order(train.size());
  std::iota(order.begin(), order.end(), 0);
  auto rng = make_rng(context_.seed, Stream::kEpoch, static_cast<std::uint64_t>(epoch));
  shuffle(order, rng);
  // Length bucketing: similar lengths share a batch (little padding) while the chunking and the
  // shuffled batch order keep batches varied from epoch to epoch.
  const std::size_t chunk = 50 * b;
  auto longer = [&](std::int64_t x, std::int64_t y) {
    return train[x].ids.size() > train[y].ids.size();
  };
  for (std::size_t start = 0; start < order.size(); start += chunk) {
    std::size_t end = std::min(order.size(), start + chunk);
    std::stable_sort(order.begin() + start, order.begin() + end, longer);
  }
  epoch_batches_.clear();
  for (std::size_t start = 0; start < order.size(); start += b) {
    std::size_t end = std::min(order.size(), start + b);
    epoch_batches_.emplace_back(order.begin() + start, order.begin() + end);
  }
  shuffle(epoch_batches_, rng);
  epoch_ = epoch;
}

ClassificationTask::Batch ClassificationTask::make_batch(const std::vector<Example>& examples,
                                                         const std::vector<std::int64_t>& indices) {
  auto rows = static_cast<std::int64_t>(indices.size());
  std::int64_t width = 1;
  for (auto i : indices) width = std::max<std::int64_t>(width, examples[i].ids.size());
  Batch batch;
  batch.tokens = torch::full({rows, width}, Vocabulary::kPad, torch::kLong);
  batch.mask = torch::zeros({rows, width}, torch::kBool);
  batch.labels = torch::empty({rows}, torch::kLong);
  auto tokens = batch.tokens.accessor<std::int64_t, 2>();
  auto mask = batch.mask.accessor<bool, 2>();
  auto labels = batch.labels.accessor<std::int64_t, 1>();
  for (std::int64_t r = 0; r < rows; ++r) {
    const Example& e = examples[indices[r]];
    for (std::size_t t = 0; t < e.ids.size(); ++t) {
      tokens[r][t] = e.ids[t];
      mask[r][t] = true;
    }
    labels[r] = e.label;
    batch.real_tokens += static_cast<std::int64_t>(e.ids.size());
  }
  return batch;
}

ClassificationTask::Batch ClassificationTask::train_batch(std::int64_t step) {
  if (epoch_ < 0) start_epoch(0);
  if (step < 0 || step >= static_cast<std::int64_t>(epoch_batches_.size())) {
    throw Error(context_.place, "training step " + std::to_string(step) + " is outside the " +
                                    std::to_string(epoch_batches_.size()) + " batches of an epoch");
  }
  return make_batch(examples("train"), epoch_batches_[step]);
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
  return StepResult{loss, batch.real_tokens, false};
}

Metrics ClassificationTask::evaluate(Model& model, const std::string& split) {
  const auto& data = examples(split);
  if (data.empty() || split == "train") return {};
  torch::NoGradGuard no_grad;
  ModeGuard mode(model);
  std::vector<std::int64_t> order(data.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::int64_t x, std::int64_t y) {
    return data[x].ids.size() > data[y].ids.size();
  });
  auto classes = labels_.size();
  std::vector<std::vector<std::int64_t>> confusion(classes, std::vector<std::int64_t>(classes, 0));
  auto b = static_cast<std::size_t>(std::max<std::int64_t>(1, context_.batch_size));
  double total_loss = 0;
  for (std::size_t start = 0; start < order.size(); start += b) {
    std::vector<std::int64_t> indices(order.begin() + start,
                                      order.begin() + std::min(order.size(), start + b));
    Batch batch = make_batch(data, indices);
    torch::Tensor logits = checked_logits(model, batch, context_.device);
    torch::Tensor loss = model.head().loss(logits, batch.labels.to(context_.device));
    total_loss += loss.item<double>() * static_cast<double>(indices.size());
    torch::Tensor predicted = logits.argmax(1).to(torch::kCPU);
    auto p = predicted.accessor<std::int64_t, 1>();
    auto t = batch.labels.accessor<std::int64_t, 1>();
    for (std::int64_t i = 0; i < p.size(0); ++i) ++confusion[t[i]][p[i]];
  }

  auto n = static_cast<double>(data.size());
  std::int64_t correct = 0;
  double f1_sum = 0;
  std::int64_t f1_classes = 0;
  Metrics metrics;
  for (std::size_t c = 0; c < classes; ++c) {
    std::int64_t tp = confusion[c][c], actual = 0, predicted = 0;
    for (std::size_t o = 0; o < classes; ++o) {
      actual += confusion[c][o];
      predicted += confusion[o][c];
    }
    correct += tp;
    double precision = predicted ? static_cast<double>(tp) / predicted : 0.0;
    double recall = actual ? static_cast<double>(tp) / actual : 0.0;
    metrics["precision." + labels_[c]] = precision;
    metrics["recall." + labels_[c]] = recall;
    // A label absent from both the split and the predictions has no defined F1; counting it as 0
    // would punish a model for a class it was never asked about.
    if (actual || predicted) {
      f1_sum += precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
      ++f1_classes;
    }
  }
  metrics["accuracy"] = static_cast<double>(correct) / n;
  metrics["macro_f1"] = f1_classes ? f1_sum / static_cast<double>(f1_classes) : 0.0;
  metrics["loss"] = total_loss / n;
  last_split_ = split;
  last_confusion_ = std::move(confusion);
  return metrics;
}

std::vector<std::string> ClassificationTask::eval_splits() const {
  std::vector<std::string> splits;
  for (const char* split : {"valid", "test"}) {
    if (!examples(split).empty()) splits.push_back(split);
  }
  return splits;
}

void ClassificationTask::save_artifacts(const std::string& dir) const {
  std::string text;
  for (const auto& label : labels_) text += label + "\n";
  io::write_text_atomically((std::filesystem::path(dir) / "labels.txt").string(), text);
}

void ClassificationTask::load_artifacts(const std::string& dir) {
  std::string path = (std::filesystem::path(dir) / "labels.txt").string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw DataError(path,
                    "the label set is missing; a classification stage writes it when it "
                    "prepares its data");
  }
  std::string text = io::read_text(path);
  std::vector<std::string> labels;
  std::map<std::string, std::int64_t> ids;
  std::stringstream lines(text);
  std::string line;
  std::int64_t number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (!ids.emplace(line, static_cast<std::int64_t>(labels.size())).second) {
      throw DataError(where(path, number), "label '" + line + "' appears twice");
    }
    labels.push_back(line);
  }
  if (labels.empty()) throw DataError(path, "the label set is empty");
  labels_ = std::move(labels);
  label_ids_ = std::move(ids);
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
  torch::Device device = context_.device;
  auto parameters = model.parameters();
  if (!parameters.empty()) device = parameters.front().device();

  std::vector<Example> data;
  data.reserve(texts.size());
  for (const auto& text : texts) data.push_back(encode(tokenizer, text, 0));
  std::vector<std::int64_t> order(data.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::int64_t x, std::int64_t y) {
    return data[x].ids.size() > data[y].ids.size();
  });
  torch::NoGradGuard no_grad;
  ModeGuard mode(model);
  auto b = static_cast<std::size_t>(std::max<std::int64_t>(1, context_.batch_size));
  for (std::size_t start = 0; start < order.size(); start += b) {
    std::vector<std::int64_t> indices(order.begin() + start,
                                      order.begin() + std::min(order.size(), start + b));
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

  const auto& m = last_confusion_;
  std::size_t classes = m.size();
  if (classes > 12) {
    // A 47x47 matrix (TREC fine) is unreadable on a terminal; the largest confusions say more.
    std::vector<std::tuple<std::int64_t, std::size_t, std::size_t>> pairs;
    for (std::size_t t = 0; t < classes; ++t) {
      for (std::size_t p = 0; p < classes; ++p) {
        if (t != p && m[t][p] > 0) pairs.emplace_back(-m[t][p], t, p);
      }
    }
    std::sort(pairs.begin(), pairs.end());
    std::string line = "most frequent confusions on " + last_split_ + " (true -> predicted):";
    if (pairs.empty()) line += " none";
    for (std::size_t i = 0; i < pairs.size() && i < 8; ++i) {
      auto [count, t, p] = pairs[i];
      line += (i ? ", " : " ") + labels_[t] + " -> " + labels_[p] + " " + std::to_string(-count);
    }
    lines.push_back(line);
    return lines;
  }
  std::int64_t largest = 0;
  std::size_t longest = 0;
  for (std::size_t c = 0; c < classes; ++c) {
    largest = std::max(largest, *std::max_element(m[c].begin(), m[c].end()));
    longest = std::max(longest, text::decode_utf8(labels_[c]).size());
  }
  std::size_t row_width = std::min<std::size_t>(longest, 12);
  std::size_t cell = std::max(std::to_string(largest).size(), std::min<std::size_t>(longest, 6));
  lines.push_back("confusion matrix on " + last_split_ + " (rows: true label, columns: predicted)");
  std::string head = std::string(row_width, ' ');
  for (std::size_t c = 0; c < classes; ++c) head += " " + fit(labels_[c], cell, true);
  lines.push_back(head);
  for (std::size_t t = 0; t < classes; ++t) {
    std::string row = fit(labels_[t], row_width, false);
    for (std::size_t p = 0; p < classes; ++p) row += " " + fit(std::to_string(m[t][p]), cell, true);
    lines.push_back(row);
  }
  return lines;
}

}  // namespace lmforge
