#pragma once
// Readers for the common labelled-text layouts, so a task reads benchmark files as they are
// distributed, with no conversion script:
//   tsv / csv        label and text columns (RFC 4180 quoting for csv)
//   label_first      "LABEL TEXT" (SST-2's stsa.binary)
//   trec             "DESC:manner TEXT" (coarse or fine labels)
//   files_per_class  one example per line, one file per label ("pos=a.txt,neg=b.txt")
//   CoNLL            one "token ... label" per line, a blank line between sentences
// Every malformed line is a DataError at "path:line".
#include <cstdint>
#include <string>
#include <vector>

#include "lmforge/export.h"

namespace lmforge {

class OptionVisitor;

/// How a file of labelled texts is laid out.
struct LabelledTextFormat {
  std::string format = "tsv";  ///< tsv, csv, label_first, trec, files_per_class
  std::int64_t text_column = 1;
  std::int64_t label_column = 0;
  bool header = false;
  std::string trec_labels = "coarse";
  /// Declares the options above for a recipe (`formats` limits the allowed layouts).
  LMFORGE_API void visit_format(OptionVisitor& v, const std::vector<std::string>& formats);
};

/// One labelled line as read from a file, before tokenisation.
struct LabelledRecord {
  std::string label;
  std::string text;
  std::string where;  ///< "path:line", for error messages
};

/// Reads one train/valid/test option value (for files_per_class `spec` is "label=path,..."),
/// decoding `encoding`. Throws DataError at "path:line" for a malformed line, ConfigError at
/// `place` for a malformed files_per_class spec, naming `option`.
LMFORGE_API std::vector<LabelledRecord> read_labelled_text(const LabelledTextFormat& format,
                                                           const std::string& encoding,
                                                           const std::string& spec,
                                                           const std::string& option,
                                                           const std::string& place);

/// How a CoNLL-style file is laid out.
struct ConllFormat {
  std::int64_t token_column = 0;         ///< negative counts from the end
  std::int64_t label_column = -1;        ///< negative counts from the end
  std::string separator = "whitespace";  ///< or "tab": only tabs separate (tokens may hold spaces)
  std::string comment_prefix = "#";      ///< lines starting with it are skipped ("" = none)
  LMFORGE_API void visit_format(OptionVisitor& v);
};

/// One sentence of a CoNLL-style file.
struct ConllSentence {
  std::vector<std::string> tokens;
  std::vector<std::string> labels;
  std::vector<std::int64_t> lines;  ///< line of each token, for error messages
  std::string path;
};

/// Reads one CoNLL-style file; -DOCSTART- lines end a sentence and are skipped.
LMFORGE_API std::vector<ConllSentence> read_conll(const ConllFormat& format,
                                                  const std::string& encoding,
                                                  const std::string& path,
                                                  const std::string& option,
                                                  const std::string& place);

/// The words of `text` separated by spaces and tabs (not line breaks), as a tagger sees them.
LMFORGE_API std::vector<std::string> split_words(const std::string& text);

}  // namespace lmforge
