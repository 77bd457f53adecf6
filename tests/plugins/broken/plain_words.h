#pragma once
// The smallest tokenizer a test plugin can register (it splits nothing): the declaration tests
// care only about what gets registered under which kind and name.
#include "lmforge/tokenizer.h"

namespace test_plugins {
class PlainWords : public lmforge::Tokenizer {
 public:
  using Options = lmforge::VocabularyOptions;
  PlainWords(const Options& o, const lmforge::NoContext&) : Tokenizer(o) {}
  std::vector<std::string> split(std::string_view) const override { return {}; }
  std::string join(const std::vector<std::string>&) const override { return ""; }
};
}  // namespace test_plugins
