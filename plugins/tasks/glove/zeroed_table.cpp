#include "zeroed_table.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <string>
#include <utility>

#include "lmforge/error.h"

namespace lmforge::glove {

ZeroedTable::ZeroedTable(std::size_t size) : size_(size) {
  if (size == 0) return;
  void* memory = mmap(nullptr, size * sizeof(double), PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) {
    throw Error("glove", "cannot reserve " + std::to_string(size * sizeof(double) >> 20) +
                             " MiB for the co-occurrence table (" + std::strerror(errno) +
                             "); lower task.memory_mb");
  }
  data_ = static_cast<double*>(memory);
}

ZeroedTable::~ZeroedTable() {
  if (data_ != nullptr) munmap(data_, size_ * sizeof(double));
}

ZeroedTable::ZeroedTable(ZeroedTable&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

ZeroedTable& ZeroedTable::operator=(ZeroedTable&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) munmap(data_, size_ * sizeof(double));
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void ZeroedTable::clear() {
  // A private anonymous mapping reads back as zeros after MADV_DONTNEED.
  if (data_ != nullptr) madvise(data_, size_ * sizeof(double), MADV_DONTNEED);
}

}  // namespace lmforge::glove
