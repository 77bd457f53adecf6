#pragma once
// For fuzz targets whose code under test reads a file: the input written to one scratch file
// per process (in /dev/shm when it exists, so the disk is not worn by millions of writes).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace lmforge::fuzz {

inline std::string scratch_file(const std::uint8_t* data, std::size_t size,
                                const std::string& suffix) {
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::is_directory("/dev/shm", ec)
                                  ? std::filesystem::path("/dev/shm")
                                  : std::filesystem::temp_directory_path();
  std::filesystem::path path = dir / ("lmforge_fuzz_" + std::to_string(::getpid()) + suffix);
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path.string();
}

}  // namespace lmforge::fuzz
