#pragma once
// The training text as one byte stream over one or more files, read back in line-aligned byte
// ranges. A trainer step is a byte range, so any step can be read without reading what comes
// before it: resuming needs no saved stream position, and the corpus is never held in memory.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace lmforge {

class TextCorpus {
 public:
  /// `source` is a file, a directory (its *.txt files) or a glob pattern (`books/*.txt`); files
  /// are taken in sorted order. Throws DataError at `place` when nothing readable matches.
  TextCorpus(const std::string& source, const std::string& place);

  const std::vector<std::string>& files() const { return files_; }
  /// Bytes in all files together.
  std::int64_t size() const { return total_; }

  /// Appends to `out` every line that starts at a byte in [begin, end) of the stream, whole,
  /// each ending in '\n'. After a file's last line an empty line is added, so a file boundary
  /// also ends a paragraph. Ranges that tile the stream read every line exactly once.
  void read_lines(std::int64_t begin, std::int64_t end, std::string& out) const;
  /// Calls `on_line` for every line of the stream in order (the empty line after each file
  /// included), reading a few MiB at a time.
  void for_each_line(const std::function<void(std::string_view)>& on_line) const;

  /// Calls `on_line` for each line of `text`, which ends in '\n' as `read_lines` writes it.
  static void split_lines(std::string_view text,
                          const std::function<void(std::string_view)>& on_line);

 private:
  std::vector<std::string> files_;
  std::vector<std::int64_t> starts_;  // stream offset of each file; starts_.back() == total_
  std::int64_t total_ = 0;
  std::string place_;
};

}  // namespace lmforge
