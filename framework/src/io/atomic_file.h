#pragma once
// Files that are either fully written or not there at all: write to a temporary file beside the
// target, fsync it, rename it over the target, fsync the directory. A run killed at any moment
// leaves the previous version intact.
#include <functional>
#include <ostream>
#include <string>

namespace lmforge::io {

/// Calls `write` with a stream to a temp file, then atomically replaces `path`. Throws Error naming
/// the path on any I/O failure.
void write_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);

/// Convenience for small text files.
void write_text_atomically(const std::string& path, const std::string& text);

/// fsync a directory so a rename inside it survives a crash.
void sync_directory(const std::string& directory);

/// Whole file as a string; throws DataError naming the path if it cannot be read.
std::string read_text(const std::string& path);

}  // namespace lmforge::io
