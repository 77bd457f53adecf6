#include "seq2seq_task.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <sstream>

#include "lmforge/batching.h"
#include "lmforge/bleu.h"
#include "lmforge/data_shard.h"
#include "lmforge/error.h"
#include "lmforge/text_file.h"
#include "lmforge/text_util.h"
#include "pair_file.h"
#include "search.h"

namespace lmforge {
namespace {

constexpr std::uint32_t kBatchOrderStream = 71;

std::vector<std::string> read_lines(const std::string& path, const std::string& encoding,
                                    const std::string& option, const std::string& place) {
  require_readable_file(path, option, place);
  std::vector<std::string> lines;
  for_each_line(path, encoding, place,
                [&](const std::string& line, std::int64_t) { lines.push_back(line); });
  return lines;
}

Seq2SeqBody& body_of(Model& model, const std::string& place) {
  auto* body = dynamic_cast<Seq2SeqBody*>(&model.backbone());
  if (body == nullptr) {
    throw ConfigError(place,
                      "the seq2seq task needs a sequence-to-sequence backbone (one implementing "
                      "lmforge/seq2seq.h, e.g. backbone: {type: encoder_decoder})");
  }
  return *body;
}

torch::Device model_device(Model& model) {
  auto parameters = model.parameters();
  return parameters.empty() ? torch::Device(torch::kCPU) : parameters.front().device();
}

/// Right-padded [rows, longest] of the chosen sequences, and its mask.
std::pair<torch::Tensor, torch::Tensor> pad(
    const std::vector<const std::vector<std::int64_t>*>& rows) {
  std::size_t width = 1;
  for (const auto* r : rows) width = std::max(width, r->size());
  auto tokens =
      torch::full({static_cast<std::int64_t>(rows.size()), static_cast<std::int64_t>(width)},
                  Vocabulary::kPad, torch::kLong);
  auto a = tokens.accessor<std::int64_t, 2>();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    for (std::size_t j = 0; j < rows[i]->size(); ++j) a[i][j] = (*rows[i])[j];
  }
  return {tokens, tokens.ne(Vocabulary::kPad)};
}

/// `value` as a recipe would spell it (0.05, not 0.050000).
std::string number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

/// `wanted` row indices spread evenly over `count` rows (all of them when there are fewer).
std::vector<std::size_t> spread(std::size_t count, std::size_t wanted) {
  std::vector<std::size_t> rows;
  const std::size_t n = std::min(count, wanted);
  for (std::size_t i = 0; i < n; ++i) rows.push_back(i * count / n);
  return rows;
}

}  // namespace

void Seq2SeqOptions::visit(OptionVisitor& v) {
  v.field("source", source, "training source text, one sentence per line (or give pairs)");
  v.field("target", target,
          "training target text, line-aligned with source (line i translates line i)");
  v.field("pairs", pairs,
          "instead of source and target: one tab-separated file holding both sides of each pair "
          "in two of its columns (e.g. ko-chatbot's Q<TAB>A<TAB>label)");
  v.field("columns", columns,
          "the source and target columns of pairs: two header names (the first line is then "
          "the header) or two 0-based indices (the first line is then data unless header)");
  v.field("header", header, "pairs with indices as columns: the first line is a header");
  v.field("valid_fraction", valid_fraction,
          "instead of valid files: hold out this fraction of the training pairs for validation, "
          "chosen by a shuffle seeded with the recipe seed; in [0, 1), and valid_fraction + "
          "test_fraction below 1 (0 = none)")
      .range(0, 1);
  v.field("test_fraction", test_fraction,
          "instead of test files: hold out this fraction of the training pairs for the test, "
          "chosen with valid_fraction's shuffle and disjoint from it (0 = none)")
      .range(0, 1);
  v.field("samples", samples,
          "print this many validation and test sentences (spread over the split) with the "
          "model's translation and the reference at the end of the stage (0 = none)")
      .non_negative();
  v.field("valid_source", valid_source, "validation source text (evaluated each epoch)");
  v.field("valid_target", valid_target, "validation target text, line-aligned");
  v.field("test_source", test_source, "test source text (evaluated at the end)");
  v.field("test_target", test_target, "test target text, line-aligned");
  v.field("encoding", encoding, "text encoding of every file: utf-8, cp1252 or latin-1");
  v.field("max_length", max_length,
          "longest sequence in tokens, counting <eos> (source) and <bos> + <eos> (target); "
          "must not exceed the backbone's max_positions")
      .positive();
  v.choice("too_long", too_long, {"refuse", "truncate"},
           "a pair longer than max_length: refuse (an error naming file and line) or truncate "
           "(cut to max_length, one warning counting the pairs cut per split)");
  v.field("max_tokens", max_tokens,
          "training batches hold pairs of similar length up to this many padded tokens "
          "(rows x longest side); 0 = batch_size pairs per batch")
      .non_negative();
  v.field("label_smoothing", label_smoothing,
          "label smoothing of the training loss (evaluation reports the plain loss)")
      .range(0.0, 0.99);
  v.field("bleu", bleu,
          "translate the validation/test sources each evaluation and report corpus BLEU "
          "(then the primary metric); false = loss and perplexity only");
  v.choice("bleu_tokenize", bleu_tokenize, {"13a", "none"},
           "BLEU tokenisation: sacreBLEU's 13a for raw text, none for text already tokenised");
  v.field("eval_beam", eval_beam, "beam size of the evaluation translations (1 = greedy)")
      .positive();
  v.field("length_penalty", length_penalty,
          "beam search ranks finished hypotheses by log-probability / length^length_penalty")
      .non_negative();
  v.field("max_length_a", max_length_a,
          "translations stop at max_length_a * source tokens + max_length_b")
      .non_negative();
  v.field("max_length_b", max_length_b, "see max_length_a").non_negative();
  v.field("eval_batch_size", eval_batch_size, "sentences per evaluation or translation batch")
      .positive();
}

void Seq2SeqOptions::check(const std::string& place) const {
  if (!pairs.empty() && (!source.empty() || !target.empty())) {
    throw ConfigError(place,
                      "give either pairs (one tab-separated file) or source and target (two "
                      "line-aligned files), not both");
  }
  if (pairs.empty() && (source.empty() || target.empty())) {
    throw ConfigError(place,
                      "give source and target (two line-aligned files) or pairs (one "
                      "tab-separated file with columns)");
  }
  for (const auto& [name, fraction] :
       {std::pair<const char*, double>{"valid_fraction", valid_fraction},
        {"test_fraction", test_fraction}}) {
    if (!(fraction >= 0 && fraction < 1)) {
      throw ConfigError(place, std::string(name) + " must be in [0, 1), got " + number(fraction));
    }
  }
  if (valid_fraction + test_fraction >= 1) {
    throw ConfigError(place,
                      "valid_fraction + test_fraction must be below 1 (training keeps the "
                      "rest), got " +
                          number(valid_fraction + test_fraction));
  }
  if (valid_fraction > 0 && (!valid_source.empty() || !valid_target.empty())) {
    throw ConfigError(place, "give either valid_fraction or valid_source/valid_target, not both");
  }
  if (test_fraction > 0 && (!test_source.empty() || !test_target.empty())) {
    throw ConfigError(place, "give either test_fraction or test_source/test_target, not both");
  }
}

Seq2SeqTask::Seq2SeqTask(const Options& options, const TaskContext& context)
    : options_(options), context_(context) {
  options_.check(context_.place);
}

Seq2SeqTask::Texts Seq2SeqTask::Texts::pick(const std::vector<std::int64_t>& rows) const {
  Texts part;
  part.source_path = source_path;
  part.target_path = target_path;
  part.one_file = one_file;
  for (auto row : rows) {
    part.sources.push_back(sources[row]);
    part.targets.push_back(targets[row]);
    part.lines.push_back(lines[row]);
  }
  return part;
}

Seq2SeqTask::Texts Seq2SeqTask::read_parallel(const std::string& source, const std::string& target,
                                              const std::string& name) const {
  const std::string source_option = name == "train" ? "source" : name + "_source";
  const std::string target_option = name == "train" ? "target" : name + "_target";
  if (source.empty() != target.empty()) {
    throw ConfigError(context_.place,
                      "give both " + source_option + " and " + target_option + ", or neither");
  }
  Texts texts;
  texts.sources = read_lines(source, options_.encoding, source_option, context_.place);
  texts.targets = read_lines(target, options_.encoding, target_option, context_.place);
  if (texts.sources.size() != texts.targets.size()) {
    throw DataError(context_.place, "parallel files differ in length: " + source_option + " '" +
                                        source + "' has " + std::to_string(texts.sources.size()) +
                                        " lines but " + target_option + " '" + target + "' has " +
                                        std::to_string(texts.targets.size()));
  }
  if (texts.sources.empty()) {
    throw DataError(context_.place, source_option + " '" + source + "' is empty");
  }
  texts.lines.resize(texts.sources.size());
  std::iota(texts.lines.begin(), texts.lines.end(), 1);
  texts.source_path = source;
  texts.target_path = target;
  return texts;
}

Seq2SeqTask::Texts Seq2SeqTask::read_pairs() const {
  seq2seq::PairRows rows =
      seq2seq::read_pair_file(options_.pairs, options_.encoding,
                              {options_.columns, options_.header}, "pairs", context_.place);
  if (rows.sources.empty()) {
    throw DataError(context_.place, "pairs '" + options_.pairs + "' holds no pairs");
  }
  Texts texts;
  texts.sources = std::move(rows.sources);
  texts.targets = std::move(rows.targets);
  texts.lines = std::move(rows.lines);
  texts.source_path = texts.target_path = options_.pairs;
  texts.one_file = true;
  return texts;
}

Seq2SeqTask::Split Seq2SeqTask::encode_split(const Tokenizer& tokenizer, Texts texts,
                                             const std::string& name) const {
  Split split;
  std::int64_t truncated = 0;
  for (std::size_t i = 0; i < texts.sources.size(); ++i) {
    Pair pair;
    pair.ids = tokenizer.encode(texts.sources[i]);
    auto target_ids = tokenizer.encode(texts.targets[i]);
    if (pair.ids.empty() || target_ids.empty()) {
      const bool source_empty = pair.ids.empty();
      throw DataError(
          context_.place,
          text_util::where(source_empty ? texts.source_path : texts.target_path, texts.lines[i]) +
              ": empty " + (source_empty ? "source" : "target") +
              " sentence in a parallel pair; remove the pair from " +
              (texts.one_file ? "the file" : "both files"));
    }
    const auto source_tokens = static_cast<std::int64_t>(pair.ids.size()) + 1;
    const auto target_tokens = static_cast<std::int64_t>(target_ids.size()) + 2;
    if (source_tokens > options_.max_length || target_tokens > options_.max_length) {
      if (options_.too_long == "refuse") {
        const bool source_long = source_tokens > options_.max_length;
        throw DataError(
            context_.place,
            text_util::where(source_long ? texts.source_path : texts.target_path, texts.lines[i]) +
                ": " + std::to_string(source_long ? source_tokens : target_tokens) +
                " tokens, more than max_length " + std::to_string(options_.max_length) +
                "; raise max_length (and the backbone's max_positions) or set "
                "too_long: truncate");
      }
      ++truncated;
      if (source_tokens > options_.max_length) pair.ids.resize(options_.max_length - 1);
      if (target_tokens > options_.max_length) target_ids.resize(options_.max_length - 2);
    }
    pair.ids.push_back(Vocabulary::kEos);
    pair.target.reserve(target_ids.size() + 2);
    pair.target.push_back(Vocabulary::kBos);
    pair.target.insert(pair.target.end(), target_ids.begin(), target_ids.end());
    pair.target.push_back(Vocabulary::kEos);
    split.pairs.push_back(std::move(pair));
  }
  if (truncated > 0) {
    std::cerr << "seq2seq: warning: " << truncated << " of " << texts.sources.size() << " " << name
              << " pairs were longer than max_length " << options_.max_length
              << " and were truncated\n";
  }
  split.references = std::move(texts.targets);
  split.sources = std::move(texts.sources);
  std::cout << "seq2seq: " << name << " " << split.pairs.size() << " sentence pairs\n";
  return split;
}

std::vector<std::vector<std::int64_t>> Seq2SeqTask::token_batches(const std::vector<Pair>& pairs,
                                                                  std::int64_t max_tokens,
                                                                  std::int64_t max_rows) {
  auto longest_side = [&](std::int64_t i) {
    return static_cast<std::int64_t>(std::max(pairs[i].ids.size(), pairs[i].target.size()));
  };
  std::vector<std::int64_t> order(pairs.size());
  std::iota(order.begin(), order.end(), 0);
  // Source length then target length, so a batch's rows pad little on either side.
  std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
    if (pairs[a].ids.size() != pairs[b].ids.size())
      return pairs[a].ids.size() < pairs[b].ids.size();
    return pairs[a].target.size() < pairs[b].target.size();
  });
  std::vector<std::vector<std::int64_t>> batches;
  std::vector<std::int64_t> current;
  std::int64_t longest = 0;
  for (auto i : order) {
    const std::int64_t wider = std::max(longest, longest_side(i));
    const auto rows = static_cast<std::int64_t>(current.size()) + 1;
    const bool full = max_tokens > 0 ? rows * wider > max_tokens : rows > max_rows;
    if (full && !current.empty()) {
      batches.push_back(std::move(current));
      current.clear();
      longest = 0;
    }
    current.push_back(i);
    longest = std::max(longest, longest_side(i));
  }
  if (!current.empty()) batches.push_back(std::move(current));
  return batches;
}

void Seq2SeqTask::prepare(Tokenizer& tokenizer, bool fit_vocabulary) {
  tokenizer_ = &tokenizer;
  const Texts all = options_.pairs.empty()
                        ? read_parallel(options_.source, options_.target, "train")
                        : read_pairs();
  const seq2seq::HeldOutSplit rows =
      seq2seq::split_rows(static_cast<std::int64_t>(all.sources.size()), options_.valid_fraction,
                          options_.test_fraction, context_.seed);
  if (rows.train.empty()) {
    throw DataError(context_.place, "valid_fraction and test_fraction leave none of the " +
                                        std::to_string(all.sources.size()) +
                                        " pairs for training; lower them");
  }
  Texts train = all.pick(rows.train);
  if (fit_vocabulary) {
    for (std::size_t i = 0; i < train.sources.size(); ++i) {
      tokenizer.count(train.sources[i]);
      tokenizer.count(train.targets[i]);
    }
    tokenizer.build_vocabulary();
  }
  vocab_size_ = tokenizer.vocabulary().size();
  train_ = encode_split(tokenizer, std::move(train), "train").pairs;
  batches_ = token_batches(train_, options_.max_tokens, context_.batch_size);
  add_eval_split(tokenizer, "valid", options_.valid_fraction, options_.valid_source,
                 options_.valid_target, all, rows.valid);
  add_eval_split(tokenizer, "test", options_.test_fraction, options_.test_source,
                 options_.test_target, all, rows.test);
  start_epoch(0);
}

void Seq2SeqTask::add_eval_split(const Tokenizer& tokenizer, const std::string& name,
                                 double fraction, const std::string& source,
                                 const std::string& target, const Texts& all,
                                 const std::vector<std::int64_t>& rows) {
  if (fraction > 0) {
    if (rows.empty()) {
      throw DataError(context_.place, name + "_fraction " + number(fraction) + " of " +
                                          std::to_string(all.sources.size()) +
                                          " pairs holds out none; raise it");
    }
    eval_[name] = encode_split(tokenizer, all.pick(rows), name);
  } else if (!source.empty() || !target.empty()) {
    eval_[name] = encode_split(tokenizer, read_parallel(source, target, name), name);
  }
}

void Seq2SeqTask::start_epoch(std::int64_t epoch) {
  order_.resize(batches_.size());
  std::iota(order_.begin(), order_.end(), 0);
  auto rng =
      batching::seeded_rng(context_.seed, kBatchOrderStream, static_cast<std::uint64_t>(epoch));
  batching::shuffle(order_, rng);
}

std::pair<torch::Tensor, std::int64_t> Seq2SeqTask::batch_loss(
    Model& model, const std::vector<Pair>& pairs, const std::vector<std::int64_t>& indices,
    double label_smoothing) {
  std::vector<const std::vector<std::int64_t>*> sources, targets;
  for (auto i : indices) {
    sources.push_back(&pairs[i].ids);
    targets.push_back(&pairs[i].target);
  }
  auto [source, source_mask] = pad(sources);
  auto [target, target_mask] = pad(targets);
  source = source.to(context_.device);
  source_mask = source_mask.to(context_.device);
  target = target.to(context_.device);
  const std::int64_t length = target.size(1) - 1;
  auto input = target.narrow(1, 0, length);
  auto expected = target.narrow(1, 1, length)
                      .masked_fill(target.narrow(1, 1, length).eq(Vocabulary::kPad), -100);
  Seq2SeqBody& body = body_of(model, context_.place);
  auto memory = body.encode(source, source_mask);
  Features features = body.decode(input, memory, source_mask, {}, false);
  auto logits = model.head().forward(features);
  auto loss = torch::nn::functional::cross_entropy(
      logits.reshape({-1, logits.size(-1)}).to(torch::kFloat), expected.reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions()
          .ignore_index(-100)
          .label_smoothing(label_smoothing)
          .reduction(torch::kSum));
  return {loss, expected.ne(-100).sum().item<std::int64_t>()};
}

StepResult Seq2SeqTask::train_step(Model& model, std::int64_t step) {
  batching::check_step(context_.place, step, batches_.size());
  const auto& batch = batches_[order_[step]];
  auto mine = shard_indices(batch, context_.rank, context_.world_size);
  if (mine.empty()) {
    return StepResult{
        torch::zeros({}, torch::TensorOptions().device(context_.device)).requires_grad_(), 0,
        false};
  }
  auto [sum, tokens] = batch_loss(model, train_, mine, options_.label_smoothing);
  auto loss = sum / static_cast<double>(std::max<std::int64_t>(1, tokens));
  return StepResult{loss, tokens, false};
}

DecodeOptions Seq2SeqTask::eval_decode_options() const {
  DecodeOptions d;
  d.beam = options_.eval_beam;
  d.length_penalty = options_.length_penalty;
  d.max_length_a = options_.max_length_a;
  d.max_length_b = options_.max_length_b;
  d.batch_size = options_.eval_batch_size;
  return d;
}

std::vector<std::string> Seq2SeqTask::decode_sentences(
    Model& model, const Tokenizer& tokenizer, const std::vector<std::vector<std::int64_t>>& sources,
    const DecodeOptions& options) const {
  if (options.beam < 1) {
    throw ConfigError("--beam",
                      "the beam size must be at least 1, got " + std::to_string(options.beam));
  }
  Seq2SeqBody& body = body_of(model, context_.place);
  const auto device = model_device(model);
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  std::vector<std::string> out(sources.size());
  // Longest first, so each batch pads little.
  std::vector<std::int64_t> order(sources.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
    return sources[a].size() > sources[b].size();
  });
  const auto rows = static_cast<std::size_t>(std::max<std::int64_t>(1, options.batch_size));
  for (std::size_t start = 0; start < order.size(); start += rows) {
    std::vector<const std::vector<std::int64_t>*> batch;
    for (std::size_t i = start; i < std::min(order.size(), start + rows); ++i) {
      batch.push_back(&sources[order[i]]);
    }
    auto [source, mask] = pad(batch);
    source = source.to(device);
    mask = mask.to(device);
    auto hypotheses = options.beam == 1
                          ? seq2seq::greedy_search(body, model.head(), source, mask, options)
                          : seq2seq::beam_search(body, model.head(), source, mask, options);
    for (std::size_t i = 0; i < hypotheses.size(); ++i) {
      out[order[start + i]] = tokenizer.decode(hypotheses[i].tokens);
    }
  }
  if (was_training) model.train();
  return out;
}

Metrics Seq2SeqTask::evaluate(Model& model, const std::string& split) {
  auto it = eval_.find(split);
  if (it == eval_.end()) return {};
  const Split& data = it->second;
  torch::NoGradGuard no_grad;
  model.eval();
  // Each rank scores its share of the sentences; the sums are added over the ranks.
  const ShardRange share =
      shard_range(static_cast<std::int64_t>(data.pairs.size()), context_.rank, context_.world_size);
  std::vector<Pair> mine(data.pairs.begin() + share.begin, data.pairs.begin() + share.end);
  double nats = 0;
  std::int64_t tokens = 0;
  for (const auto& batch : token_batches(mine, 0, options_.eval_batch_size)) {
    auto [sum, count] = batch_loss(model, mine, batch, 0.0);
    nats += sum.item<double>();
    tokens += count;
  }
  if (context_.sum_over_ranks) {
    auto sums = torch::tensor({nats, static_cast<double>(tokens)}, torch::kDouble);
    context_.sum_over_ranks(sums);
    nats = sums[0].item<double>();
    tokens = static_cast<std::int64_t>(std::llround(sums[1].item<double>()));
  }
  const double loss = nats / static_cast<double>(std::max<std::int64_t>(1, tokens));
  Metrics metrics{{"loss", loss}, {"ppl", std::exp(loss)}};
  std::vector<std::string> hypotheses;
  if (options_.bleu && tokenizer_ != nullptr) {
    // Every rank translates the whole split (BLEU is not a sum of per-sentence scores).
    std::vector<std::vector<std::int64_t>> sources;
    for (const auto& p : data.pairs) sources.push_back(p.ids);
    hypotheses = decode_sentences(model, *tokenizer_, sources, eval_decode_options());
    metrics["bleu"] = corpus_bleu(hypotheses, data.references, options_.bleu_tokenize).score;
  }
  if (options_.samples > 0 && tokenizer_ != nullptr) {
    const auto rows = spread(data.pairs.size(), static_cast<std::size_t>(options_.samples));
    std::vector<std::string> outputs;
    if (hypotheses.empty()) {
      std::vector<std::vector<std::int64_t>> sources;
      for (auto row : rows) sources.push_back(data.pairs[row].ids);
      outputs = decode_sentences(model, *tokenizer_, sources, eval_decode_options());
    } else {
      for (auto row : rows) outputs.push_back(hypotheses[row]);
    }
    samples_[split] = sample_lines(split, data, rows, outputs);
  }
  model.train();
  return metrics;
}

std::vector<std::string> Seq2SeqTask::eval_splits() const {
  std::vector<std::string> splits;
  if (eval_.count("valid")) splits.push_back("valid");
  if (eval_.count("test")) splits.push_back("test");
  return splits;
}

std::vector<std::string> Seq2SeqTask::translate(Model& model, const Tokenizer& tokenizer,
                                                const std::vector<std::string>& sources,
                                                const DecodeOptions& options) {
  std::vector<std::vector<std::int64_t>> ids;
  ids.reserve(sources.size());
  for (const auto& text : sources) {
    auto s = tokenizer.encode(text);
    const std::int64_t limit = body_of(model, "translate").max_positions() - 1;
    if (static_cast<std::int64_t>(s.size()) > limit) s.resize(limit);
    s.push_back(Vocabulary::kEos);
    ids.push_back(std::move(s));
  }
  return decode_sentences(model, tokenizer, ids, options);
}

std::vector<std::string> Seq2SeqTask::sample_lines(const std::string& split, const Split& data,
                                                   const std::vector<std::size_t>& rows,
                                                   const std::vector<std::string>& outputs) const {
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::string label =
        split + " sample " + std::to_string(i + 1) + "/" + std::to_string(rows.size());
    lines.push_back(label + "  source:    " + data.sources[rows[i]]);
    lines.push_back(label + "  output:    " + outputs[i]);
    lines.push_back(label + "  reference: " + data.references[rows[i]]);
  }
  return lines;
}

std::vector<std::string> Seq2SeqTask::summary(const Metrics& final_metrics) const {
  std::vector<std::string> lines;
  for (const char* split : {"valid", "test"}) {
    auto bleu = final_metrics.find(std::string(split) + ".bleu");
    if (bleu == final_metrics.end()) continue;
    std::ostringstream line;
    line << std::fixed << std::setprecision(2) << split << " BLEU " << bleu->second << " ("
         << (options_.eval_beam == 1 ? "greedy" : "beam " + std::to_string(options_.eval_beam))
         << ", tokenize " << options_.bleu_tokenize << ")";
    lines.push_back(line.str());
  }
  for (const char* split : {"valid", "test"}) {
    auto samples = samples_.find(split);
    if (samples == samples_.end()) continue;
    lines.insert(lines.end(), samples->second.begin(), samples->second.end());
  }
  return lines;
}

}  // namespace lmforge
