#include "lmforge/labelled_task.h"

#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "io/atomic_file.h"
#include "lmforge/error.h"
#include "lmforge/metric.h"
#include "lmforge/text_stats.h"
#include "lmforge/text_util.h"

namespace lmforge {
using text_util::fixed;
using text_util::join;
using text_util::where;

namespace {
constexpr std::int64_t kIgnore = -100;  // head.h: targets the loss skips
constexpr std::uint32_t kEpochStream = 4;
}  // namespace

void LabelledDataOptions::visit_data(OptionVisitor& v, const char* train_help, Unit unit) {
  const bool sentences = unit == Unit::kSentences;
  v.field("train", train, train_help).required();
  v.field("valid", valid, "validation data (evaluated each epoch), same layout as train");
  v.field("test", test, "test data (evaluated at the end), same layout as train");
  v.field("encoding", encoding, "text encoding: utf-8, cp1252 or latin-1");
  v.field("limit", limit,
          sentences
              ? "keep only this many training sentences, chosen at random with the seed (0 = all)"
              : "keep only this many training examples, chosen at random with the seed (0 = all)")
      .non_negative();
  v.field("fraction", fraction,
          sentences ? "keep this fraction of the training sentences (at least one), chosen at "
                      "random with the seed; for label-efficiency experiments"
                    : "keep this fraction of the training examples of each label (at least one), "
                      "chosen at random with the seed; for label-efficiency experiments")
      .range(0, 1);
  v.field("valid_fraction", valid_fraction,
          sentences ? "without a valid file, hold out this fraction of the training sentences for "
                      "validation (0 = none)"
                    : "without a valid file, hold out this fraction of each label's training "
                      "examples for validation (0 = none)")
      .range(0, 1);
  v.field("max_length", max_length,
          sentences ? "longer sentences are cut into pieces of at most this many tokens (every "
                      "token is still trained on and scored)"
                    : "longer texts keep their first max_length tokens")
      .positive();
}

void LabelledDataOptions::check_sampling(const std::string& place) const {
  if (!(fraction > 0 && fraction <= 1)) {
    throw ConfigError(place, "fraction must be in (0, 1], got " + std::to_string(fraction));
  }
  if (!(valid_fraction >= 0 && valid_fraction < 1)) {
    throw ConfigError(place,
                      "valid_fraction must be in [0, 1), got " + std::to_string(valid_fraction));
  }
  if (valid_fraction > 0 && !valid.empty()) {
    throw ConfigError(place,
                      "valid_fraction holds out training data only when there is no valid file; "
                      "give one or the other");
  }
}

void write_labels(const std::string& dir, const std::vector<std::string>& labels) {
  std::string text;
  for (const auto& label : labels) text += label + "\n";
  io::write_text_atomically((std::filesystem::path(dir) / "labels.txt").string(), text);
}

std::vector<std::string> read_labels(const std::string& dir, const std::string& task) {
  std::string path = (std::filesystem::path(dir) / "labels.txt").string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw DataError(
        path, "the label set is missing; a " + task + " stage writes it when it prepares its data");
  }
  std::stringstream lines(io::read_text(path));
  std::vector<std::string> labels;
  std::map<std::string, std::int64_t> ids;
  std::string line;
  for (std::int64_t number = 1; std::getline(lines, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (!ids.emplace(line, static_cast<std::int64_t>(labels.size())).second) {
      throw DataError(where(path, number), "label '" + line + "' appears twice");
    }
    labels.push_back(line);
  }
  if (labels.empty()) throw DataError(path, "the label set is empty");
  return labels;
}

torch::Device model_device(Model& model, torch::Device fallback) {
  auto parameters = model.parameters();
  return parameters.empty() ? fallback : parameters.front().device();
}

EvalMode::EvalMode(Model& model) : model_(model), was_training_(model.is_training()) {
  model_.eval();
}

EvalMode::~EvalMode() { model_.train(was_training_); }

LabelledTask::LabelledTask(const TaskContext& context, Traits traits,
                           const LabelledDataOptions& options)
    : context_(context), traits_(std::move(traits)), data_(options) {
  data_.check_sampling(context_.place);
}

void LabelledTask::set_labels(std::vector<std::string> labels) {
  labels_ = std::move(labels);
  label_ids_.clear();
  for (std::size_t i = 0; i < labels_.size(); ++i) {
    label_ids_[labels_[i]] = static_cast<std::int64_t>(i);
  }
  splits_.clear();
  epoch_ = -1;
  epoch_batches_.clear();
  last_confusion_.clear();
  last_split_.clear();
}

std::int64_t LabelledTask::label_id(const std::string& label, const std::string& at) const {
  auto it = label_ids_.find(label);
  if (it == label_ids_.end()) {
    throw DataError(at, "label '" + label + "' does not occur in the training data (" +
                            data_.train + "; labels: " + join(labels_, 20) + ")");
  }
  return it->second;
}

void LabelledTask::set_examples(const std::string& split, std::vector<Example> examples) {
  splits_[split] = std::move(examples);
  epoch_ = -1;
  epoch_batches_.clear();
}

batching::TrainingSelection LabelledTask::select_training(
    std::size_t count, const std::vector<std::int64_t>& strata) const {
  batching::SelectionRule rule;
  rule.valid_fraction = data_.valid_fraction;
  rule.fraction = data_.fraction;
  rule.limit = data_.limit;
  rule.seed = context_.seed;
  rule.stream_base = traits_.stream_base;
  return batching::select_training(count, strata, static_cast<std::int64_t>(labels_.size()), rule);
}

const std::vector<LabelledTask::Example>& LabelledTask::examples(const std::string& split) const {
  static const std::vector<Example> kNone;
  auto it = splits_.find(split);
  return it == splits_.end() ? kNone : it->second;
}

std::vector<std::string> LabelledTask::eval_splits() const {
  std::vector<std::string> out;
  for (const char* split : {"valid", "test"}) {
    if (!examples(split).empty()) out.push_back(split);
  }
  return out;
}

std::int64_t LabelledTask::steps_per_epoch() const {
  auto n = static_cast<std::int64_t>(examples("train").size());
  auto b = static_cast<std::int64_t>(batching::batch_rows(context_.batch_size));
  return (n + b - 1) / b;
}

void LabelledTask::start_epoch(std::int64_t epoch) {
  auto rng = batching::seeded_rng(context_.seed, traits_.stream_base + kEpochStream,
                                  static_cast<std::uint64_t>(epoch));
  epoch_batches_ = batching::shuffled_length_buckets(
      examples("train"), batching::batch_rows(context_.batch_size), rng);
  epoch_ = epoch;
}

LabelledTask::Batch LabelledTask::make_batch(const std::vector<Example>& examples,
                                             const std::vector<std::int64_t>& indices) const {
  auto padded = batching::pad_tokens(examples, indices);
  Batch batch{padded.tokens, padded.mask, {}, padded.real_tokens};
  const auto rows = padded.tokens.size(0);
  if (traits_.granularity == Granularity::kText) {
    batch.targets = torch::zeros({rows}, torch::kLong);
    auto targets = batch.targets.accessor<std::int64_t, 1>();
    for (std::int64_t r = 0; r < rows; ++r) {
      const auto& labels = examples[indices[r]].labels;
      targets[r] = labels.empty() ? 0 : labels.front();
    }
  } else {
    batch.targets = torch::full(padded.tokens.sizes(), kIgnore, torch::kLong);
    auto targets = batch.targets.accessor<std::int64_t, 2>();
    for (std::int64_t r = 0; r < rows; ++r) {
      const auto& labels = examples[indices[r]].labels;
      for (std::size_t t = 0; t < labels.size(); ++t) targets[r][t] = labels[t];
    }
  }
  return batch;
}

LabelledTask::Batch LabelledTask::train_batch(std::int64_t step) {
  if (epoch_ < 0) start_epoch(0);
  batching::check_step(context_.place, step, epoch_batches_.size());
  // Data-parallel: this rank's share of the global batch. The loss is a mean over texts or over
  // tokens, so the share is weighted by the same unit.
  const auto& batch = epoch_batches_[step];
  auto mine = shard_indices(batch, context_.rank, context_.world_size);
  const auto& train = examples("train");
  auto units = [&](const std::vector<std::int64_t>& indices) {
    if (traits_.granularity == Granularity::kText) {
      return static_cast<std::int64_t>(indices.size());
    }
    std::int64_t tokens = 0;
    for (auto i : indices) tokens += static_cast<std::int64_t>(train[i].ids.size());
    return tokens;
  };
  Batch out = make_batch(train, mine);
  out.loss_weight = shard_loss_weight(units(mine), units(batch), context_.world_size);
  return out;
}

torch::Tensor LabelledTask::checked_logits(Model& model, const Batch& batch,
                                           torch::Device device) const {
  Features features =
      model.backbone().forward(BackboneInput{batch.tokens.to(device), batch.mask.to(device), {}});
  torch::Tensor logits = model.head().forward(features);
  const auto rows = batch.tokens.size(0), width = batch.tokens.size(1);
  const auto classes = static_cast<std::int64_t>(labels_.size());
  const bool per_token = traits_.granularity == Granularity::kToken;
  const bool fits = per_token
                        ? logits.dim() == 3 && logits.size(0) == rows && logits.size(1) == width &&
                              logits.size(2) == classes
                        : logits.dim() == 2 && logits.size(0) == rows && logits.size(1) == classes;
  if (!fits) {
    std::ostringstream shape;
    shape << logits.sizes();
    std::string wanted = per_token ? "one score per token and label, shape [" +
                                         std::to_string(rows) + ", " + std::to_string(width) +
                                         ", " + std::to_string(classes) + "]"
                                   : "one score per label, shape [" + std::to_string(rows) + ", " +
                                         std::to_string(classes) + "]";
    throw ConfigError(context_.place, traits_.task_name + " needs a head that gives " + wanted +
                                          ", but the head gave " + shape.str() + "; use " +
                                          traits_.head_hint);
  }
  return logits;
}

StepResult LabelledTask::train_step(Model& model, std::int64_t step) {
  Batch batch = train_batch(step);
  torch::Tensor logits = checked_logits(model, batch, context_.device);
  torch::Tensor loss = model.head().loss(logits, batch.targets.to(context_.device));
  return StepResult{loss * batch.loss_weight, batch.real_tokens, false};
}

Metrics LabelledTask::evaluate(Model& model, const std::string& split) {
  const auto& data = examples(split);
  if (data.empty() || split == "train") return {};
  torch::NoGradGuard no_grad;
  EvalMode mode(model);
  const bool per_token = traits_.granularity == Granularity::kToken;
  const auto classes = static_cast<std::int64_t>(labels_.size());
  // Confusion counts, then the loss sum and the number of texts or tokens it covers: additive,
  // so each rank evaluates its share of the batches and the sums are added over the ranks.
  torch::Tensor totals = torch::zeros({classes * classes + 2}, torch::kDouble);
  const auto batches =
      batching::longest_first_batches(data, batching::batch_rows(context_.batch_size));
  const ShardRange mine =
      shard_range(static_cast<std::int64_t>(batches.size()), context_.rank, context_.world_size);
  torch::Tensor counts = torch::zeros({classes * classes}, torch::kLong);
  double total_loss = 0, total_units = 0;
  for (std::int64_t b = mine.begin; b < mine.end; ++b) {
    const auto& indices = batches[static_cast<std::size_t>(b)];
    Batch batch = make_batch(data, indices);
    torch::Tensor logits = checked_logits(model, batch, context_.device);
    torch::Tensor loss = model.head().loss(logits, batch.targets.to(context_.device));
    // The head's loss is a mean over texts or tokens; weight each batch by its count of them.
    double units =
        per_token ? static_cast<double>(batch.real_tokens) : static_cast<double>(indices.size());
    total_loss += loss.item<double>() * units;
    total_units += units;
    torch::Tensor predicted = logits.argmax(per_token ? 2 : 1).to(torch::kCPU);
    torch::Tensor truth = batch.targets;
    if (per_token) {
      predicted = predicted.masked_select(batch.mask);
      truth = truth.masked_select(batch.mask);
    }
    counts += (truth * classes + predicted).bincount({}, classes * classes);
  }
  totals.narrow(0, 0, classes * classes).copy_(counts);
  totals[classes * classes] = total_loss;
  totals[classes * classes + 1] = total_units;
  if (context_.sum_over_ranks) context_.sum_over_ranks(totals);
  auto t = totals.accessor<double, 1>();
  Confusion matrix(classes, std::vector<std::int64_t>(classes, 0));
  for (std::int64_t i = 0; i < classes; ++i) {
    for (std::int64_t j = 0; j < classes; ++j) {
      matrix[i][j] = static_cast<std::int64_t>(std::llround(t[i * classes + j]));
    }
  }
  Metrics metrics = confusion_metrics(matrix, labels_);
  metrics["loss"] = t[classes * classes] / std::max(1.0, t[classes * classes + 1]);
  for (const auto& extra : context_.metrics) {
    metrics[extra.name] = extra.metric->compute(matrix, labels_);
  }
  if (context_.rank == 0 && !context_.stage_dir.empty()) save_confusion(matrix, split);
  last_split_ = split;
  last_confusion_ = std::move(matrix);
  return metrics;
}

void LabelledTask::save_confusion(const Confusion& matrix, const std::string& split) const {
  // The latest evaluation of each split, for `lmforge report`'s heat map: a header of predicted
  // labels, then one row of counts per true label.
  std::string text = "true\\predicted";
  for (const auto& label : labels_) text.append("\t").append(label);
  text += "\n";
  for (std::size_t r = 0; r < matrix.size(); ++r) {
    text += labels_[r];
    for (auto count : matrix[r]) text.append("\t").append(std::to_string(count));
    text += "\n";
  }
  io::write_text_atomically(
      (std::filesystem::path(context_.stage_dir) / ("confusion." + split + ".tsv")).string(), text);
}

std::vector<std::int64_t> LabelledTask::train_fingerprint() const {
  // FNV-1a over every id and label: cheap, and any change in the data changes it.
  std::uint64_t hash = 1469598103934665603ULL;
  std::int64_t tokens = 0;
  auto mix = [&](std::int64_t value) {
    hash ^= static_cast<std::uint64_t>(value);
    hash *= 1099511628211ULL;
  };
  for (const auto& e : examples("train")) {
    mix(static_cast<std::int64_t>(e.ids.size()));
    for (std::size_t i = 0; i < std::max(e.ids.size(), e.labels.size()); ++i) {
      if (i < e.ids.size()) mix(e.ids[i]);
      if (i < e.labels.size()) mix(e.labels[i]);
    }
    tokens += static_cast<std::int64_t>(e.ids.size());
  }
  return {static_cast<std::int64_t>(examples("train").size()), tokens,
          static_cast<std::int64_t>(hash)};
}

void LabelledTask::save_state(torch::serialize::OutputArchive& archive) const {
  archive.write(traits_.task_name + ".train_fingerprint",
                torch::tensor(train_fingerprint(), torch::kLong));
}

void LabelledTask::load_state(torch::serialize::InputArchive& archive) {
  torch::Tensor saved;
  // Checkpoints written before the fingerprint existed resume as they always did.
  if (!archive.try_read(traits_.task_name + ".train_fingerprint", saved)) return;
  auto now = train_fingerprint();
  if (!torch::equal(saved, torch::tensor(now, torch::kLong))) {
    auto was = saved.accessor<std::int64_t, 1>();
    throw DataError(context_.place,
                    "the training data differs from the checkpoint's (" + std::to_string(was[0]) +
                        " " + traits_.unit + ", " + std::to_string(was[1]) + " tokens then; " +
                        std::to_string(now[0]) + " " + traits_.unit + ", " +
                        std::to_string(now[1]) +
                        " tokens now); --resume needs the same train file, fraction, limit and "
                        "seed, or run again without --resume");
  }
}

void LabelledTask::save_artifacts(const std::string& dir) const { write_labels(dir, labels_); }

void LabelledTask::load_artifacts(const std::string& dir) {
  set_labels(read_labels(dir, traits_.task_name));
}

void LabelledTask::report_unknown_share(bool vocabulary_reused) const {
  for (const char* split : {"train", "valid", "test"}) {
    const auto& data = examples(split);
    if (data.empty()) continue;
    UnknownShare share;
    for (const auto& e : data) share.add(e.ids);
    auto report = lmforge::report_unknown_share(
        split, share, vocabulary_reused ? "the stage named in init.from" : "");
    std::cout << traits_.task_name << ": " << report.line << "\n";
    if (!report.warning.empty()) std::cout << traits_.task_name << ": " << report.warning << "\n";
  }
}

std::vector<Prediction> LabelledTask::predict(Model& model, const Tokenizer& tokenizer,
                                              const std::vector<std::string>& texts) {
  if (labels_.empty()) {
    throw Error(context_.place, "no label set: prepare the data or load the stage's labels.txt");
  }
  const auto classes = static_cast<std::int64_t>(labels_.size());
  const bool per_token = traits_.granularity == Granularity::kToken;
  // `lmforge predict` builds the task without knowing where the model lives; follow the model.
  torch::Device device = model_device(model, context_.device);
  std::vector<Prediction> out(texts.size());
  std::vector<Example> pieces;
  std::vector<std::pair<std::size_t, std::int64_t>> origin;  // piece -> (text, first row)
  for (std::size_t s = 0; s < texts.size(); ++s) {
    std::vector<std::string> words;
    std::vector<Example> encoded = encode_for_prediction(tokenizer, texts[s], words);
    std::int64_t rows = per_token ? static_cast<std::int64_t>(words.size()) : 1;
    if (per_token) out[s].tokens = std::move(words);
    out[s].probabilities = torch::zeros({rows, classes});
    std::int64_t offset = 0;
    for (auto& piece : encoded) {
      origin.emplace_back(s, offset);
      offset += per_token ? static_cast<std::int64_t>(piece.ids.size()) : 0;
      pieces.push_back(std::move(piece));
    }
  }
  torch::NoGradGuard no_grad;
  EvalMode mode(model);
  for (const auto& indices :
       batching::longest_first_batches(pieces, batching::batch_rows(context_.batch_size))) {
    torch::Tensor logits = checked_logits(model, make_batch(pieces, indices), device);
    torch::Tensor p = torch::softmax(logits.to(torch::kFloat), per_token ? 2 : 1).to(torch::kCPU);
    for (std::size_t r = 0; r < indices.size(); ++r) {
      auto [text, first] = origin[indices[r]];
      auto row = p[static_cast<std::int64_t>(r)];
      if (per_token) {
        auto length = static_cast<std::int64_t>(pieces[indices[r]].ids.size());
        out[text].probabilities.narrow(0, first, length).copy_(row.narrow(0, 0, length));
      } else {
        out[text].probabilities[0].copy_(row);
      }
    }
  }
  for (auto& prediction : out) {
    for (std::int64_t r = 0; r < prediction.probabilities.size(0); ++r) {
      auto best = prediction.probabilities[r].argmax().item<std::int64_t>();
      prediction.labels.push_back(labels_[static_cast<std::size_t>(best)]);
      prediction.scores.push_back(prediction.probabilities[r][best].item<float>());
    }
  }
  return out;
}

std::vector<std::string> LabelledTask::summary(const Metrics& final_metrics) const {
  std::vector<std::string> lines;
  for (const char* split : {"test", "valid"}) {
    auto accuracy = final_metrics.find(std::string(split) + ".accuracy");
    if (accuracy == final_metrics.end()) continue;
    std::string line = std::string(split) + " " + traits_.accuracy_name + " " +
                       fixed(accuracy->second) + baseline_note(split);
    auto f1 = final_metrics.find(std::string(split) + ".macro_f1");
    if (f1 != final_metrics.end()) line += ", macro-F1 " + fixed(f1->second);
    lines.push_back(line);
    break;
  }
  if (last_confusion_.empty()) return lines;
  for (auto& line : confusion_report(last_confusion_, labels_, last_split_, traits_.label_noun)) {
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace lmforge
