#pragma once
// Reading text data sets line by line in a declared encoding, with errors that name the file.
// Part of the SDK so that every task (built in or a plugin) reads files the same way.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lmforge/export.h"

namespace lmforge {

/// Share of a file's bytes that may be invalid in its encoding before it is refused (1%: the
/// data sets in use have at most 0.03%; a binary or a file in another encoding has far more).
inline constexpr double kDefaultMaxInvalidShare = 0.01;

/// Calls `on_line(line, line_number)` for every line of `path` (without the newline, '\r'
/// stripped, a UTF-8 byte order mark at the start dropped), decoded from `encoding` to UTF-8.
/// Invalid bytes become U+FFFD rather than failing, and are counted: any at all is one warning
/// on stderr with their share; more than `max_invalid_share` of the bytes of a file of 4 KiB or
/// more is a DataError at `place` naming the file and the share (checked as the file is read, so
/// a large binary is refused early). Throws DataError at `place` if the file cannot be opened.
LMFORGE_API void for_each_line(
    const std::string& path, const std::string& encoding, const std::string& place,
    const std::function<void(const std::string&, std::int64_t)>& on_line,
    double max_invalid_share = kDefaultMaxInvalidShare);

/// Throws DataError at `place` when `path` is not a readable file, naming the option.
LMFORGE_API void require_readable_file(const std::string& path, const std::string& option,
                                       const std::string& place);

/// True when `path` holds glob characters (*, ?, [) and is read as a pattern of files.
LMFORGE_API bool is_file_pattern(const std::string& path);

/// The files `pattern` names: itself when it is a readable file, else the sorted matches of a
/// glob ('books/*.txt'). Throws DataError at `place`, naming `option`, when nothing matches.
LMFORGE_API std::vector<std::string> expand_file_pattern(const std::string& pattern,
                                                         const std::string& option,
                                                         const std::string& place);

}  // namespace lmforge
