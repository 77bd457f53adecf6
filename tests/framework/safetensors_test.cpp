// safetensors files: what lmforge writes reads back bit for bit (dtypes, shapes, empty tensors,
// metadata), the header is 8-byte aligned as the format recommends, and a damaged file is
// refused with its path and the tensor named.
#include "lmforge/safetensors.h"

#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "support/temp_dir.h"

using lmforge::read_safetensors;
using lmforge::write_safetensors;
using lmforge::test::TempDir;

namespace {

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::uint64_t header_length(const std::string& bytes) {
  std::uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = (length << 8) | static_cast<unsigned char>(bytes[i]);
  return length;
}

}  // namespace

TEST_CASE("safetensors round trip keeps every tensor exactly", "[safetensors]") {
  TempDir dir("safetensors");
  torch::manual_seed(5);
  auto weights = torch::randn({3, 4});
  auto ids = torch::arange(6, torch::kLong).view({2, 3});
  auto half = torch::randn({5}).to(torch::kBFloat16);
  auto empty = torch::zeros({0, 7});
  auto flags = torch::tensor({true, false, true});
  auto strided = torch::randn({4, 3}).t();  // not contiguous: written as its values
  std::string path = dir.file("m.safetensors", "");
  write_safetensors(path,
                    {{"b.ids", ids},
                     {"a.weight", weights},
                     {"c.half", half},
                     {"d.empty", empty},
                     {"e.flags", flags},
                     {"f.strided", strided}},
                    {{"producer", "test"}});
  std::string bytes = bytes_of(path);
  CHECK((8 + header_length(bytes)) % 8 == 0);

  auto file = read_safetensors(path);
  CHECK(file.metadata.at("producer") == "test");
  REQUIRE(file.tensors.size() == 6);
  CHECK(file.tensors[0].first == "a.weight");  // name order
  CHECK(torch::equal(file.tensors[0].second, weights));
  CHECK(torch::equal(file.tensors[1].second, ids));
  CHECK(file.tensors[2].second.scalar_type() == torch::kBFloat16);
  CHECK(torch::equal(file.tensors[2].second, half));
  CHECK(file.tensors[3].second.sizes() == torch::IntArrayRef({0, 7}));
  CHECK(torch::equal(file.tensors[4].second, flags));
  CHECK(torch::equal(file.tensors[5].second, strided));
}

TEST_CASE("a repeated or reserved name is refused", "[safetensors]") {
  TempDir dir("safetensors_names");
  auto t = torch::zeros({1});
  CHECK_THROWS_WITH(write_safetensors(dir.file("x", ""), {{"a", t}, {"a", t}}),
                    Catch::Contains("'a' is reserved or repeated"));
  CHECK_THROWS_WITH(write_safetensors(dir.file("y", ""), {{"__metadata__", t}}),
                    Catch::Contains("reserved"));
}

TEST_CASE("a damaged safetensors file names its fault", "[safetensors]") {
  TempDir dir("safetensors_bad");
  std::string good = dir.file("good.safetensors", "");
  write_safetensors(good, {{"w", torch::ones({2, 2})}});
  std::string bytes = bytes_of(good);

  CHECK_THROWS_WITH(read_safetensors(dir.file("short", "abc")), Catch::Contains("too short"));
  std::string huge = bytes;
  huge[7] = '\x7f';
  CHECK_THROWS_WITH(read_safetensors(dir.file("huge", huge)), Catch::Contains("exceeds the file"));
  // The data cut short: the tensor's byte range runs past the end.
  CHECK_THROWS_WITH(read_safetensors(dir.file("cut", bytes.substr(0, bytes.size() - 4))),
                    Catch::Contains("tensor 'w'") && Catch::Contains("byte range"));
  std::string unknown = bytes;
  unknown.replace(unknown.find("F32"), 3, "F99");
  CHECK_THROWS_WITH(read_safetensors(dir.file("dtype", unknown)),
                    Catch::Contains("unknown dtype 'F99'"));
  std::string not_json = bytes;
  not_json[8] = '[';
  CHECK_THROWS_WITH(read_safetensors(dir.file("json", not_json)), Catch::Contains("header"));
}
