#pragma once
#include <string>
#include <vector>

namespace lmforge {

/// The candidate closest to `word` by edit distance, or "" if none is plausibly a typo of it.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

/// " (did you mean 'x'?)" or "" — appended to unknown-name errors.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

/// "a, b, c" for error messages.
std::string join_names(const std::vector<std::string>& names);

}  // namespace lmforge
