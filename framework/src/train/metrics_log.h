#pragma once
// metrics.jsonl: one JSON object per line. Its byte size is stored in each checkpoint so a resumed
// run truncates what was logged after that checkpoint and the log matches an uninterrupted run.
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <variant>

namespace lmforge {

using LogValue = std::variant<double, std::int64_t, std::string>;

class MetricsLog {
 public:
  /// Opens `path` for appending; when `truncate_to` >= 0 the file is first cut to that size.
  MetricsLog(std::string path, std::int64_t truncate_to = -1);
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;
  void write(const std::map<std::string, LogValue>& record);
  /// Bytes written so far (flushed).
  std::int64_t size() const;

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace lmforge
