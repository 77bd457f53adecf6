#include "lmforge/label_metrics.h"

#include <algorithm>
#include <tuple>

#include "lmforge/metric.h"
#include "text/utf8.h"

namespace lmforge {
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

// The key function, so Metric's typeinfo lives once, in liblmforge.
Metric::~Metric() = default;

}  // namespace lmforge
