#pragma once
// TensorBoard's event files (tfevents), written from a run's metrics logs, so `tensorboard
// --logdir runs/NAME/tensorboard` shows every stage's curves. The format is TFRecord framing
// (length, masked CRC-32C, data, masked CRC-32C) around `Event` protocol buffers; the few fields
// needed are encoded here by hand, so no protobuf or TensorFlow library is involved.
#include <cstdint>
#include <string>
#include <string_view>

#include "report/run_record.h"

namespace lmforge::report {

/// One TFRecord: the framing around `data`.
std::string tf_record(std::string_view data);

/// Event{wall_time, step, summary{value{tag, simple_value}}} in protocol-buffer wire format.
std::string scalar_event(double wall_time, std::int64_t step, const std::string& tag, float value);

/// Writes `dir`/<stage>/events.out.tfevents.<time>.lmforge for every stage of `run` (replacing
/// earlier ones): each numeric field of each metrics row with a step, tagged "<split>/<name>"
/// (train/loss, valid/ppl, test/accuracy ...). Returns the number of scalars written.
std::int64_t write_tensorboard(const RunRecord& run, const std::string& dir);

}  // namespace lmforge::report
