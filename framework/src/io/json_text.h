#pragma once
// JSON string literals for the files lmforge writes by hand (metrics.jsonl, safetensors headers,
// config.json): one escaping rule for all of them. Both halves (core and SDK) compile it.
#include <string>

namespace lmforge::io {

/// `text` escaped for use inside a JSON string (quotes, backslashes, control characters).
std::string json_escape(const std::string& text);

/// `text` as a JSON string literal, quotes included.
inline std::string json_quoted(const std::string& text) { return "\"" + json_escape(text) + "\""; }

}  // namespace lmforge::io
