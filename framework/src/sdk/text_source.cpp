#include "lmforge/text_source.h"

#include "lmforge/labelled_text.h"
#include "lmforge/options.h"
#include "lmforge/text_file.h"

namespace lmforge {

void TextSource::visit_source(OptionVisitor& v) {
  v.field("encoding", encoding, "text encoding: utf-8, cp1252 or latin-1");
  v.choice("format", format, {"text", "tsv", "csv", "label_first", "trec"},
           "text: one text per line; otherwise the text of a labelled data set, read as the "
           "classification task reads it (labels ignored)");
  v.field("text_column", text_column, "tsv/csv: 0-based column of the text").non_negative();
  v.field("header", header, "tsv/csv: the first record is a header and is skipped");
}

void for_each_text(const TextSource& source, const std::string& spec, const std::string& option,
                   const std::string& place,
                   const std::function<void(const std::string&)>& on_text) {
  for (const auto& path : expand_file_pattern(spec, option, place)) {
    if (source.format == "text") {
      for_each_line(path, source.encoding, place,
                    [&](const std::string& line, std::int64_t) { on_text(line); });
      continue;
    }
    // The labelled-text reader needs a label column: the first one (an id in the usual layouts)
    // or, when that is the text, the text itself.
    LabelledTextFormat read;
    read.format = source.format;
    read.text_column = source.text_column;
    read.label_column = 0;
    read.header = source.header;
    read.trec_labels = "fine";
    for (const auto& record : read_labelled_text(read, source.encoding, path, option, place)) {
      on_text(record.text);
    }
  }
}

}  // namespace lmforge
