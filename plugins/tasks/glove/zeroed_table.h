#pragma once
// A table of doubles that starts at zero and takes memory only for the pages written: an
// anonymous mapping, whose untouched pages read as zero without being resident. The counter's
// dense table is sized by the memory cap, not by the corpus; a std::vector would write every
// zero up front, so a small corpus under `memory_mb: 1024` held the whole cap (and the Stanford
// reference, which callocs its table, held a quarter as much).
#include <cstddef>

namespace lmforge::glove {

class ZeroedTable {
 public:
  ZeroedTable() = default;
  explicit ZeroedTable(std::size_t size);
  ~ZeroedTable();
  ZeroedTable(const ZeroedTable&) = delete;
  ZeroedTable& operator=(const ZeroedTable&) = delete;
  ZeroedTable(ZeroedTable&& other) noexcept;
  ZeroedTable& operator=(ZeroedTable&& other) noexcept;

  std::size_t size() const { return size_; }
  double& operator[](std::size_t i) { return data_[i]; }
  double operator[](std::size_t i) const { return data_[i]; }
  /// Back to all zeros, handing the written pages back to the system.
  void clear();

 private:
  double* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace lmforge::glove
