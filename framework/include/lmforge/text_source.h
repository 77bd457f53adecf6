#pragma once
// The texts of a corpus for self-supervised tasks (language modelling, masked-LM pre-training):
// plain lines, or the text column of a labelled data set read as the classification task reads it
// (labels ignored), so a body can be pre-trained or adapted on a classification set's own text.
// Part of the SDK so that every such task, built in or a plugin, reads corpora the same way.
#include <cstdint>
#include <functional>
#include <string>

#include "lmforge/export.h"

namespace lmforge {

class OptionVisitor;

/// How the lines of a corpus hold text.
struct TextSource {
  std::string format = "text";   ///< text, tsv, csv, label_first or trec
  std::int64_t text_column = 1;  ///< tsv/csv
  bool header = false;           ///< tsv/csv
  std::string encoding = "utf-8";
  /// Declares the options above for a recipe.
  LMFORGE_API void visit_source(OptionVisitor& v);
};

/// Calls `on_text` for each text of `spec` (a file, or a glob such as 'books/*.txt' read in sorted
/// order) in `source`'s layout. Throws DataError at `place`, naming `option`, when nothing matches
/// or a line is malformed (at "path:line").
LMFORGE_API void for_each_text(const TextSource& source, const std::string& spec,
                               const std::string& option, const std::string& place,
                               const std::function<void(const std::string&)>& on_text);

}  // namespace lmforge
