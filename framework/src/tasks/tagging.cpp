#include "tasks/tagging.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
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
using task_support::join;
using task_support::pick;
using task_support::seeded_rng;
using task_support::shuffle;
using task_support::strip_bom;
using task_support::trim;
using task_support::where;

namespace {

constexpr std::int64_t kIgnore = -100;  // head.h: targets the loss skips

// Separate random streams per purpose, so e.g. changing `fraction` leaves the held-out
// validation sentences and the epoch order of a given training set alone.
enum Stream : std::uint32_t { kHoldout = 11, kFraction = 12, kLimit = 13, kEpoch = 14 };

// `keep` indices of 0..n-1 chosen at random, in file order, and the others.
std::pair<std::vector<std::size_t>, std::vector<std::size_t>> choose(std::size_t n,
                                                                     std::size_t keep,
                                                                     std::mt19937_64 rng) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  shuffle(order, rng);
  keep = std::min(keep, n);
  std::vector<std::size_t> kept(order.begin(), order.begin() + keep);
  std::vector<std::size_t> rest(order.begin() + keep, order.end());
  std::sort(kept.begin(), kept.end());
  std::sort(rest.begin(), rest.end());
  return {kept, rest};
}

// Column and word gaps: spaces and tabs but not line breaks, which data lines never hold and a
// `predict --text` keeps inside its words.
bool is_blank_char(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// "whitespace": runs of spaces and tabs separate; "tab": each tab separates (tokens may then hold
// spaces) and fields are trimmed.
std::vector<std::string> split_fields(const std::string& line, const std::string& separator) {
  std::vector<std::string> fields;
  if (separator == "tab") {
    std::stringstream in(line);
    std::string field;
    while (std::getline(in, field, '\t')) fields.push_back(trim(field));
    if (!line.empty() && line.back() == '\t') fields.emplace_back();
    return fields;
  }
  std::size_t pos = 0;
  while (pos < line.size()) {
    while (pos < line.size() && is_blank_char(line[pos])) ++pos;
    std::size_t end = pos;
    while (end < line.size() && !is_blank_char(line[end])) ++end;
    if (end > pos) fields.push_back(line.substr(pos, end - pos));
    pos = end;
  }
  return fields;
}

std::vector<std::string> words_of(const std::string& text) {
  return split_fields(text, "whitespace");
}

}  // namespace

void TaggingOptions::visit(OptionVisitor& v) {
  v.field("train", train,
          "training data: one 'token ... label' per line, a blank line between sentences")
      .required();
  v.field("valid", valid, "validation data (evaluated each epoch), same format as train");
  v.field("test", test, "test data (evaluated at the end), same format as train");
  v.field("token_column", token_column,
          "0-based column of the token; a negative value counts from the end");
  v.field("label_column", label_column,
          "0-based column of the label; a negative value counts from the end (-1 = last)");
  v.choice("separator", separator, {"whitespace", "tab"},
           "whitespace: spaces and tabs separate columns; tab: only tabs do, so a token may "
           "hold spaces");
  v.field("comment_prefix", comment_prefix,
          "lines starting with this are skipped ('' = none); CoNLL-2003's -DOCSTART- lines end "
          "a sentence and are skipped too");
  v.field("encoding", encoding, "text encoding: utf-8, cp1252 or latin-1");
  v.field("limit", limit,
          "keep only this many training sentences, chosen at random with the seed (0 = all)")
      .non_negative();
  v.field("fraction", fraction,
          "keep this fraction of the training sentences (at least one), chosen at random with "
          "the seed; for label-efficiency experiments")
      .range(0, 1);
  v.field("valid_fraction", valid_fraction,
          "without a valid file, hold out this fraction of the training sentences for "
          "validation (0 = none)")
      .range(0, 1);
  v.field("max_length", max_length,
          "longer sentences are cut into pieces of at most this many tokens (every token is "
          "still trained on and scored)")
      .positive();
}

TaggingTask::TaggingTask(const Options& options, const TaskContext& context)
    : options_(options), context_(context) {
  task_support::check_sampling(context_.place, options_.fraction, options_.valid_fraction,
                               options_.valid);
  if (options_.token_column == options_.label_column) {
    throw ConfigError(context_.place, "token_column and label_column are both " +
                                          std::to_string(options_.token_column));
  }
  if (options_.separator != "whitespace" && options_.separator != "tab") {
    throw ConfigError(context_.place,
                      "separator must be 'whitespace' or 'tab', got '" + options_.separator + "'");
  }
  if (options_.max_length < 1) {
    throw ConfigError(context_.place,
                      "max_length must be >= 1, got " + std::to_string(options_.max_length));
  }
}

std::vector<TaggingTask::Sentence> TaggingTask::read_sentences(const Options& options,
                                                               const std::string& path,
                                                               const std::string& option,
                                                               const std::string& place) {
  require_readable_file(path, option, place);
  std::vector<Sentence> sentences;
  Sentence current;
  auto end_sentence = [&] {
    if (!current.tokens.empty()) {
      current.path = path;
      sentences.push_back(std::move(current));
    }
    current = Sentence{};
  };
  const std::string& prefix = options.comment_prefix;
  for_each_line(path, options.encoding, place, [&](const std::string& raw, std::int64_t n) {
    std::string line = strip_bom(raw, n);
    if (blank(line)) return end_sentence();
    if (!prefix.empty() && line.compare(0, prefix.size(), prefix) == 0) return;
    std::vector<std::string> fields = split_fields(line, options.separator);
    if (!fields.empty() && fields[0] == "-DOCSTART-") return end_sentence();
    auto size = static_cast<std::int64_t>(fields.size());
    auto resolve = [&](std::int64_t c) { return c < 0 ? size + c : c; };
    std::int64_t token = resolve(options.token_column);
    std::int64_t label = resolve(options.label_column);
    if (token < 0 || token >= size || label < 0 || label >= size || token == label) {
      throw DataError(where(path, n),
                      "expected a token (column " + std::to_string(options.token_column) +
                          ") and a label (column " + std::to_string(options.label_column) +
                          "), found " + std::to_string(size) + " column" + (size == 1 ? "" : "s") +
                          " in '" + trim(line) + "'");
    }
    if (fields[token].empty()) throw DataError(where(path, n), "empty token");
    if (fields[label].empty()) throw DataError(where(path, n), "empty label");
    current.tokens.push_back(fields[token]);
    current.labels.push_back(fields[label]);
    current.lines.push_back(n);
  });
  end_sentence();
  return sentences;
}

std::int64_t TaggingTask::token_id(const Tokenizer& tokenizer, const std::string& token) {
  std::string key;
  for (const std::string& piece : tokenizer.split(token)) key += piece;
  return tokenizer.vocabulary().id(key);
}

std::vector<TaggingTask::Example> TaggingTask::encode(
    const Tokenizer& tokenizer, const Sentence& sentence,
    const std::vector<std::int64_t>& label_ids) const {
  std::vector<Example> pieces;
  const std::size_t n = sentence.tokens.size();
  const auto width = static_cast<std::size_t>(options_.max_length);
  for (std::size_t start = 0; start < n; start += width) {
    Example piece;
    for (std::size_t i = start; i < std::min(n, start + width); ++i) {
      piece.ids.push_back(token_id(tokenizer, sentence.tokens[i]));
      piece.labels.push_back(label_ids.empty() ? 0 : label_ids[i]);
    }
    pieces.push_back(std::move(piece));
  }
  return pieces;
}

void TaggingTask::prepare(Tokenizer& tokenizer, bool fit_vocabulary) {
  std::vector<Sentence> train = read_sentences(options_, options_.train, "train", context_.place);
  if (train.empty()) {
    throw DataError(context_.place, "training data '" + options_.train + "' has no sentences");
  }
  // From the whole training file, so `fraction`/`limit` never change the head's size.
  std::set<std::string> unique;
  for (const auto& s : train) unique.insert(s.labels.begin(), s.labels.end());
  labels_.assign(unique.begin(), unique.end());
  label_ids_.clear();
  for (std::size_t i = 0; i < labels_.size(); ++i) {
    label_ids_[labels_[i]] = static_cast<std::int64_t>(i);
  }
  auto ids_of = [&](const Sentence& s) {
    std::vector<std::int64_t> ids;
    ids.reserve(s.labels.size());
    for (std::size_t i = 0; i < s.labels.size(); ++i) {
      auto it = label_ids_.find(s.labels[i]);
      if (it == label_ids_.end()) {
        throw DataError(where(s.path, s.lines[i]),
                        "label '" + s.labels[i] + "' does not occur in the training data (" +
                            options_.train + "; labels: " + join(labels_, 20) + ")");
      }
      ids.push_back(it->second);
    }
    return ids;
  };

  std::map<std::string, std::vector<Sentence>> eval_sentences;
  for (const auto& [split, path] :
       {std::pair<std::string, std::string>{"valid", options_.valid}, {"test", options_.test}}) {
    if (path.empty()) continue;
    auto sentences = read_sentences(options_, path, split, context_.place);
    if (sentences.empty()) {
      throw DataError(context_.place, split + " data '" + path + "' has no sentences");
    }
    for (const auto& s : sentences) ids_of(s);  // an unknown label fails before any training
    eval_sentences[split] = std::move(sentences);
  }

  // Held out before fraction/limit so every label-efficiency run is scored on the same sentences.
  if (options_.valid_fraction > 0) {
    auto n = train.size();
    auto held = std::min(n - 1, static_cast<std::size_t>(std::llround(static_cast<double>(n) *
                                                                      options_.valid_fraction)));
    auto [valid, rest] = choose(n, held, seeded_rng(context_.seed, Stream::kHoldout));
    if (!valid.empty()) eval_sentences["valid"] = pick(train, valid);
    train = pick(train, rest);
  }
  if (options_.fraction < 1) {
    auto keep = std::max<std::size_t>(
        1, static_cast<std::size_t>(
               std::llround(static_cast<double>(train.size()) * options_.fraction)));
    train =
        pick(train, choose(train.size(), keep, seeded_rng(context_.seed, Stream::kFraction)).first);
  }
  if (options_.limit > 0 && options_.limit < static_cast<std::int64_t>(train.size())) {
    auto keep = static_cast<std::size_t>(options_.limit);
    train =
        pick(train, choose(train.size(), keep, seeded_rng(context_.seed, Stream::kLimit)).first);
  }

  // A token the tokenizer would cut (e.g. "U.S." with the word tokenizer) has no single piece to
  // count; it is looked up whole and is <unk> unless an earlier stage's vocabulary holds it.
  std::int64_t tokens = 0, cut = 0;
  std::string cut_example;
  for (const auto& s : train) {
    for (const auto& token : s.tokens) {
      ++tokens;
      if (tokenizer.split(token).size() == 1) {
        if (fit_vocabulary) tokenizer.count(token);
      } else if (++cut == 1) {
        cut_example = token;
      }
    }
  }
  if (2 * cut > tokens) {
    throw ConfigError(context_.place,
                      "tagging looks every token up whole, but the tokenizer cuts " +
                          std::to_string(cut) + " of the " + std::to_string(tokens) +
                          " training tokens (e.g. '" + cut_example +
                          "') into pieces; use tokenizer {type: word}");
  }
  if (fit_vocabulary) tokenizer.build_vocabulary();

  splits_.clear();
  auto encode_all = [&](const std::vector<Sentence>& sentences, std::vector<Example>& out) {
    for (const auto& s : sentences) {
      for (auto& piece : encode(tokenizer, s, ids_of(s))) out.push_back(std::move(piece));
    }
  };
  encode_all(train, splits_["train"]);
  for (const auto& [split, sentences] : eval_sentences) encode_all(sentences, splits_[split]);
  compute_baselines();
  epoch_ = -1;
  epoch_batches_.clear();
  last_confusion_.clear();
  last_split_.clear();
}

void TaggingTask::compute_baselines() {
  majority_baseline_.clear();
  word_baseline_.clear();
  std::vector<std::int64_t> tag_counts(labels_.size(), 0);
  std::map<std::int64_t, std::vector<std::int64_t>> word_tag_counts;
  for (const auto& e : examples("train")) {
    for (std::size_t i = 0; i < e.ids.size(); ++i) {
      ++tag_counts[e.labels[i]];
      auto& counts = word_tag_counts[e.ids[i]];
      if (counts.empty()) counts.assign(labels_.size(), 0);
      ++counts[e.labels[i]];
    }
  }
  auto most_frequent = [](const std::vector<std::int64_t>& counts) {
    return static_cast<std::int64_t>(std::max_element(counts.begin(), counts.end()) -
                                     counts.begin());
  };
  const std::int64_t majority = most_frequent(tag_counts);
  std::map<std::int64_t, std::int64_t> word_tag;
  for (const auto& [id, counts] : word_tag_counts) word_tag[id] = most_frequent(counts);
  for (const auto& [split, data] : splits_) {
    std::int64_t total = 0, majority_hits = 0, word_hits = 0;
    for (const auto& e : data) {
      for (std::size_t i = 0; i < e.ids.size(); ++i) {
        ++total;
        majority_hits += e.labels[i] == majority;
        auto it = word_tag.find(e.ids[i]);
        word_hits += e.labels[i] == (it == word_tag.end() ? majority : it->second);
      }
    }
    auto n = static_cast<double>(std::max<std::int64_t>(1, total));
    majority_baseline_[split] = static_cast<double>(majority_hits) / n;
    word_baseline_[split] = static_cast<double>(word_hits) / n;
  }
}

double TaggingTask::majority_baseline(const std::string& split) const {
  auto it = majority_baseline_.find(split);
  return it == majority_baseline_.end() ? -1.0 : it->second;
}

double TaggingTask::word_baseline(const std::string& split) const {
  auto it = word_baseline_.find(split);
  return it == word_baseline_.end() ? -1.0 : it->second;
}

const std::vector<TaggingTask::Example>& TaggingTask::examples(const std::string& split) const {
  return task_support::split_examples(splits_, split);
}

std::int64_t TaggingTask::steps_per_epoch() const {
  auto n = static_cast<std::int64_t>(examples("train").size());
  auto b = static_cast<std::int64_t>(batch_rows(context_.batch_size));
  return (n + b - 1) / b;
}

void TaggingTask::start_epoch(std::int64_t epoch) {
  const auto& train = examples("train");
  const std::size_t rows = batch_rows(context_.batch_size);
  auto rng = seeded_rng(context_.seed, Stream::kEpoch, static_cast<std::uint64_t>(epoch));
  epoch_batches_ = task_support::shuffled_length_buckets(train, rows, rng);
  epoch_ = epoch;
}

TaggingTask::Batch TaggingTask::make_batch(const std::vector<Example>& examples,
                                           const std::vector<std::int64_t>& indices) {
  auto padded = task_support::pad_tokens(examples, indices);
  Batch batch{padded.tokens, padded.mask, torch::full(padded.tokens.sizes(), kIgnore, torch::kLong),
              padded.real_tokens};
  auto targets = batch.targets.accessor<std::int64_t, 2>();
  for (std::int64_t r = 0; r < targets.size(0); ++r) {
    const Example& e = examples[indices[r]];
    for (std::size_t t = 0; t < e.labels.size(); ++t) targets[r][t] = e.labels[t];
  }
  return batch;
}

TaggingTask::Batch TaggingTask::train_batch(std::int64_t step) {
  if (epoch_ < 0) start_epoch(0);
  task_support::check_step(context_.place, step, epoch_batches_.size());
  // Data-parallel: this rank's share of the global batch; the loss is a mean over tokens, so the
  // share is weighted by its tokens.
  const auto& batch = epoch_batches_[step];
  auto mine = shard_indices(batch, context_.rank, context_.world_size);
  const auto& train = examples("train");
  std::int64_t all_tokens = 0, my_tokens = 0;
  for (auto i : batch) all_tokens += static_cast<std::int64_t>(train[i].ids.size());
  for (auto i : mine) my_tokens += static_cast<std::int64_t>(train[i].ids.size());
  batch_share_weight_ = shard_loss_weight(my_tokens, all_tokens, context_.world_size);
  return make_batch(train, mine);
}

torch::Tensor TaggingTask::checked_logits(Model& model, const Batch& batch,
                                          torch::Device device) const {
  Features features =
      model.backbone().forward(BackboneInput{batch.tokens.to(device), batch.mask.to(device), {}});
  torch::Tensor logits = model.head().forward(features);
  const auto rows = batch.tokens.size(0), width = batch.tokens.size(1);
  const auto classes = static_cast<std::int64_t>(labels_.size());
  if (logits.dim() != 3 || logits.size(0) != rows || logits.size(1) != width ||
      logits.size(2) != classes) {
    std::ostringstream shape;
    shape << logits.sizes();
    throw ConfigError(context_.place,
                      "tagging needs a head that gives one score per token and label, shape [" +
                          std::to_string(rows) + ", " + std::to_string(width) + ", " +
                          std::to_string(classes) + "], but the head gave " + shape.str() +
                          "; use a per-token head such as 'tagger'");
  }
  return logits;
}

StepResult TaggingTask::train_step(Model& model, std::int64_t step) {
  Batch batch = train_batch(step);
  torch::Tensor logits = checked_logits(model, batch, context_.device);
  torch::Tensor loss = model.head().loss(logits, batch.targets.to(context_.device));
  return StepResult{loss * batch_share_weight_, batch.real_tokens, false};
}

Metrics TaggingTask::evaluate(Model& model, const std::string& split) {
  const auto& data = examples(split);
  if (data.empty() || split == "train") return {};
  torch::NoGradGuard no_grad;
  task_support::EvalMode mode(model);
  const auto classes = static_cast<std::int64_t>(labels_.size());
  torch::Tensor confusion = torch::zeros({classes * classes}, torch::kLong);
  double total_loss = 0;
  std::int64_t total_tokens = 0;
  for (const auto& indices :
       task_support::longest_first_batches(data, batch_rows(context_.batch_size))) {
    Batch batch = make_batch(data, indices);
    torch::Tensor logits = checked_logits(model, batch, context_.device);
    torch::Tensor loss = model.head().loss(logits, batch.targets.to(context_.device));
    total_loss += loss.item<double>() * static_cast<double>(batch.real_tokens);
    total_tokens += batch.real_tokens;
    torch::Tensor predicted = logits.argmax(2).to(torch::kCPU).masked_select(batch.mask);
    torch::Tensor truth = batch.targets.masked_select(batch.mask);
    confusion += (truth * classes + predicted).bincount({}, classes * classes);
  }

  auto counts = confusion.accessor<std::int64_t, 1>();
  task_support::Confusion matrix(classes, std::vector<std::int64_t>(classes, 0));
  for (std::int64_t t = 0; t < classes; ++t) {
    for (std::int64_t p = 0; p < classes; ++p) matrix[t][p] = counts[t * classes + p];
  }
  Metrics metrics = task_support::confusion_metrics(matrix, labels_);
  auto n = static_cast<double>(std::max<std::int64_t>(1, total_tokens));
  metrics["loss"] = total_loss / n;
  last_split_ = split;
  last_confusion_ = std::move(matrix);
  return metrics;
}

std::vector<std::string> TaggingTask::eval_splits() const {
  return task_support::eval_splits(splits_);
}

std::vector<std::int64_t> TaggingTask::train_fingerprint() const {
  // FNV-1a over every id and label: cheap, and any change in the data changes it.
  std::uint64_t hash = 1469598103934665603ULL;
  std::int64_t tokens = 0;
  auto mix = [&](std::int64_t value) {
    hash ^= static_cast<std::uint64_t>(value);
    hash *= 1099511628211ULL;
  };
  for (const auto& e : examples("train")) {
    mix(static_cast<std::int64_t>(e.ids.size()));
    for (std::size_t i = 0; i < e.ids.size(); ++i) {
      mix(e.ids[i]);
      mix(e.labels[i]);
    }
    tokens += static_cast<std::int64_t>(e.ids.size());
  }
  return {static_cast<std::int64_t>(examples("train").size()), tokens,
          static_cast<std::int64_t>(hash)};
}

void TaggingTask::save_state(torch::serialize::OutputArchive& archive) const {
  archive.write("tagging.train_fingerprint", torch::tensor(train_fingerprint(), torch::kLong));
}

void TaggingTask::load_state(torch::serialize::InputArchive& archive) {
  torch::Tensor saved;
  archive.read("tagging.train_fingerprint", saved);
  auto now = train_fingerprint();
  if (!torch::equal(saved, torch::tensor(now, torch::kLong))) {
    auto was = saved.accessor<std::int64_t, 1>();
    throw DataError(context_.place,
                    "the training data differs from the checkpoint's (" + std::to_string(was[0]) +
                        " sentences, " + std::to_string(was[1]) + " tokens then; " +
                        std::to_string(now[0]) + " sentences, " + std::to_string(now[1]) +
                        " tokens now); --resume needs the same train file, fraction, limit and "
                        "seed, or run again without --resume");
  }
}

void TaggingTask::save_artifacts(const std::string& dir) const {
  task_support::write_labels(dir, labels_);
}

void TaggingTask::load_artifacts(const std::string& dir) {
  std::tie(labels_, label_ids_) = task_support::read_labels(dir, "tagging");
}

std::vector<TaggingTask::Tagged> TaggingTask::predict(Model& model, const Tokenizer& tokenizer,
                                                      const std::vector<std::string>& texts) {
  if (labels_.empty()) {
    throw Error(context_.place, "no label set: prepare the data or load the stage's labels.txt");
  }
  const auto classes = static_cast<std::int64_t>(labels_.size());
  // `lmforge predict` builds the task without knowing where the model lives; follow the model.
  torch::Device device = task_support::model_device(model, context_.device);

  std::vector<Tagged> tagged;
  std::vector<Example> pieces;
  std::vector<std::pair<std::size_t, std::int64_t>> origin;  // piece -> (sentence, first token)
  for (std::size_t s = 0; s < texts.size(); ++s) {
    Sentence sentence;
    sentence.tokens = words_of(texts[s]);
    auto n = static_cast<std::int64_t>(sentence.tokens.size());
    tagged.push_back({sentence.tokens, torch::zeros({n, classes})});
    std::int64_t offset = 0;
    for (auto& piece : encode(tokenizer, sentence, {})) {
      offset += static_cast<std::int64_t>(piece.ids.size());
      origin.emplace_back(s, offset - static_cast<std::int64_t>(piece.ids.size()));
      pieces.push_back(std::move(piece));
    }
  }
  torch::NoGradGuard no_grad;
  task_support::EvalMode mode(model);
  for (const auto& indices :
       task_support::longest_first_batches(pieces, batch_rows(context_.batch_size))) {
    torch::Tensor logits = checked_logits(model, make_batch(pieces, indices), device);
    torch::Tensor p = torch::softmax(logits.to(torch::kFloat), 2).to(torch::kCPU);
    for (std::size_t r = 0; r < indices.size(); ++r) {
      auto [sentence, first] = origin[indices[r]];
      auto length = static_cast<std::int64_t>(pieces[indices[r]].ids.size());
      tagged[sentence]
          .probabilities.narrow(0, first, length)
          .copy_(p[static_cast<std::int64_t>(r)].narrow(0, 0, length));
    }
  }
  return tagged;
}

std::vector<std::string> TaggingTask::summary(const Metrics& final_metrics) const {
  std::vector<std::string> lines;
  for (const char* split : {"test", "valid"}) {
    auto accuracy = final_metrics.find(std::string(split) + ".accuracy");
    if (accuracy == final_metrics.end()) continue;
    std::string line = std::string(split) + " token accuracy " + fixed(accuracy->second);
    if (majority_baseline(split) >= 0) {
      line += " (majority-tag baseline " + fixed(majority_baseline(split)) +
              ", most-frequent-tag-per-word baseline " + fixed(word_baseline(split)) + ")";
    }
    auto f1 = final_metrics.find(std::string(split) + ".macro_f1");
    if (f1 != final_metrics.end()) line += ", macro-F1 " + fixed(f1->second);
    lines.push_back(line);
    break;
  }
  if (last_confusion_.empty()) return lines;
  for (auto& line : task_support::confusion_report(last_confusion_, labels_, last_split_, "tag")) {
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace lmforge
