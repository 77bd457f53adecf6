#include "report/tensorboard_events.h"

#include <array>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "io/atomic_file.h"
#include "io/crc32.h"

namespace lmforge::report {
namespace fs = std::filesystem;
namespace {

// TFRecord stores CRCs rotated and offset, so that a CRC over data holding CRCs stays strong.
std::uint32_t masked(std::uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

void put_fixed(std::string& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

void put_varint(std::string& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

// A length-delimited field (wire type 2): strings and nested messages.
void put_bytes(std::string& out, int field, std::string_view bytes) {
  put_varint(out, static_cast<std::uint64_t>(field) << 3 | 2);
  put_varint(out, bytes.size());
  out.append(bytes);
}

std::string event_header(double wall_time) {
  std::string event;
  put_varint(event, 1 << 3 | 1);  // wall_time: double, fixed64
  std::uint64_t bits;
  std::memcpy(&bits, &wall_time, sizeof bits);
  put_fixed(event, bits, 8);
  return event;
}

}  // namespace

std::string tf_record(std::string_view data) {
  std::string length;
  put_fixed(length, data.size(), 8);
  std::string record = length;
  put_fixed(record, masked(io::crc32c(length)), 4);
  record.append(data);
  put_fixed(record, masked(io::crc32c(data)), 4);
  return record;
}

std::string scalar_event(double wall_time, std::int64_t step, const std::string& tag, float value) {
  std::string summary_value;
  put_bytes(summary_value, 1, tag);       // Summary.Value.tag
  put_varint(summary_value, 2 << 3 | 5);  // Summary.Value.simple_value: float, fixed32
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  put_fixed(summary_value, bits, 4);
  std::string summary;
  put_bytes(summary, 1, summary_value);  // Summary.value
  std::string event = event_header(wall_time);
  put_varint(event, 2 << 3 | 0);  // Event.step: int64, varint
  put_varint(event, static_cast<std::uint64_t>(step));
  put_bytes(event, 5, summary);  // Event.summary
  return event;
}

std::int64_t write_tensorboard(const RunRecord& run, const std::string& dir) {
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::int64_t scalars = 0;
  for (const auto& stage : run.stages) {
    fs::path stage_dir = fs::path(dir) / stage.name;
    fs::create_directories(stage_dir);
    // One file per stage: drop those of an earlier report so TensorBoard does not show both.
    for (const auto& entry : fs::directory_iterator(stage_dir)) {
      if (entry.path().filename().string().rfind("events.out.tfevents.", 0) == 0) {
        fs::remove(entry.path());
      }
    }
    std::string file = tf_record([&] {
      std::string event = event_header(now);
      put_bytes(event, 3, "brain.Event:2");  // Event.file_version, the first record
      return event;
    }());
    for (const auto& row : stage.rows) {
      const auto split = row.text("split");
      if (split.empty() || !row.has("step")) continue;
      const auto step = static_cast<std::int64_t>(row.numbers.at("step"));
      for (const auto& [name, value] : row.numbers) {
        if (name == "step" || name == "epoch") continue;
        file += tf_record(scalar_event(now, step, split + "/" + name, static_cast<float>(value)));
        ++scalars;
      }
    }
    io::write_text_atomically(
        (stage_dir /
         ("events.out.tfevents." + std::to_string(static_cast<std::int64_t>(now)) + ".lmforge"))
            .string(),
        file);
  }
  return scalars;
}

}  // namespace lmforge::report
