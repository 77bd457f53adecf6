#pragma once
// Stop-word lists for the word tokenizer's `stopwords:` option: small built-in lists of function
// words (written for lmforge, lowercase) and user files.
#include <string>
#include <unordered_set>

namespace lmforge::text {

/// The built-in list for "english" or "korean"; null for any other name.
const std::unordered_set<std::string>* builtin_stopwords(const std::string& name);

/// Parses a stop-word file's content: one word per line, blank lines and lines starting with '#'
/// ignored, surrounding whitespace trimmed.
std::unordered_set<std::string> parse_stopwords(const std::string& content);

}  // namespace lmforge::text
