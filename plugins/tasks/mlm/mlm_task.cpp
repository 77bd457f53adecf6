#include "mlm_task.h"

#include <torch/torch.h>

#include <cmath>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "lmforge/batching.h"
#include "lmforge/data_shard.h"
#include "lmforge/error.h"
#include "lmforge/labelled_task.h"

namespace lmforge {
namespace {

// Random streams of the recipe seed (labelled tasks use 1-4 and 11-14).
constexpr std::uint32_t kOrderStream = 21;
constexpr std::uint32_t kTrainMaskStream = 22;
constexpr std::uint32_t kEvalMaskStream = 23;

std::uint64_t epoch_step(std::int64_t epoch, std::int64_t step) {
  return (static_cast<std::uint64_t>(epoch) << 32) | static_cast<std::uint64_t>(step);
}

}  // namespace

void MlmOptions::visit(OptionVisitor& v) {
  v.field("train", train,
          "training text, one sentence/paragraph per line; a file or a glob such as "
          "'books/*.txt' (files in sorted order)")
      .required();
  v.field("valid", valid, "validation text (evaluated each epoch with masks drawn once)");
  v.field("test", test, "test text (evaluated at the end)");
  source.visit_source(v);
  v.field("max_length", max_length, "longest segment in tokens, <bos> included (at least 2)")
      .range(2, 1e9);
  v.choice("segments", segments, {"packed", "line"},
           "packed: the text as one stream (<eos> after each line) cut into full segments, no "
           "padding (RoBERTa); line: one segment per line, a longer line cut into several");
  v.field("mask_rate", mask_rate,
          "share of the maskable tokens chosen for prediction (BERT: 0.15); strictly between 0 "
          "and 1")
      .range(1e-6, 1 - 1e-6);
  v.field("mask_token", mask_token, "of the chosen tokens, the share replaced by <mask> (0.8)")
      .range(0.0, 1.0);
  v.field("random_token", random_token,
          "of the chosen tokens, the share replaced by a random token (0.1); the rest, "
          "1 - mask_token - random_token, stay unchanged")
      .range(0.0, 1.0);
  v.choice("whole_word", whole_word, {"auto", "true", "false"},
           "choose all pieces of a word together; auto: when the vocabulary is made of word "
           "pieces (sentencepiece's ▁)");
  v.field("eval_batch_size", eval_batch_size, "segments per batch when evaluating").positive();
}

MlmTask::MlmTask(const Options& options, const TaskContext& context)
    : options_(options), context_(context) {
  if (options.mask_token + options.random_token > 1.0 + 1e-9) {
    std::ostringstream message;
    message << "mask_token (" << options.mask_token << ") + random_token (" << options.random_token
            << ") exceed 1: they are shares of the chosen tokens (BERT: 0.8 and 0.1)";
    throw ConfigError(context.place, message.str());
  }
  rule_.rate = options.mask_rate;
  rule_.mask_token = options.mask_token;
  rule_.random_token = options.random_token;
}

std::int64_t MlmTask::find_mask_token(Tokenizer& tokenizer, bool fit_vocabulary) const {
  const Vocabulary& vocabulary = tokenizer.vocabulary();
  if (vocabulary.contains(kMaskToken)) return vocabulary.id(kMaskToken);
  if (!fit_vocabulary) {
    throw ConfigError(context_.place,
                      "the vocabulary taken from init.from has no <mask> token, so the mlm task "
                      "cannot corrupt tokens; pre-train with the mlm task from a vocabulary of its "
                      "own, or give the earlier stage's tokenizer a <mask> entry");
  }
  Vocabulary extended = vocabulary;
  extended.add(kMaskToken);
  try {
    tokenizer.set_vocabulary(extended);
  } catch (const Error& e) {
    // A sentencepiece vocabulary is its model's pieces: <mask> must be one of them.
    throw ConfigError(context_.place, "the tokenizer cannot take a <mask> entry of its own (" +
                                          e.message() +
                                          "); declare it in the tokenizer, e.g. sentencepiece's "
                                          "user_defined_symbols: [\"<mask>\"]");
  }
  return tokenizer.vocabulary().id(kMaskToken);
}

std::vector<MlmTask::Segment> MlmTask::read_segments(const Tokenizer& tokenizer,
                                                     const std::string& spec,
                                                     const std::string& option) const {
  std::vector<Segment> segments;
  const auto room = static_cast<std::size_t>(options_.max_length - 1);  // after <bos>
  auto cut = [&](const std::vector<std::int64_t>& ids) {
    for (std::size_t start = 0; start < ids.size(); start += room) {
      Segment segment;
      segment.ids.push_back(Vocabulary::kBos);
      segment.ids.insert(segment.ids.end(), ids.begin() + start,
                         ids.begin() + std::min(ids.size(), start + room));
      segments.push_back(std::move(segment));
    }
  };
  std::vector<std::int64_t> stream;
  for_each_text(options_.source, spec, option, context_.place, [&](const std::string& text) {
    auto ids = tokenizer.encode(text);
    if (ids.empty()) return;  // blank lines carry nothing to predict
    ids.push_back(Vocabulary::kEos);
    if (options_.segments == "line") {
      cut(ids);
    } else {
      stream.insert(stream.end(), ids.begin(), ids.end());
    }
  });
  if (options_.segments == "packed") cut(stream);
  if (segments.empty()) {
    throw DataError(context_.place, option + " text '" + spec + "' has no tokens");
  }
  return segments;
}

void MlmTask::prepare(Tokenizer& tokenizer, bool fit_vocabulary) {
  if (fit_vocabulary) {
    for_each_text(options_.source, options_.train, "train", context_.place,
                  [&](const std::string& text) { tokenizer.count(text); });
    tokenizer.build_vocabulary();
  }
  const std::int64_t mask_id = find_mask_token(tokenizer, fit_vocabulary);
  const Vocabulary& vocabulary = tokenizer.vocabulary();
  vocab_size_ = vocabulary.size();
  rule_.whole_word = options_.whole_word == "auto" ? mlm::has_word_pieces(vocabulary)
                                                   : options_.whole_word == "true";
  masker_ = std::make_unique<mlm::Masker>(rule_, vocabulary, mask_id);
  splits_.clear();
  for (const auto& [split, spec] : {std::pair<std::string, std::string>{"train", options_.train},
                                    {"valid", options_.valid},
                                    {"test", options_.test}}) {
    if (!spec.empty()) splits_[split] = read_segments(tokenizer, spec, split);
  }
  // What a model that ignores the context scores on the chosen tokens: the maskable tokens'
  // unigram entropy and the share of the commonest one.
  std::vector<double> counts(static_cast<std::size_t>(vocab_size_), 0.0);
  double total = 0;
  for (const auto& segment : splits_["train"]) {
    for (auto id : segment.ids) {
      if (!masker_->maskable(id)) continue;
      counts[static_cast<std::size_t>(id)] += 1;
      total += 1;
    }
  }
  if (total == 0) {
    throw DataError(context_.place, "training text '" + options_.train +
                                        "' has no token the mlm task may mask (only specials "
                                        "and <unk>)");
  }
  unigram_nats_ = 0;
  majority_share_ = 0;
  for (double c : counts) {
    if (c == 0) continue;
    const double p = c / total;
    unigram_nats_ -= p * std::log(p);
    majority_share_ = std::max(majority_share_, p);
  }
  std::cout << "mlm: " << splits_["train"].size() << " training segments of at most "
            << options_.max_length << " tokens, " << (rule_.whole_word ? "whole-word" : "token")
            << " masking, <mask> id " << mask_id << "\n";
  epoch_ = -1;
}

const std::vector<MlmTask::Segment>& MlmTask::segments(const std::string& split) const {
  static const std::vector<Segment> kNone;
  auto it = splits_.find(split);
  return it == splits_.end() ? kNone : it->second;
}

std::int64_t MlmTask::steps_per_epoch() const {
  const auto rows = static_cast<std::int64_t>(batching::batch_rows(context_.batch_size));
  return (static_cast<std::int64_t>(segments("train").size()) + rows - 1) / rows;
}

void MlmTask::start_epoch(std::int64_t epoch) {
  auto rng = batching::seeded_rng(context_.seed, kOrderStream, static_cast<std::uint64_t>(epoch));
  epoch_batches_ = batching::shuffled_length_buckets(
      segments("train"), batching::batch_rows(context_.batch_size), rng);
  epoch_ = epoch;
}

mlm::MaskedBatch MlmTask::train_batch(std::int64_t step) const {
  if (epoch_ < 0 || !masker_) throw Error(context_.place, "mlm: train_batch before start_epoch");
  batching::check_step(context_.place, step, epoch_batches_.size());
  auto padded = batching::pad_tokens(segments("train"), epoch_batches_[step]);
  // Drawn from (seed, epoch, step) alone: a fresh corruption each epoch (dynamic masking) that a
  // resumed run repeats exactly.
  auto rng = batching::seeded_rng(context_.seed, kTrainMaskStream, epoch_step(epoch_, step));
  return masker_->apply(padded.tokens, rng);
}

void MlmTask::check_backbone(Model& model) const {
  if (model.backbone().causal()) {
    throw ConfigError(context_.place,
                      "the mlm task needs a bidirectional backbone: a causal one cannot see the "
                      "right-hand context of a masked token (transformer: mode: bidirectional)");
  }
}

StepResult MlmTask::train_step(Model& model, std::int64_t step) {
  check_backbone(model);
  mlm::MaskedBatch batch = train_batch(step);
  // Data-parallel: every rank corrupts the whole batch (same numbers) and keeps its rows; its
  // mean over its chosen tokens is weighted by their share of the batch's.
  const ShardRange rows = shard_range(batch.input.size(0), context_.rank, context_.world_size);
  auto input = batch.input.narrow(0, rows.begin, rows.size());
  auto targets = batch.targets.narrow(0, rows.begin, rows.size());
  const std::int64_t chosen = (targets != mlm::kIgnore).sum().item<std::int64_t>();
  const double weight = shard_loss_weight(chosen, batch.chosen, context_.world_size);
  auto mask = input != Vocabulary::kPad;
  Features features = model.backbone().forward(
      BackboneInput{input.to(context_.device), mask.to(context_.device), {}});
  torch::Tensor loss = model.head().forward_loss(features, targets.to(context_.device));
  return StepResult{loss * weight, mask.sum().item<std::int64_t>(), false};
}

Metrics MlmTask::evaluate(Model& model, const std::string& split) {
  const auto& data = segments(split);
  if (data.empty() || split == "train") return {};
  check_backbone(model);
  torch::NoGradGuard no_grad;
  EvalMode mode(model);
  const auto batches =
      batching::longest_first_batches(data, static_cast<std::size_t>(options_.eval_batch_size));
  double nats = 0, correct = 0, chosen = 0;
  for (std::size_t b = 0; b < batches.size(); ++b) {
    // Data-parallel: each rank scores its share of the batches; the sums are added up.
    if (static_cast<int>(b % static_cast<std::size_t>(context_.world_size)) != context_.rank) {
      continue;
    }
    auto padded = batching::pad_tokens(data, batches[b]);
    // The same corruption every epoch, so validation figures compare.
    auto rng = batching::seeded_rng(context_.seed, kEvalMaskStream, b);
    mlm::MaskedBatch batch = masker_->apply(padded.tokens, rng);
    auto device = model_device(model, context_.device);
    Features features =
        model.backbone().forward(BackboneInput{batch.input.to(device), padded.mask.to(device), {}});
    // Score the chosen positions only: the head sees them as one row, so the [B,T,V] logits of
    // the whole batch are never built.
    auto chosen_mask = (batch.targets != mlm::kIgnore).to(device);
    auto targets = batch.targets.to(device).masked_select(chosen_mask);
    Features picked{features.sequence.index({chosen_mask}).unsqueeze(0), {}, {}};
    auto logits = model.head().forward(picked).squeeze(0).to(torch::kFloat);
    nats += torch::cross_entropy_loss(logits, targets, {}, at::Reduction::Sum).item<double>();
    correct += (logits.argmax(-1) == targets).sum().item<double>();
    chosen += static_cast<double>(targets.numel());
  }
  if (context_.sum_over_ranks) {
    torch::Tensor sums = torch::tensor({nats, correct, chosen}, torch::kDouble);
    context_.sum_over_ranks(sums);
    nats = sums[0].item<double>();
    correct = sums[1].item<double>();
    chosen = sums[2].item<double>();
  }
  const double loss = nats / std::max(1.0, chosen);
  return {{"loss", loss},
          {"ppl", std::exp(loss)},
          {"accuracy", correct / std::max(1.0, chosen)},
          {"masked_tokens", chosen},
          {"unigram_ppl", std::exp(unigram_nats_)},
          {"majority_accuracy", majority_share_}};
}

std::vector<std::string> MlmTask::eval_splits() const {
  std::vector<std::string> splits;
  for (const char* split : {"valid", "test"}) {
    if (!segments(split).empty()) splits.emplace_back(split);
  }
  return splits;
}

std::vector<std::string> MlmTask::summary(const Metrics& final_metrics) const {
  std::vector<std::string> lines;
  for (const char* split : {"test", "valid"}) {
    auto ppl = final_metrics.find(std::string(split) + ".ppl");
    auto accuracy = final_metrics.find(std::string(split) + ".accuracy");
    if (ppl == final_metrics.end() || accuracy == final_metrics.end()) continue;
    std::ostringstream line;
    line << std::fixed << std::setprecision(3) << split << " masked-token perplexity "
         << std::setprecision(2) << ppl->second << " (" << std::setprecision(3)
         << std::log(ppl->second) << " nats) vs unigram baseline " << std::setprecision(2)
         << std::exp(unigram_nats_) << " (" << std::setprecision(3) << unigram_nats_
         << " nats); masked accuracy " << accuracy->second << " vs " << majority_share_
         << " for always guessing the commonest token";
    lines.push_back(line.str());
    break;
  }
  return lines;
}

}  // namespace lmforge
