#pragma once
// What the labelled-data tasks (classification, tagging) have in common: seeded random streams
// and a portable shuffle, length-bucketed batching, line helpers for their data readers, the
// option checks on fraction/valid_fraction, labels.txt, the eval-mode guard, and the metrics and
// confusion-matrix report computed from a [true][predicted] count matrix. Kept in one place so
// the two tasks sample, batch, score and report identically; each task keeps its own data format,
// batches, loss and messages.
#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lmforge/task.h"
#include "lmforge/vocabulary.h"

namespace lmforge::task_support {

/// A random stream derived from the recipe seed, one per `stream` (and `value`, e.g. the epoch),
/// so that changing one option (say `fraction`) leaves the other random choices alone.
std::mt19937_64 seeded_rng(std::uint64_t seed, std::uint32_t stream, std::uint64_t value = 0);

/// Fisher-Yates written out because std::shuffle's sequence is implementation-defined; a seed
/// must select the same examples and batches with every standard library.
template <class T>
void shuffle(std::vector<T>& items, std::mt19937_64& rng) {
  for (std::size_t i = items.size(); i > 1; --i) {
    std::swap(items[i - 1], items[static_cast<std::size_t>(rng() % i)]);
  }
}

/// items[indices[0]], items[indices[1]], ...
template <class T>
std::vector<T> pick(const std::vector<T>& items, const std::vector<std::size_t>& indices) {
  std::vector<T> out;
  out.reserve(indices.size());
  for (std::size_t i : indices) out.push_back(items[i]);
  return out;
}

/// Rows per batch: a batch_size below 1 still makes progress.
inline std::size_t batch_rows(std::int64_t batch_size) {
  return static_cast<std::size_t>(std::max<std::int64_t>(1, batch_size));
}

/// One training epoch's batches of example indices (`Example` has `ids`): shuffled, sorted by
/// length within windows of 50 batches (little padding), cut into batches, and the batch order
/// shuffled, so batches still mix differently from epoch to epoch.
template <class Example>
std::vector<std::vector<std::int64_t>> shuffled_length_buckets(const std::vector<Example>& examples,
                                                               std::size_t rows,
                                                               std::mt19937_64& rng) {
  std::vector<std::int64_t> order(examples.size());
  std::iota(order.begin(), order.end(), 0);
  shuffle(order, rng);
  const std::size_t window = 50 * rows;
  auto longer = [&](std::int64_t x, std::int64_t y) {
    return examples[x].ids.size() > examples[y].ids.size();
  };
  for (std::size_t start = 0; start < order.size(); start += window) {
    std::stable_sort(order.begin() + start, order.begin() + std::min(order.size(), start + window),
                     longer);
  }
  std::vector<std::vector<std::int64_t>> batches;
  for (std::size_t start = 0; start < order.size(); start += rows) {
    batches.emplace_back(order.begin() + start,
                         order.begin() + std::min(order.size(), start + rows));
  }
  shuffle(batches, rng);
  return batches;
}

/// Indices of `examples`, longest first, cut into batches: evaluation and prediction need no
/// shuffling, only little padding.
template <class Example>
std::vector<std::vector<std::int64_t>> longest_first_batches(const std::vector<Example>& examples,
                                                             std::size_t rows) {
  std::vector<std::int64_t> order(examples.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::int64_t x, std::int64_t y) {
    return examples[x].ids.size() > examples[y].ids.size();
  });
  std::vector<std::vector<std::int64_t>> batches;
  for (std::size_t start = 0; start < order.size(); start += rows) {
    batches.emplace_back(order.begin() + start,
                         order.begin() + std::min(order.size(), start + rows));
  }
  return batches;
}

/// The examples of `split`, empty for a split without data.
template <class Example>
const std::vector<Example>& split_examples(
    const std::map<std::string, std::vector<Example>>& splits, const std::string& split) {
  static const std::vector<Example> kNone;
  auto it = splits.find(split);
  return it == splits.end() ? kNone : it->second;
}

/// "valid" and "test", those with data, in that order.
template <class Example>
std::vector<std::string> eval_splits(const std::map<std::string, std::vector<Example>>& splits) {
  std::vector<std::string> out;
  for (const char* split : {"valid", "test"}) {
    if (!split_examples(splits, split).empty()) out.push_back(split);
  }
  return out;
}

/// Throws Error at `place` unless `step` is one of the `batches` steps of an epoch.
void check_step(const std::string& place, std::int64_t step, std::size_t batches);

/// The token ids of a batch, right-padded with Vocabulary::kPad, on the CPU.
struct PaddedTokens {
  torch::Tensor tokens;  ///< [B,T] int64
  torch::Tensor mask;    ///< [B,T] bool, true for real tokens
  std::int64_t real_tokens = 0;
};

/// Pads the `ids` of `indices` of `examples` to the longest of them (at least 1 wide).
template <class Example>
PaddedTokens pad_tokens(const std::vector<Example>& examples,
                        const std::vector<std::int64_t>& indices) {
  auto rows = static_cast<std::int64_t>(indices.size());
  std::int64_t width = 1;
  for (auto i : indices) width = std::max<std::int64_t>(width, examples[i].ids.size());
  PaddedTokens padded;
  padded.tokens = torch::full({rows, width}, Vocabulary::kPad, torch::kLong);
  padded.mask = torch::zeros({rows, width}, torch::kBool);
  auto tokens = padded.tokens.accessor<std::int64_t, 2>();
  auto mask = padded.mask.accessor<bool, 2>();
  for (std::int64_t r = 0; r < rows; ++r) {
    const auto& ids = examples[indices[r]].ids;
    for (std::size_t t = 0; t < ids.size(); ++t) {
      tokens[r][t] = ids[t];
      mask[r][t] = true;
    }
    padded.real_tokens += static_cast<std::int64_t>(ids.size());
  }
  return padded;
}

/// ASCII white space, line breaks included.
bool is_space(char c);
/// `s` without leading and trailing white space.
std::string trim(std::string_view s);
/// True when `s` holds only white space.
bool blank(const std::string& s);
/// Line `number` of a file without the UTF-8 byte-order mark that Windows editors put before the
/// first line; it must not become part of the first label or token.
std::string strip_bom(const std::string& line, std::int64_t number);
/// "path:line", the place of an error in a data file.
std::string where(const std::string& path, std::int64_t line);
/// The first `max_items` of `items`, comma-separated, with the count when some are left out.
std::string join(const std::vector<std::string>& items, std::size_t max_items);
/// `value` with a fixed number of decimals.
std::string fixed(double value, int digits = 4);

/// Throws ConfigError at `place` unless fraction is in (0, 1], valid_fraction in [0, 1), and
/// valid_fraction is 0 when a valid file is given.
void check_sampling(const std::string& place, double fraction, double valid_fraction,
                    const std::string& valid);

/// Writes `labels` to dir/labels.txt, one a line, in id order.
void write_labels(const std::string& dir, const std::vector<std::string>& labels);
/// Reads dir/labels.txt into labels in id order and their ids. Throws DataError when the file is
/// missing (naming the `task` stage that writes it), empty or holds a label twice.
std::pair<std::vector<std::string>, std::map<std::string, std::int64_t>> read_labels(
    const std::string& dir, const std::string& task);

/// The device of the model's parameters, `fallback` for a model without any: a task built
/// without knowing where the model lives (the predict command) follows the model.
torch::Device model_device(Model& model, torch::Device fallback);

/// Puts the model in eval mode and restores its training flag however the scope is left.
class EvalMode {
 public:
  explicit EvalMode(Model& model);
  ~EvalMode();
  EvalMode(const EvalMode&) = delete;
  EvalMode& operator=(const EvalMode&) = delete;

 private:
  Model& model_;
  bool was_training_;
};

/// [true label][predicted label] counts.
using Confusion = std::vector<std::vector<std::int64_t>>;

/// "accuracy", "macro_f1" and "precision.LABEL" / "recall.LABEL" for each of `labels` from
/// `confusion`. Macro-F1 averages over the labels that occur in the data or the predictions only.
Metrics confusion_metrics(const Confusion& confusion, const std::vector<std::string>& labels);

/// Terminal lines for `confusion` on `split`: the matrix for up to 12 labels (rows headed
/// "rows: true `row_label`"), else the 8 most frequent confusions.
std::vector<std::string> confusion_report(const Confusion& confusion,
                                          const std::vector<std::string>& labels,
                                          const std::string& split, const std::string& row_label);

}  // namespace lmforge::task_support
