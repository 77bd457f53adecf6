#pragma once
// A scratch directory for one test, removed when it goes out of scope, even when the test fails.
// Header-only and free of LibTorch so any test file can include it; one definition instead of a
// copy per test file.
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <system_error>

namespace lmforge::test {

struct TempDir {
  std::filesystem::path path;

  /// Creates <system temp>/lmforge_<name>_<random number>.
  explicit TempDir(const std::string& name = "test") {
    std::random_device rd;
    path =
        std::filesystem::temp_directory_path() / ("lmforge_" + name + "_" + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  // A copy would remove the directory twice, the first time under the other's feet.
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }

  /// Writes `content` byte for byte to `name` (a relative path, folders created as needed) and
  /// returns the file's path.
  std::string file(const std::string& name, const std::string& content) const {
    std::filesystem::path p = path / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }

  /// The path of `name` inside the directory (nothing is created).
  std::string str(const std::string& name) const { return (path / name).string(); }
  /// The directory's own path.
  std::string str() const { return path.string(); }
};

}  // namespace lmforge::test
