#include "lmforge/safetensors.h"

#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "io/atomic_file.h"
#include "io/json_text.h"
#include "lmforge/error.h"

namespace lmforge {
namespace {

// safetensors' names for the dtypes LibTorch stores.
const std::vector<std::pair<torch::ScalarType, std::string>>& dtype_names() {
  static const std::vector<std::pair<torch::ScalarType, std::string>> names = {
      {torch::kFloat, "F32"},     {torch::kDouble, "F64"}, {torch::kHalf, "F16"},
      {torch::kBFloat16, "BF16"}, {torch::kLong, "I64"},   {torch::kInt, "I32"},
      {torch::kShort, "I16"},     {torch::kChar, "I8"},    {torch::kByte, "U8"},
      {torch::kBool, "BOOL"}};
  return names;
}

std::string dtype_name(torch::ScalarType type, const std::string& tensor) {
  for (const auto& [t, name] : dtype_names()) {
    if (t == type) return name;
  }
  throw Error(tensor,
              std::string("has dtype ") + c10::toString(type) + ", which safetensors cannot store");
}

bool dtype_of(const std::string& name, torch::ScalarType& type) {
  for (const auto& [t, n] : dtype_names()) {
    if (n == name) {
      type = t;
      return true;
    }
  }
  return false;
}

}  // namespace

void write_safetensors(const std::string& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata) {
  NamedTensors sorted;
  std::set<std::string> names;
  for (const auto& [name, tensor] : tensors) {
    if (name == "__metadata__" || !names.insert(name).second) {
      throw Error(path, "tensor name '" + name + "' is reserved or repeated");
    }
    sorted.emplace_back(name, tensor.detach().to(torch::kCPU).contiguous());
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });

  std::ostringstream header;
  header << "{";
  bool first = true;
  if (!metadata.empty()) {
    header << "\"__metadata__\":{";
    for (auto it = metadata.begin(); it != metadata.end(); ++it) {
      header << (it == metadata.begin() ? "" : ",") << io::json_quoted(it->first) << ":"
             << io::json_quoted(it->second);
    }
    header << "}";
    first = false;
  }
  std::uint64_t offset = 0;
  for (const auto& [name, tensor] : sorted) {
    const std::uint64_t bytes = tensor.numel() * tensor.element_size();
    header << (first ? "" : ",") << io::json_quoted(name) << ":{\"dtype\":\""
           << dtype_name(tensor.scalar_type(), name) << "\",\"shape\":[";
    for (std::int64_t d = 0; d < tensor.dim(); ++d) header << (d ? "," : "") << tensor.size(d);
    header << "],\"data_offsets\":[" << offset << "," << offset + bytes << "]}";
    offset += bytes;
    first = false;
  }
  header << "}";
  std::string text = header.str();
  // The format recommends the data start 8-byte aligned; spaces are valid JSON padding.
  text.append((8 - text.size() % 8) % 8, ' ');

  io::write_atomically(path, [&](std::ostream& out) {
    std::uint64_t length = text.size();
    unsigned char prefix[8];
    for (int i = 0; i < 8; ++i) prefix[i] = static_cast<unsigned char>(length >> (8 * i));
    out.write(reinterpret_cast<const char*>(prefix), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const auto& [name, tensor] : sorted) {
      out.write(static_cast<const char*>(tensor.data_ptr()),
                static_cast<std::streamsize>(tensor.numel() * tensor.element_size()));
    }
  });
}

SafetensorsFile read_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path, "cannot be read");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 8) throw DataError(path, "is too short to be a safetensors file");
  std::uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = (length << 8) | static_cast<unsigned char>(bytes[i]);
  if (length > bytes.size() - 8) {
    throw DataError(path, "header length " + std::to_string(length) + " exceeds the file (" +
                              std::to_string(bytes.size()) + " bytes): not a safetensors file");
  }
  const std::uint64_t data_start = 8 + length, data_size = bytes.size() - data_start;
  YAML::Node header;
  try {
    header = YAML::Load(bytes.substr(8, length));
  } catch (const YAML::Exception& e) {
    throw DataError(path, "header is not JSON: " + std::string(e.what()));
  }
  if (!header.IsMap()) throw DataError(path, "header is not a JSON object");

  SafetensorsFile file;
  for (const auto& item : header) {
    const auto name = item.first.as<std::string>();
    const std::string place = path + ": tensor '" + name + "'";
    if (name == "__metadata__") {
      for (const auto& entry : item.second) {
        file.metadata[entry.first.as<std::string>()] = entry.second.as<std::string>();
      }
      continue;
    }
    try {
      torch::ScalarType type{};
      const auto dtype = item.second["dtype"].as<std::string>();
      if (!dtype_of(dtype, type)) throw DataError(place, "has unknown dtype '" + dtype + "'");
      std::vector<std::int64_t> shape;
      std::int64_t numel = 1;
      for (const auto& d : item.second["shape"]) {
        shape.push_back(d.as<std::int64_t>());
        if (shape.back() < 0) throw DataError(place, "has a negative dimension");
        numel *= shape.back();
      }
      auto begin = item.second["data_offsets"][0].as<std::uint64_t>();
      auto end = item.second["data_offsets"][1].as<std::uint64_t>();
      const auto expected = static_cast<std::uint64_t>(numel) * c10::elementSize(type);
      if (begin > end || end > data_size || end - begin != expected) {
        throw DataError(place, "byte range [" + std::to_string(begin) + ", " + std::to_string(end) +
                                   ") does not hold its " + std::to_string(expected) +
                                   " bytes within the " + std::to_string(data_size) +
                                   " of the file's data");
      }
      torch::Tensor tensor = torch::empty(shape, torch::TensorOptions().dtype(type));
      if (expected > 0) std::memcpy(tensor.data_ptr(), bytes.data() + data_start + begin, expected);
      file.tensors.emplace_back(name, std::move(tensor));
    } catch (const YAML::Exception& e) {
      throw DataError(place, "has a malformed entry: " + std::string(e.what()));
    }
  }
  std::sort(file.tensors.begin(), file.tensors.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return file;
}

}  // namespace lmforge
