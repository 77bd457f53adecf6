#pragma once
// Buffered reading and writing of fixed-size records (co-occurrence counts, spilled runs), with
// every I/O failure a DataError naming the file.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "lmforge/error.h"

namespace lmforge::glove {

template <class T>
class RecordWriter {
  static_assert(std::is_trivially_copyable<T>::value, "records are written as bytes");

 public:
  explicit RecordWriter(std::string path) : path_(std::move(path)) {
    file_ = std::fopen(path_.c_str(), "wb");
    if (!file_) fail("cannot create");
    buffer_.reserve(kBuffered);
  }
  ~RecordWriter() {
    if (file_) std::fclose(file_);
  }
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;

  void write(const T& record) {
    buffer_.push_back(record);
    if (buffer_.size() == kBuffered) flush();
  }
  void write_many(const T* records, std::size_t n) {
    flush();
    if (n && std::fwrite(records, sizeof(T), n, file_) != n) fail("cannot write");
  }
  /// Flushes and closes; a failure (disk full) throws here rather than going unnoticed.
  void close() {
    flush();
    std::FILE* file = file_;
    file_ = nullptr;
    if (std::fclose(file) != 0) fail("cannot write");
  }

 private:
  static constexpr std::size_t kBuffered = 1 << 14;
  void flush() {
    if (!buffer_.empty() &&
        std::fwrite(buffer_.data(), sizeof(T), buffer_.size(), file_) != buffer_.size()) {
      fail("cannot write");
    }
    buffer_.clear();
  }
  [[noreturn]] void fail(const char* what) const {
    throw DataError(path_, std::string(what) + ": " + std::strerror(errno));
  }
  std::string path_;
  std::FILE* file_ = nullptr;
  std::vector<T> buffer_;
};

template <class T>
class RecordReader {
  static_assert(std::is_trivially_copyable<T>::value, "records are read as bytes");

 public:
  /// Opens `path` at record `first`.
  explicit RecordReader(std::string path, long long first = 0) : path_(std::move(path)) {
    file_ = std::fopen(path_.c_str(), "rb");
    if (!file_) {
      throw DataError(path_, std::string("cannot open: ") + std::strerror(errno));
    }
    if (first > 0 && std::fseek(file_, static_cast<long>(first * sizeof(T)), SEEK_SET) != 0) {
      throw DataError(path_, std::string("cannot seek: ") + std::strerror(errno));
    }
  }
  ~RecordReader() { std::fclose(file_); }
  RecordReader(const RecordReader&) = delete;
  RecordReader& operator=(const RecordReader&) = delete;

  bool read(T& out) {
    if (at_ == buffer_.size()) {
      buffer_.resize(kBuffered);
      buffer_.resize(read_many(buffer_.data(), kBuffered));
      at_ = 0;
      if (buffer_.empty()) return false;
    }
    out = buffer_[at_++];
    return true;
  }
  /// Reads up to `n` records past those `read` buffered; returns how many it read.
  std::size_t read_many(T* out, std::size_t n) {
    const std::size_t got = std::fread(out, sizeof(T), n, file_);
    if (got < n && std::ferror(file_)) {
      throw DataError(path_, std::string("cannot read: ") + std::strerror(errno));
    }
    return got;
  }

 private:
  static constexpr std::size_t kBuffered = 1 << 12;
  std::string path_;
  std::FILE* file_ = nullptr;
  std::vector<T> buffer_;
  std::size_t at_ = 0;
};

}  // namespace lmforge::glove
