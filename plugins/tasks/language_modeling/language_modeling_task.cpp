#include "language_modeling_task.h"

#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <sstream>

#include "lmforge/error.h"
#include "lmforge/text_source.h"
#include "lmforge/text_stats.h"

namespace lmforge {

void LanguageModelingOptions::visit(OptionVisitor& v) {
  v.field("train", train,
          "training text, one sentence/paragraph per line; a file or a glob such as "
          "'books/*.txt' (files in sorted order)")
      .required();
  v.field("valid", valid, "validation text (evaluated each epoch)");
  v.field("test", test, "test text (evaluated at the end)");
  v.field("encoding", encoding, "text encoding: utf-8, cp1252 or latin-1");
  v.choice("format", format, {"text", "tsv", "csv", "label_first", "trec"},
           "text: one text per line; otherwise the text of a labelled data set, read as the "
           "classification task reads it (labels ignored)");
  v.field("text_column", text_column, "tsv/csv: 0-based column of the text").non_negative();
  v.field("header", header, "tsv/csv: the first record is a header and is skipped");
  v.field("bptt", bptt, "tokens per back-propagation window").positive();
  v.choice("windows", windows, {"contiguous", "random"},
           "contiguous: batch_size streams read in order, recurrent state carried across steps; "
           "random: batch_size windows at random offsets each step, no state (nanoGPT's "
           "sampling, for transformers)");
  v.field("eval_batch_size", eval_batch_size, "parallel rows when evaluating").positive();
  v.field("valid_fraction", valid_fraction,
          "hold out this last fraction of the training text as the valid split (nanoGPT's 0.1), "
          "instead of a valid file; the vocabulary still comes from the whole file")
      .range(0.0, 0.5);
  v.field("reference", reference,
          "optional JSON file with the data's true entropy {\"test_nats_per_token\": x}");
}

LanguageModelingTask::LanguageModelingTask(const Options& options, const TaskContext& context)
    : options_(options), context_(context) {}

void LanguageModelingTask::for_each_text(
    const std::string& spec, const std::string& option,
    const std::function<void(const std::string&)>& on_text) const {
  TextSource source;
  source.format = options_.format;
  source.text_column = options_.text_column;
  source.header = options_.header;
  source.encoding = options_.encoding;
  lmforge::for_each_text(source, spec, option, context_.place, on_text);
}

torch::Tensor LanguageModelingTask::encode_file(Tokenizer& tokenizer, const std::string& spec,
                                                const std::string& option,
                                                std::int64_t& characters) const {
  std::vector<std::int64_t> ids;
  characters = 0;
  for_each_text(spec, option, [&](const std::string& text) {
    auto text_ids = tokenizer.encode(text);
    ids.insert(ids.end(), text_ids.begin(), text_ids.end());
    ids.push_back(Vocabulary::kEos);
    // The line's characters and its line break, which <eos> predicts: bits per character are
    // then per character of the file, whatever the tokenizer.
    characters += count_characters(text) + 1;
  });
  return torch::tensor(ids, torch::kLong);
}

void LanguageModelingTask::report_split(const std::string& split, const torch::Tensor& stream,
                                        bool vocabulary_reused) const {
  UnknownShare share;
  torch::Tensor ids = stream.contiguous();
  share.add(ids.data_ptr<std::int64_t>(), static_cast<std::size_t>(ids.numel()));
  auto report =
      report_unknown_share(split, share, vocabulary_reused ? "the stage named in init.from" : "");
  std::cout << "language_modeling: " << report.line << "\n";
  if (!report.warning.empty()) std::cout << "language_modeling: " << report.warning << "\n";
}

torch::Tensor LanguageModelingTask::batchify(const torch::Tensor& stream, std::int64_t rows) {
  std::int64_t columns = stream.size(0) / rows;
  return stream.narrow(0, 0, columns * rows).view({rows, columns}).contiguous();
}

void LanguageModelingTask::prepare(Tokenizer& tokenizer, bool fit_vocabulary) {
  if (fit_vocabulary) {
    for_each_text(options_.train, "train", [&](const std::string& text) { tokenizer.count(text); });
    tokenizer.build_vocabulary();
  }
  vocab_size_ = tokenizer.vocabulary().size();
  std::int64_t train_characters = 0;
  torch::Tensor stream = encode_file(tokenizer, options_.train, "train", train_characters);
  report_split("train", stream, !fit_vocabulary);
  const double train_characters_per_token =
      static_cast<double>(train_characters) /
      static_cast<double>(std::max<std::int64_t>(1, stream.size(0)));
  torch::Tensor held_out;
  if (options_.valid_fraction > 0) {
    if (!options_.valid.empty()) {
      throw ConfigError(context_.place, "give either valid or valid_fraction, not both");
    }
    auto valid_tokens = static_cast<std::int64_t>(
        std::floor(options_.valid_fraction * static_cast<double>(stream.size(0))));
    held_out = stream.narrow(0, stream.size(0) - valid_tokens, valid_tokens);
    stream = stream.narrow(0, 0, stream.size(0) - valid_tokens);
  }
  if (stream.size(0) < 2 * context_.batch_size + 1) {
    throw DataError(context_.place,
                    "training text '" + options_.train + "' has " + std::to_string(stream.size(0)) +
                        " tokens, too few for batch_size " + std::to_string(context_.batch_size));
  }
  // Entropy of the unigram distribution: the perplexity a model that ignores context would get.
  auto counts = torch::bincount(stream, {}, vocab_size_).to(torch::kDouble);
  auto p = counts / counts.sum();
  auto nz = p.masked_select(p > 0);
  unigram_nats_ = -(nz * nz.log()).sum().item<double>();

  train_ = batchify(stream, context_.batch_size);
  // Data-parallel: this rank reads its share of the batch's streams (the global batch's rows).
  ShardRange rows = shard_range(context_.batch_size, context_.rank, context_.world_size);
  train_ = train_.narrow(0, rows.begin, rows.size()).contiguous();
  if (options_.windows == "random") {
    if (stream.size(0) <= options_.bptt) {
      throw DataError(context_.place, "training text '" + options_.train + "' has " +
                                          std::to_string(stream.size(0)) +
                                          " tokens, too few for windows of bptt " +
                                          std::to_string(options_.bptt) + " + 1");
    }
    train_stream_ = stream;
  }
  for (const auto& [split, path] :
       {std::pair<std::string, std::string>{"valid", options_.valid}, {"test", options_.test}}) {
    const bool split_off = split == "valid" && held_out.defined();
    if (path.empty() && !split_off) continue;
    std::int64_t characters = 0;
    torch::Tensor s = split_off ? held_out : encode_file(tokenizer, path, split, characters);
    // A split held out of the training stream has the training text's characters per token.
    characters_per_token_[split] =
        split_off ? train_characters_per_token
                  : static_cast<double>(characters) /
                        static_cast<double>(std::max<std::int64_t>(1, s.size(0)));
    report_split(split, s, !fit_vocabulary);
    std::int64_t rows = std::min<std::int64_t>(options_.eval_batch_size,
                                               std::max<std::int64_t>(1, (s.size(0) - 1) / 2));
    if (s.size(0) < 2) {
      throw DataError(context_.place, split_off ? "valid_fraction " +
                                                      std::to_string(options_.valid_fraction) +
                                                      " holds out fewer than 2 tokens"
                                                : split + " text '" + path + "' is empty");
    }
    eval_[split] = batchify(s, rows);
  }
}

std::int64_t LanguageModelingTask::steps_per_epoch() const {
  return (train_.size(1) - 1 + options_.bptt - 1) / options_.bptt;
}

void LanguageModelingTask::start_epoch(std::int64_t) { state_.clear(); }

StepResult LanguageModelingTask::train_step(Model& model, std::int64_t step) {
  if (train_stream_.defined()) {
    // The default generator draws the offsets, so checkpoints (which save it) resume exactly.
    const std::int64_t span = options_.bptt + 1;
    auto offsets =
        torch::randint(train_stream_.size(0) - span + 1, {context_.batch_size}, torch::kLong);
    // Every rank draws the whole batch's offsets (same generator state) and keeps its share.
    ShardRange rows = shard_range(context_.batch_size, context_.rank, context_.world_size);
    offsets = offsets.narrow(0, rows.begin, rows.size());
    auto windows = train_stream_.index({offsets.unsqueeze(1) + torch::arange(span)});
    auto input = windows.narrow(1, 0, options_.bptt).to(context_.device);
    auto target = windows.narrow(1, 1, options_.bptt).to(context_.device);
    Features features = model.backbone().forward(BackboneInput{input, {}, {}});
    return StepResult{model.head().forward_loss(features, target), input.numel(), false};
  }
  std::int64_t start = step * options_.bptt;
  std::int64_t length = std::min(options_.bptt, train_.size(1) - 1 - start);
  auto input = train_.narrow(1, start, length).to(context_.device);
  auto target = train_.narrow(1, start + 1, length).to(context_.device);
  Features features = model.backbone().forward(BackboneInput{input, {}, state_});
  if (model.backbone().carries_state()) state_ = Backbone::detach(features.state);
  return StepResult{model.head().forward_loss(features, target), input.numel(), false};
}

Metrics LanguageModelingTask::evaluate(Model& model, const std::string& split) {
  auto it = eval_.find(split);
  if (it == eval_.end()) return {};
  torch::NoGradGuard no_grad;
  model.eval();
  // Data-parallel: each rank evaluates its share of the parallel rows (their state is per row),
  // and the sums of nats and tokens are added over the ranks.
  const ShardRange rows = shard_range(it->second.size(0), context_.rank, context_.world_size);
  const torch::Tensor data = it->second.narrow(0, rows.begin, rows.size());
  State state;
  double total_nats = 0;
  std::int64_t total_tokens = 0;
  for (std::int64_t start = 0; rows.size() > 0 && start < data.size(1) - 1;
       start += options_.bptt) {
    std::int64_t length = std::min(options_.bptt, data.size(1) - 1 - start);
    auto input = data.narrow(1, start, length).to(context_.device);
    auto target = data.narrow(1, start + 1, length).to(context_.device);
    Features features = model.backbone().forward(BackboneInput{input, {}, state});
    if (model.backbone().carries_state()) state = features.state;
    auto loss = model.head().forward_loss(features, target);
    total_nats += loss.item<double>() * static_cast<double>(target.numel());
    total_tokens += target.numel();
  }
  model.train();
  if (context_.sum_over_ranks) {
    torch::Tensor sums =
        torch::tensor({total_nats, static_cast<double>(total_tokens)}, torch::kDouble);
    context_.sum_over_ranks(sums);
    total_nats = sums[0].item<double>();
    total_tokens = static_cast<std::int64_t>(std::llround(sums[1].item<double>()));
  }
  double nats = total_nats / static_cast<double>(std::max<std::int64_t>(1, total_tokens));
  // Per character of the split's text (its own characters per token), so word, syllable and
  // subword models of the same text compare.
  const double bpc = nats / std::log(2.0) / std::max(1e-12, characters_per_token_.at(split));
  return {{"loss", nats},
          {"ppl", std::exp(nats)},
          {"bits_per_token", nats / std::log(2.0)},
          {"bpc", bpc},
          {"unigram_ppl", std::exp(unigram_nats_)}};
}

std::vector<std::string> LanguageModelingTask::eval_splits() const {
  std::vector<std::string> splits;
  for (const auto& [name, data] : eval_) splits.push_back(name);
  std::sort(splits.begin(), splits.end(), [](const std::string& a, const std::string& b) {
    return a == "valid" && b != "valid";  // valid before test
  });
  return splits;
}

void LanguageModelingTask::save_state(torch::serialize::OutputArchive& archive) const {
  archive.write("lm.state_size", torch::tensor(static_cast<std::int64_t>(state_.size())));
  for (std::size_t i = 0; i < state_.size(); ++i) {
    archive.write("lm.state." + std::to_string(i), state_[i]);
  }
}

void LanguageModelingTask::load_state(torch::serialize::InputArchive& archive) {
  torch::Tensor size;
  archive.read("lm.state_size", size);
  state_.clear();
  for (std::int64_t i = 0; i < size.item<std::int64_t>(); ++i) {
    torch::Tensor t;
    archive.read("lm.state." + std::to_string(i), t);
    state_.push_back(t.to(context_.device));
  }
}

std::vector<std::string> LanguageModelingTask::summary(const Metrics& final_metrics) const {
  std::vector<std::string> lines;
  auto ppl = final_metrics.find("test.ppl");
  if (ppl == final_metrics.end()) ppl = final_metrics.find("valid.ppl");
  if (ppl == final_metrics.end()) return lines;
  std::ostringstream line;
  line << std::fixed << std::setprecision(2) << "perplexity " << ppl->second
       << " vs unigram baseline " << std::exp(unigram_nats_);
  lines.push_back(line.str());
  if (!options_.reference.empty()) {
    std::ifstream in(options_.reference, std::ios::binary);
    if (!in) throw DataError(context_.place, "reference: cannot read '" + options_.reference + "'");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto key = text.find("\"test_nats_per_token\"");
    if (key != std::string::npos) {
      double true_nats = std::stod(text.substr(text.find(':', key) + 1));
      std::ostringstream ref;
      ref << std::fixed << std::setprecision(3) << "true entropy of the data: " << true_nats
          << " nats/token (perplexity " << std::setprecision(2) << std::exp(true_nats)
          << "); the model is within " << std::setprecision(3) << std::log(ppl->second) - true_nats
          << " nats/token of the best possible";
      lines.push_back(ref.str());
    }
  }
  return lines;
}

}  // namespace lmforge
