#include "tasks/task_support.h"

#include <torch/torch.h>

#include <filesystem>
#include <iomanip>
#include <sstream>
#include <system_error>
#include <tuple>

#include "io/atomic_file.h"
#include "lmforge/error.h"
#include "text/utf8.h"

namespace lmforge::task_support {
namespace {

// Pads or cuts `s` to `width` code points, so UTF-8 labels line up in the confusion matrix.
std::string fit(const std::string& s, std::size_t width, bool right) {
  std::u32string cps = text::decode_utf8(s);
  if (cps.size() > width) cps.resize(width);
  std::string body = text::encode_utf8(cps);
  std::string pad(width - cps.size(), ' ');
  return right ? pad + body : body + pad;
}

}  // namespace

std::mt19937_64 seeded_rng(std::uint64_t seed, std::uint32_t stream, std::uint64_t value) {
  std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                    stream, static_cast<std::uint32_t>(value),
                    static_cast<std::uint32_t>(value >> 32)};
  return std::mt19937_64(seq);
}

void check_step(const std::string& place, std::int64_t step, std::size_t batches) {
  if (step < 0 || step >= static_cast<std::int64_t>(batches)) {
    throw Error(place, "training step " + std::to_string(step) + " is outside the " +
                           std::to_string(batches) + " batches of an epoch");
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

bool blank(const std::string& s) { return std::all_of(s.begin(), s.end(), is_space); }

std::string strip_bom(const std::string& line, std::int64_t number) {
  static const std::string kBom = "\xEF\xBB\xBF";
  if (number == 1 && line.compare(0, kBom.size(), kBom) == 0) return line.substr(kBom.size());
  return line;
}

std::string where(const std::string& path, std::int64_t line) {
  return path + ":" + std::to_string(line);
}

std::string join(const std::vector<std::string>& items, std::size_t max_items) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < max_items; ++i) {
    out += (i ? ", " : "") + items[i];
  }
  if (items.size() > max_items) out += ", ... (" + std::to_string(items.size()) + " in all)";
  return out;
}

std::string fixed(double value, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << value;
  return s.str();
}

void check_sampling(const std::string& place, double fraction, double valid_fraction,
                    const std::string& valid) {
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

std::pair<std::vector<std::string>, std::map<std::string, std::int64_t>> read_labels(
    const std::string& dir, const std::string& task) {
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
  return {std::move(labels), std::move(ids)};
}

torch::Device model_device(Model& model, torch::Device fallback) {
  auto parameters = model.parameters();
  return parameters.empty() ? fallback : parameters.front().device();
}

EvalMode::EvalMode(Model& model) : model_(model), was_training_(model.is_training()) {
  model_.eval();
}

EvalMode::~EvalMode() { model_.train(was_training_); }

Metrics confusion_metrics(const Confusion& confusion, const std::vector<std::string>& labels) {
  const std::size_t classes = labels.size();
  std::int64_t correct = 0, total = 0;
  double f1_sum = 0;
  std::int64_t f1_classes = 0;
  Metrics metrics;
  for (std::size_t c = 0; c < classes; ++c) {
    std::int64_t actual = 0, predicted = 0;
    for (std::size_t o = 0; o < classes; ++o) {
      actual += confusion[c][o];
      predicted += confusion[o][c];
    }
    const std::int64_t hits = confusion[c][c];
    correct += hits;
    total += actual;
    double precision = predicted ? static_cast<double>(hits) / predicted : 0.0;
    double recall = actual ? static_cast<double>(hits) / actual : 0.0;
    metrics["precision." + labels[c]] = precision;
    metrics["recall." + labels[c]] = recall;
    // A label absent from both the split and the predictions has no defined F1; counting it as 0
    // would punish a model for a class it was never asked about.
    if (actual || predicted) {
      f1_sum += precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
      ++f1_classes;
    }
  }
  metrics["accuracy"] =
      static_cast<double>(correct) / static_cast<double>(std::max<std::int64_t>(1, total));
  metrics["macro_f1"] = f1_classes ? f1_sum / static_cast<double>(f1_classes) : 0.0;
  return metrics;
}

std::vector<std::string> confusion_report(const Confusion& m,
                                          const std::vector<std::string>& labels,
                                          const std::string& split, const std::string& row_label) {
  std::vector<std::string> lines;
  const std::size_t classes = m.size();
  if (classes > 12) {
    // A 47x47 matrix (TREC fine) is unreadable on a terminal; the largest confusions say more.
    std::vector<std::tuple<std::int64_t, std::size_t, std::size_t>> pairs;
    for (std::size_t t = 0; t < classes; ++t) {
      for (std::size_t p = 0; p < classes; ++p) {
        if (t != p && m[t][p] > 0) pairs.emplace_back(-m[t][p], t, p);
      }
    }
    std::sort(pairs.begin(), pairs.end());
    std::string line = "most frequent confusions on " + split + " (true -> predicted):";
    if (pairs.empty()) line += " none";
    for (std::size_t i = 0; i < pairs.size() && i < 8; ++i) {
      auto [count, t, p] = pairs[i];
      line += (i ? ", " : " ") + labels[t] + " -> " + labels[p] + " " + std::to_string(-count);
    }
    lines.push_back(line);
    return lines;
  }
  std::int64_t largest = 0;
  std::size_t longest = 0;
  for (std::size_t c = 0; c < classes; ++c) {
    largest = std::max(largest, *std::max_element(m[c].begin(), m[c].end()));
    longest = std::max(longest, text::decode_utf8(labels[c]).size());
  }
  const std::size_t row_width = std::min<std::size_t>(longest, 12);
  const std::size_t cell =
      std::max(std::to_string(largest).size(), std::min<std::size_t>(longest, 6));
  lines.push_back("confusion matrix on " + split + " (rows: true " + row_label +
                  ", columns: predicted)");
  std::string head(row_width, ' ');
  for (std::size_t c = 0; c < classes; ++c) head += " " + fit(labels[c], cell, true);
  lines.push_back(head);
  for (std::size_t t = 0; t < classes; ++t) {
    std::string row = fit(labels[t], row_width, false);
    for (std::size_t p = 0; p < classes; ++p) row += " " + fit(std::to_string(m[t][p]), cell, true);
    lines.push_back(row);
  }
  return lines;
}

}  // namespace lmforge::task_support
