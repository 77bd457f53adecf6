#include "lmforge/labelled_text.h"

#include <algorithm>
#include <sstream>
#include <utility>

#include "lmforge/error.h"
#include "lmforge/options.h"
#include "lmforge/text_file.h"
#include "lmforge/text_util.h"

namespace lmforge {
using text_util::blank;
using text_util::is_space;
using text_util::strip_bom;
using text_util::trim;
using text_util::where;

namespace {

// RFC 4180 fields: a field that starts with '"' may hold commas, "" and line breaks. A record
// whose quotes are still open at the end of a line continues on the next one.
class CsvParser {
 public:
  /// Feeds one line; true when it completed a record, now in fields().
  bool feed(const std::string& line) {
    if (in_quotes_) {
      field_ += '\n';
    } else {
      fields_.clear();
      field_.clear();
      field_start_ = true;
    }
    for (std::size_t i = 0; i < line.size(); ++i) {
      char c = line[i];
      if (in_quotes_) {
        if (c != '"') {
          field_ += c;
        } else if (i + 1 < line.size() && line[i + 1] == '"') {
          field_ += '"';
          ++i;
        } else {
          in_quotes_ = false;
        }
      } else if (c == ',') {
        fields_.push_back(std::move(field_));
        field_.clear();
        field_start_ = true;
      } else if (c == '"' && field_start_) {
        field_.clear();  // spaces before the opening quote are not content
        in_quotes_ = true;
        field_start_ = false;
      } else {
        field_ += c;
        if (!is_space(c)) field_start_ = false;
      }
    }
    if (in_quotes_) return false;
    fields_.push_back(std::move(field_));
    field_.clear();
    return true;
  }
  bool open() const { return in_quotes_; }
  const std::vector<std::string>& fields() const { return fields_; }

 private:
  std::vector<std::string> fields_;
  std::string field_;
  bool in_quotes_ = false;
  bool field_start_ = true;
};

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  while (true) {
    std::size_t tab = line.find('\t', start);
    fields.push_back(
        line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
    if (tab == std::string::npos) return fields;
    start = tab + 1;
  }
}

LabelledRecord columns_record(const LabelledTextFormat& format,
                              const std::vector<std::string>& fields, const std::string& place,
                              const char* separator) {
  auto needed = std::max(format.text_column, format.label_column) + 1;
  if (static_cast<std::int64_t>(fields.size()) < needed) {
    throw DataError(place, "expected at least " + std::to_string(needed) + " " + separator +
                               "-separated columns (text_column " +
                               std::to_string(format.text_column) + ", label_column " +
                               std::to_string(format.label_column) + "), found " +
                               std::to_string(fields.size()));
  }
  std::string label = trim(fields[format.label_column]);
  if (label.empty()) throw DataError(place, "empty label");
  // labels.txt holds one label per line.
  if (label.find('\n') != std::string::npos) throw DataError(place, "label spans several lines");
  return {label, fields[format.text_column], place};
}

// "LABEL<whitespace>TEXT"; returns {label, text}.
std::pair<std::string, std::string> split_label(const std::string& line, const std::string& place,
                                                const char* expected) {
  std::size_t begin = 0;
  while (begin < line.size() && is_space(line[begin])) ++begin;
  std::size_t end = begin;
  while (end < line.size() && !is_space(line[end])) ++end;
  if (end == line.size()) {
    throw DataError(place, std::string("expected ") + expected + ", found '" + trim(line) + "'");
  }
  return {line.substr(begin, end - begin), trim(std::string_view(line).substr(end))};
}

std::vector<LabelledRecord> read_files_per_class(const std::string& encoding,
                                                 const std::string& spec, const std::string& option,
                                                 const std::string& place) {
  std::vector<std::pair<std::string, std::string>> entries;
  std::stringstream list(spec);
  std::string entry;
  while (std::getline(list, entry, ',')) {
    entry = trim(entry);
    if (entry.empty()) continue;
    auto eq = entry.find('=');
    std::string label = eq == std::string::npos ? "" : trim(entry.substr(0, eq));
    std::string path = eq == std::string::npos ? "" : trim(entry.substr(eq + 1));
    if (label.empty() || path.empty()) {
      throw ConfigError(place, option + ": '" + entry +
                                   "' is not label=path (format files_per_class expects e.g. "
                                   "pos=rt-polarity.pos,neg=rt-polarity.neg)");
    }
    entries.emplace_back(label, path);
  }
  if (entries.empty()) {
    throw ConfigError(place, option + ": format files_per_class needs label=path entries");
  }
  std::vector<LabelledRecord> records;
  for (const auto& entry : entries) {
    // Named copies, not structured bindings: lambdas cannot capture those before C++20 (clang).
    const std::string& label = entry.first;
    const std::string& path = entry.second;
    require_readable_file(path, option, place);
    for_each_line(path, encoding, place, [&](const std::string& raw, std::int64_t n) {
      std::string line = strip_bom(raw, n);
      if (!blank(line)) records.push_back({label, line, where(path, n)});
    });
  }
  return records;
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

}  // namespace

void LabelledTextFormat::visit_format(OptionVisitor& v, const std::vector<std::string>& formats) {
  v.choice("format", format, formats,
           "tsv/csv: label and text columns; label_first: 'LABEL TEXT' (SST-2 stsa.binary); "
           "trec: 'DESC:manner TEXT'; files_per_class: one example per line, one file per label");
  v.field("text_column", text_column, "tsv/csv: 0-based column of the text").non_negative();
  v.field("label_column", label_column, "tsv/csv: 0-based column of the label").non_negative();
  v.field("header", header, "tsv/csv: the first record is a header and is skipped");
  v.choice("trec_labels", trec_labels, {"coarse", "fine"},
           "trec: coarse labels ('DESC') or fine ones ('DESC:manner')");
}

std::vector<LabelledRecord> read_labelled_text(const LabelledTextFormat& options,
                                               const std::string& encoding, const std::string& spec,
                                               const std::string& option,
                                               const std::string& place) {
  if (options.format == "files_per_class") {
    return read_files_per_class(encoding, spec, option, place);
  }
  require_readable_file(spec, option, place);
  std::vector<LabelledRecord> records;
  const std::string& path = spec;
  const std::string& format = options.format;
  CsvParser csv;
  std::int64_t record_start = 0;
  bool header_pending = options.header && (format == "tsv" || format == "csv");
  for_each_line(path, encoding, place, [&](const std::string& raw, std::int64_t n) {
    std::string line = strip_bom(raw, n);
    if (format == "csv") {
      if (!csv.open()) {
        if (blank(line)) return;
        record_start = n;
      }
      if (!csv.feed(line)) return;
      if (header_pending) {
        header_pending = false;
        return;
      }
      records.push_back(columns_record(options, csv.fields(), where(path, record_start), "comma"));
      return;
    }
    if (blank(line)) return;
    if (header_pending) {
      header_pending = false;
      return;
    }
    std::string at = where(path, n);
    if (format == "tsv") {
      records.push_back(columns_record(options, split_tabs(line), at, "tab"));
    } else if (format == "label_first") {
      auto [label, text] = split_label(line, at, "a label, whitespace, then the text");
      records.push_back({label, text, at});
    } else if (format == "trec") {
      auto [label, text] = split_label(line, at, "a TREC label such as DESC:manner, then the text");
      auto colon = label.find(':');
      if (colon == std::string::npos || colon == 0) {
        throw DataError(at, "expected a TREC label such as DESC:manner, found '" + label + "'");
      }
      if (options.trec_labels == "coarse") label = label.substr(0, colon);
      records.push_back({label, text, at});
    } else {
      throw ConfigError(place, option + ": unknown labelled-text format '" + format + "'");
    }
  });
  if (format == "csv" && csv.open()) {
    throw DataError(where(path, record_start), "quoted field is never closed");
  }
  return records;
}

void ConllFormat::visit_format(OptionVisitor& v) {
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
}

std::vector<ConllSentence> read_conll(const ConllFormat& options, const std::string& encoding,
                                      const std::string& path, const std::string& option,
                                      const std::string& place) {
  require_readable_file(path, option, place);
  std::vector<ConllSentence> sentences;
  ConllSentence current;
  auto end_sentence = [&] {
    if (!current.tokens.empty()) {
      current.path = path;
      sentences.push_back(std::move(current));
    }
    current = ConllSentence{};
  };
  const std::string& prefix = options.comment_prefix;
  for_each_line(path, encoding, place, [&](const std::string& raw, std::int64_t n) {
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

std::vector<std::string> split_words(const std::string& text) {
  return split_fields(text, "whitespace");
}

}  // namespace lmforge
