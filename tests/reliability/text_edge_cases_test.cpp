// The shared line reader on awkward files: CRLF, a byte order mark, invalid UTF-8 counted and
// warned about with its share, a binary or random bytes refused, empty and whitespace-only
// files, a 100 MB line.
#include <catch2/catch.hpp>
#include <chrono>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "lmforge/text_file.h"
#include "lmforge/error.h"
#include "support/temp_dir.h"

using lmforge::test::TempDir;

namespace {

std::vector<std::string> lines_of(const std::string& path, const std::string& encoding = "utf-8") {
  std::vector<std::string> lines;
  lmforge::for_each_line(path, encoding, "test.yaml:3:5",
                         [&](const std::string& line, std::int64_t) { lines.push_back(line); });
  return lines;
}

/// What `action` writes to std::cerr.
template <class Action>
std::string stderr_of(Action action) {
  std::ostringstream captured;
  auto* previous = std::cerr.rdbuf(captured.rdbuf());
  try {
    action();
  } catch (...) {
    std::cerr.rdbuf(previous);
    throw;
  }
  std::cerr.rdbuf(previous);
  return captured.str();
}

}  // namespace

TEST_CASE("text files: CRLF, BOM, empty and whitespace-only", "[reliability][data]") {
  TempDir dir("text");
  CHECK(lines_of(dir.file("crlf.txt", "one two\r\nthree\r\n")) ==
        std::vector<std::string>{"one two", "three"});
  CHECK(lines_of(dir.file("bom.txt", "\xEF\xBB\xBFhello\nworld\n")) ==
        std::vector<std::string>{"hello", "world"});
  // utf-8-sig drops it too; only a BOM at the very start is one.
  CHECK(lines_of(dir.file("bom_sig.txt", "\xEF\xBB\xBFhi\n"), "utf-8-sig") ==
        std::vector<std::string>{"hi"});
  CHECK(lines_of(dir.file("empty.txt", "")).empty());
  CHECK(lines_of(dir.file("blank.txt", "  \n\t\r\n")) == std::vector<std::string>{"  ", "\t"});
  CHECK(lines_of(dir.file("korean.txt", "한국어 문장\r\n")) ==
        std::vector<std::string>{"한국어 문장"});
}

TEST_CASE("text files: invalid UTF-8 is counted, warned with its share, refused above a limit",
          "[reliability][data]") {
  TempDir dir("invalid");
  // 2 bad bytes in ~1 kB: replaced, one warning with the count and share.
  std::string text(1000, 'a');
  text[100] = '\xff';
  text[500] = '\xc3';                    // a lead byte without its continuation
  text += "\n\xEF\xBF\xBD spelt out\n";  // a real U+FFFD in the file is not counted
  std::string path = dir.file("few.txt", text);
  std::vector<std::string> lines;
  std::string warning = stderr_of([&] { lines = lines_of(path); });
  std::cout << "  " << warning;
  CHECK_THAT(warning, Catch::Contains(path) && Catch::Contains("2 of 1015 bytes") &&
                          Catch::Contains("not valid utf-8"));
  CHECK(lines.size() == 2);
  CHECK(stderr_of([&] { lines_of(path); }).empty());  // once per file

  std::mt19937 random(7);
  std::string noise(300 * 1024, '\0');
  for (auto& c : noise) c = static_cast<char>(random() & 0xFF);
  for (const std::string& bad : {dir.file("random.bin", noise), std::string("/usr/bin/ls")}) {
    try {
      lines_of(bad);
      FAIL(bad << " was read as text");
    } catch (const lmforge::DataError& e) {
      std::cout << "  refused: " << e.what() << "\n";
      CHECK_THAT(e.what(), Catch::StartsWith("test.yaml:3:5") && Catch::Contains(bad) &&
                               Catch::Contains("not valid utf-8") && Catch::Contains("1% allowed"));
    }
  }
  // A task may allow more.
  CHECK_NOTHROW(stderr_of([&] {
    lmforge::for_each_line(
        dir.str("random.bin"), "utf-8", "t", [](auto&, auto) {}, 1.0);
  }));
  // A few bytes say little: a short line with cp1252 quotes read as UTF-8 is only warned about.
  CHECK_THAT(stderr_of([&] { lines_of(dir.file("short.txt", "\x93quoted\x94 caf\xe9\n")); }),
             Catch::Contains("3 of 14 bytes"));
  // latin-1 maps every byte: nothing is invalid.
  CHECK(stderr_of([&] { lines_of(dir.str("random.bin"), "latin-1"); }).empty());
}

TEST_CASE("text files: a 100 MB line is one line", "[reliability][data][slow]") {
  TempDir dir("long_line");
  std::string path = dir.file("long.txt", std::string(100 << 20, 'x') + "\n");
  auto started = std::chrono::steady_clock::now();
  std::size_t count = 0, size = 0;
  lmforge::for_each_line(path, "utf-8", "t", [&](const std::string& line, std::int64_t) {
    ++count;
    size = line.size();
  });
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "  100 MB line read in " << seconds << " s\n";
  CHECK(count == 1);
  CHECK(size == (100u << 20));
}
