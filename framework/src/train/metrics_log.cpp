#include "train/metrics_log.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "io/json_text.h"
#include "lmforge/error.h"

namespace lmforge {

MetricsLog::MetricsLog(std::string path, std::int64_t truncate_to) : path_(std::move(path)) {
  std::error_code ec;
  if (truncate_to >= 0 && std::filesystem::exists(path_, ec)) {
    std::filesystem::resize_file(path_, static_cast<std::uintmax_t>(truncate_to), ec);
    if (ec) throw Error(path_, "cannot truncate metrics log: " + ec.message());
  }
  file_ = std::fopen(path_.c_str(), "ab");
  if (!file_) throw Error(path_, std::string("cannot open metrics log: ") + std::strerror(errno));
}

MetricsLog::~MetricsLog() {
  if (file_) std::fclose(file_);
}

void MetricsLog::write(const std::map<std::string, LogValue>& record) {
  std::ostringstream line;
  line.precision(10);
  line << "{";
  bool first = true;
  for (const auto& [key, value] : record) {
    line << (first ? "" : ", ") << "\"" << io::json_escape(key) << "\": ";
    first = false;
    if (auto d = std::get_if<double>(&value)) {
      if (std::isfinite(*d))
        line << *d;
      else
        line << "null";
    } else if (auto i = std::get_if<std::int64_t>(&value)) {
      line << *i;
    } else {
      line << "\"" << io::json_escape(std::get<std::string>(value)) << "\"";
    }
  }
  line << "}\n";
  std::string text = line.str();
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size() || std::fflush(file_) != 0) {
    throw Error(path_, "cannot write metrics log");
  }
}

std::int64_t MetricsLog::size() const {
  std::fflush(file_);
  return static_cast<std::int64_t>(std::ftell(file_));
}

}  // namespace lmforge
