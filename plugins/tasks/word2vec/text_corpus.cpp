#include "text_corpus.h"

#include <glob.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "lmforge/error.h"

namespace lmforge {
namespace fs = std::filesystem;

namespace {

bool is_glob(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

std::vector<std::string> expand(const std::string& source, const std::string& place) {
  std::vector<std::string> files;
  std::error_code ec;
  if (is_glob(source) && !fs::exists(source, ec)) {
    glob_t matches{};
    if (glob(source.c_str(), 0, nullptr, &matches) == 0) {
      for (std::size_t i = 0; i < matches.gl_pathc; ++i) {
        if (fs::is_regular_file(matches.gl_pathv[i], ec)) files.emplace_back(matches.gl_pathv[i]);
      }
    }
    globfree(&matches);
    if (files.empty()) throw DataError(place, "train: no file matches '" + source + "'");
  } else if (fs::is_directory(source, ec)) {
    for (const auto& entry : fs::directory_iterator(source, ec)) {
      if (entry.is_regular_file(ec) && entry.path().extension() == ".txt") {
        files.push_back(entry.path().string());
      }
    }
    if (files.empty()) {
      throw DataError(place, "train: directory '" + source + "' has no .txt files");
    }
  } else if (fs::exists(source, ec)) {
    if (!fs::is_regular_file(source, ec)) {
      throw DataError(place, "train: '" + source + "' is not a regular file");
    }
    files.push_back(source);
  } else {
    throw DataError(place, "train: file '" + source + "' does not exist");
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::ifstream open(const std::string& path, const std::string& place) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(place, "train: cannot read '" + path + "'");
  return in;
}

}  // namespace

TextCorpus::TextCorpus(const std::string& source, const std::string& place)
    : files_(expand(source, place)), place_(place) {
  for (const std::string& file : files_) {
    open(file, place);  // unreadable files fail here, not in the middle of training
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    if (ec) throw DataError(place, "train: cannot read the size of '" + file + "'");
    starts_.push_back(total_);
    total_ += static_cast<std::int64_t>(size);
  }
  starts_.push_back(total_);
}

void TextCorpus::read_lines(std::int64_t begin, std::int64_t end, std::string& out) const {
  begin = std::max<std::int64_t>(begin, 0);
  end = std::min(end, total_);
  constexpr std::int64_t kScan = 1 << 16;
  std::string scan;
  for (std::size_t f = 0; f < files_.size(); ++f) {
    const std::int64_t start = starts_[f];
    const std::int64_t size = starts_[f + 1] - start;
    if (size == 0 || start >= end || start + size <= begin) continue;
    std::int64_t from = std::max(begin, start) - start;
    const std::int64_t to = std::min(end, start + size) - start;
    std::ifstream in = open(files_[f], place_);
    // A line starting before `from` belongs to an earlier range: skip to the next line start.
    if (from > 0) {
      in.seekg(from - 1);
      char previous = 0;
      in.get(previous);
      while (previous != '\n' && from < to) {
        scan.resize(static_cast<std::size_t>(std::min(kScan, size - from)));
        in.read(scan.data(), static_cast<std::streamsize>(scan.size()));
        const std::size_t newline = scan.find('\n');
        if (newline != std::string::npos) {
          from += static_cast<std::int64_t>(newline) + 1;
          break;
        }
        from += static_cast<std::int64_t>(scan.size());
        if (from >= size) break;
      }
      if (from >= to) continue;
    }
    in.clear();
    in.seekg(from);
    const std::size_t old = out.size();
    out.resize(old + static_cast<std::size_t>(to - from));
    in.read(out.data() + old, to - from);
    // Finish the last line, which may run past `to`.
    std::int64_t position = to;
    while (out.back() != '\n' && position < size) {
      scan.resize(static_cast<std::size_t>(std::min(kScan, size - position)));
      in.read(scan.data(), static_cast<std::streamsize>(scan.size()));
      const std::size_t newline = scan.find('\n');
      const std::size_t keep = newline == std::string::npos ? scan.size() : newline + 1;
      out.append(scan, 0, keep);
      position += static_cast<std::int64_t>(keep);
    }
    if (!in) throw DataError(place_, "train: read error in '" + files_[f] + "'");
    if (out.back() != '\n') out.push_back('\n');
    if (position == size) out.push_back('\n');
  }
}

void TextCorpus::for_each_line(const std::function<void(std::string_view)>& on_line) const {
  constexpr std::int64_t kRange = 4 << 20;
  std::string text;
  for (std::int64_t begin = 0; begin < total_; begin += kRange) {
    text.clear();
    read_lines(begin, begin + kRange, text);
    split_lines(text, on_line);
  }
}

void TextCorpus::split_lines(std::string_view text,
                             const std::function<void(std::string_view)>& on_line) {
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t newline = text.find('\n', start);
    if (newline == std::string_view::npos) newline = text.size();
    on_line(text.substr(start, newline - start));
    start = newline + 1;
  }
}

}  // namespace lmforge
