#include "pair_file.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "lmforge/batching.h"
#include "lmforge/error.h"
#include "lmforge/text_file.h"
#include "lmforge/text_util.h"

namespace lmforge::seq2seq {
namespace {

// Its own random stream of the recipe seed, apart from the batch order's.
constexpr std::uint32_t kHeldOutStream = 72;

bool is_index(const std::string& column) {
  return !column.empty() &&
         std::all_of(column.begin(), column.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t tab = line.find('\t', start);
    fields.push_back(line.substr(start, tab == std::string::npos ? tab : tab - start));
    if (tab == std::string::npos) return fields;
    start = tab + 1;
  }
}

/// The 0-based field index of `column`, resolved against `header` when it is a name.
std::int64_t resolve(const std::string& column, const std::vector<std::string>& header,
                     const std::string& path) {
  auto named = std::find(header.begin(), header.end(), column);
  if (named != header.end()) return named - header.begin();
  if (is_index(column)) {
    // Digits only, so stoll cannot fail; an index past every row's fields is a short row below.
    return column.size() > 9 ? std::int64_t{1} << 31 : std::stoll(column);
  }
  throw DataError(
      text_util::where(path, 1),
      "no column '" + column + "' in the header; its columns are " + text_util::join(header, 20));
}

}  // namespace

PairRows read_pair_file(const std::string& path, const std::string& encoding,
                        const PairColumns& columns, const std::string& option,
                        const std::string& place) {
  if (columns.columns.size() != 2) {
    throw ConfigError(place, "columns: give two columns of " + option +
                                 ", the source's then the target's (header names or 0-based "
                                 "indices), got " +
                                 std::to_string(columns.columns.size()));
  }
  const bool names = !is_index(columns.columns[0]) || !is_index(columns.columns[1]);
  const bool header = columns.header || names;
  require_readable_file(path, option, place);
  PairRows rows;
  std::int64_t source_field = -1, target_field = -1, needed = 0;
  auto resolve_both = [&](const std::vector<std::string>& header_fields) {
    source_field = resolve(columns.columns[0], header_fields, path);
    target_field = resolve(columns.columns[1], header_fields, path);
    needed = std::max(source_field, target_field) + 1;
  };
  if (!header) resolve_both({});
  for_each_line(path, encoding, place, [&](const std::string& line, std::int64_t number) {
    if (header && number == 1) {
      auto fields = split_tabs(line);
      for (auto& field : fields) field = text_util::trim(field);
      resolve_both(fields);
      return;
    }
    if (text_util::blank(line)) return;
    auto fields = split_tabs(line);
    if (static_cast<std::int64_t>(fields.size()) < needed) {
      throw DataError(text_util::where(path, number),
                      "expected at least " + std::to_string(needed) +
                          " tab-separated fields (columns " + columns.columns[0] + ", " +
                          columns.columns[1] + "), found " + std::to_string(fields.size()));
    }
    rows.sources.push_back(std::move(fields[source_field]));
    rows.targets.push_back(std::move(fields[target_field]));
    rows.lines.push_back(number);
  });
  if (header && needed == 0) {
    throw DataError(place, option + " '" + path + "' is empty (no header line)");
  }
  return rows;
}

HeldOutSplit split_rows(std::int64_t count, double valid_fraction, double test_fraction,
                        std::uint64_t seed) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(std::max<std::int64_t>(0, count)));
  std::iota(order.begin(), order.end(), 0);
  auto rng = batching::seeded_rng(seed, kHeldOutStream);
  batching::shuffle(order, rng);
  auto share = [&](double fraction) {
    return static_cast<std::size_t>(std::llround(fraction * static_cast<double>(order.size())));
  };
  const std::size_t tests = std::min(order.size(), share(test_fraction));
  const std::size_t valids = std::min(order.size() - tests, share(valid_fraction));
  HeldOutSplit split;
  split.test.assign(order.begin(), order.begin() + tests);
  split.valid.assign(order.begin() + tests, order.begin() + tests + valids);
  split.train.assign(order.begin() + tests + valids, order.end());
  for (auto* part : {&split.train, &split.valid, &split.test})
    std::sort(part->begin(), part->end());
  return split;
}

}  // namespace lmforge::seq2seq
