// libFuzzer target: the labelled-text readers the classification and tagging tasks use (tsv, csv,
// label_first, trec, and CoNLL with either separator), on arbitrary bytes. The first byte picks
// the layout and its settings, so the fuzzer explores them together with the contents. A bad file
// must be a DataError at path:line, never a crash; every record read must be well formed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iostream>

#include "fuzz_files.h"
#include "lmforge/error.h"
#include "lmforge/labelled_text.h"
#include "text/utf8.h"

namespace {

using lmforge::text::is_valid_utf8;

void read_labelled(std::uint8_t settings, const std::string& path) {
  static const char* const kFormats[] = {"tsv", "csv", "label_first", "trec"};
  lmforge::LabelledTextFormat format;
  format.format = kFormats[settings & 3];
  format.header = settings & 4;
  format.text_column = (settings >> 3) & 1;
  format.label_column = format.text_column == 0 ? 1 + ((settings >> 4) & 1) : 0;
  format.trec_labels = (settings & 32) ? "fine" : "coarse";
  for (const auto& record : lmforge::read_labelled_text(format, "utf-8", path, "train", "fuzz")) {
    if (record.label.empty() || record.label.find('\n') != std::string::npos) std::abort();
    if (!is_valid_utf8(record.label) || !is_valid_utf8(record.text)) std::abort();
    if (record.where.rfind(path + ":", 0) != 0) std::abort();
  }
}

void read_conll(std::uint8_t settings, const std::string& path) {
  lmforge::ConllFormat format;
  format.separator = (settings & 1) ? "tab" : "whitespace";
  format.token_column = (settings & 2) ? 0 : -2;
  format.label_column = (settings & 4) ? -1 : 1;
  format.comment_prefix = (settings & 8) ? "#" : "";
  for (const auto& sentence : lmforge::read_conll(format, "utf-8", path, "train", "fuzz")) {
    const std::size_t n = sentence.tokens.size();
    if (n == 0 || sentence.labels.size() != n || sentence.lines.size() != n) std::abort();
    for (std::size_t i = 0; i < n; ++i) {
      if (sentence.tokens[i].empty() || sentence.labels[i].empty()) std::abort();
      if (!is_valid_utf8(sentence.tokens[i]) || !is_valid_utf8(sentence.labels[i])) std::abort();
      if (i > 0 && sentence.lines[i] <= sentence.lines[i - 1]) std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = [] {
    std::cerr.setstate(std::ios::failbit);  // the line reader's invalid-byte warnings
    return true;
  }();
  (void)quiet;
  if (size == 0) return 0;
  const std::uint8_t settings = data[0];
  const std::string path = lmforge::fuzz::scratch_file(data + 1, size - 1, "_labelled.txt");
  try {
    if (settings & 128) {
      read_conll(settings, path);
    } else {
      read_labelled(settings, path);
    }
  } catch (const lmforge::DataError&) {
  }
  return 0;
}
