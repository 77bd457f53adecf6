#include "my_task.h"

#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <random>

#include "lmforge/error.h"
#include "lmforge/plugin.h"
#include "lmforge/vocabulary.h"

namespace my_task_plugin {
namespace {

using lmforge::Vocabulary;

// Non-blank lines of a UTF-8 text file.
std::vector<std::string> read_lines(const std::string& path, const std::string& option,
                                    const std::string& place) {
  std::ifstream in(path);
  if (!in) throw lmforge::DataError(place, option + ": cannot read '" + path + "'");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos) lines.push_back(line);
  }
  return lines;
}

Sentences encode(const lmforge::Tokenizer& tokenizer, const std::vector<std::string>& lines,
                 std::int64_t max_length) {
  Sentences sentences;
  for (const auto& line : lines) {
    auto ids = tokenizer.encode(line);
    if (ids.empty()) continue;
    if (static_cast<std::int64_t>(ids.size()) > max_length) {
      ids.resize(static_cast<std::size_t>(max_length));
    }
    sentences.push_back(std::move(ids));
  }
  return sentences;
}

}  // namespace

Batch make_batch(const Sentences& sentences, const std::vector<std::size_t>& indices) {
  std::size_t longest = 0;
  for (auto i : indices) longest = std::max(longest, sentences[i].size());
  const auto rows = static_cast<std::int64_t>(indices.size());
  const auto columns = static_cast<std::int64_t>(longest) + 1;
  Batch batch;
  batch.input = torch::full({rows, columns}, Vocabulary::kPad, torch::kLong);
  batch.target = torch::full({rows, columns}, -100, torch::kLong);
  auto input = batch.input.accessor<std::int64_t, 2>();
  auto target = batch.target.accessor<std::int64_t, 2>();
  for (std::int64_t r = 0; r < rows; ++r) {
    const auto& ids = sentences[indices[r]];
    input[r][0] = Vocabulary::kBos;
    for (std::size_t t = 0; t < ids.size(); ++t) {
      input[r][t + 1] = ids[t];
      target[r][t] = ids[t];
    }
    target[r][ids.size()] = Vocabulary::kEos;
    batch.tokens += static_cast<std::int64_t>(ids.size()) + 1;
  }
  batch.mask = batch.target != -100;
  return batch;
}

MyTask::MyTask(const Options& options, const lmforge::TaskContext& context)
    : options_(options), context_(context) {}

void MyTask::prepare(lmforge::Tokenizer& tokenizer, bool fit_vocabulary) {
  const std::int64_t max_length = options_.max_length;
  auto train = read_lines(options_.train, "train", context_.place);
  if (fit_vocabulary) {
    for (const auto& line : train) tokenizer.count(line);
    tokenizer.build_vocabulary();
  }
  vocab_size_ = tokenizer.vocabulary().size();
  splits_["train"] = encode(tokenizer, train, max_length);
  if (splits_["train"].empty()) {
    throw lmforge::DataError(context_.place, "train: '" + options_.train + "' has no sentences");
  }
  for (const auto& [split, path] :
       {std::pair<std::string, std::string>{"valid", options_.valid}, {"test", options_.test}}) {
    if (!path.empty()) {
      splits_[split] = encode(tokenizer, read_lines(path, split, context_.place), max_length);
    }
  }
  start_epoch(0);
}

std::int64_t MyTask::steps_per_epoch() const {
  const auto n = static_cast<std::int64_t>(splits_.at("train").size());
  return (n + context_.batch_size - 1) / context_.batch_size;
}

void MyTask::start_epoch(std::int64_t epoch) {
  // The order depends only on the seed and the epoch, so a resumed run sees the same batches.
  order_.resize(splits_.at("train").size());
  std::iota(order_.begin(), order_.end(), 0);
  std::mt19937_64 rng(context_.seed * 1000003 + static_cast<std::uint64_t>(epoch));
  for (std::size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[rng() % i]);
}

torch::Tensor MyTask::logits(lmforge::Model& model, const Batch& batch) const {
  auto features = model.backbone().forward(
      {batch.input.to(context_.device), batch.mask.to(context_.device), {}});
  auto logits = model.head().forward(features);
  TORCH_CHECK(logits.dim() == 3, "task my_task needs a per-token head such as lm; got logits ",
              logits.sizes());
  return logits;
}

lmforge::StepResult MyTask::train_step(lmforge::Model& model, std::int64_t step) {
  const auto begin = static_cast<std::size_t>(step * context_.batch_size);
  const auto end = std::min(order_.size(), begin + static_cast<std::size_t>(context_.batch_size));
  const std::vector<std::size_t> indices(order_.begin() + begin, order_.begin() + end);
  Batch batch = make_batch(splits_.at("train"), indices);
  auto loss = model.head().loss(logits(model, batch), batch.target.to(context_.device));
  return lmforge::StepResult{loss, batch.tokens, false};
}

lmforge::Metrics MyTask::evaluate(lmforge::Model& model, const std::string& split) {
  auto it = splits_.find(split);
  if (it == splits_.end() || it->second.empty()) return {};
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  double nats = 0, correct = 0, tokens = 0;
  std::vector<std::size_t> indices;
  for (std::size_t start = 0; start < it->second.size(); start += context_.batch_size) {
    indices.resize(std::min<std::size_t>(context_.batch_size, it->second.size() - start));
    std::iota(indices.begin(), indices.end(), start);
    Batch batch = make_batch(it->second, indices);
    auto target = batch.target.to(context_.device);
    auto out = logits(model, batch);
    nats += model.head().loss(out, target).item<double>() * batch.tokens;
    correct += (out.argmax(-1) == target).sum().item<double>();
    tokens += batch.tokens;
  }
  model.train(was_training);
  const double loss = nats / tokens;
  return {{"loss", loss}, {"ppl", std::exp(loss)}, {"accuracy", correct / tokens}};
}

std::vector<std::string> MyTask::eval_splits() const {
  std::vector<std::string> splits;
  for (const char* split : {"valid", "test"}) {
    if (splits_.count(split)) splits.push_back(split);
  }
  return splits;
}

}  // namespace my_task_plugin

// The one exported entry point: the loader checks the plugin ABI and LibTorch version this file was
// compiled with, then calls this to register the component under the name recipes use.
LMFORGE_PLUGIN(my_task) {
  reg.task<my_task_plugin::MyTask>(
      "my_task", "next-token prediction over independent sentences (padded batches)");
}
