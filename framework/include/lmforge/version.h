#pragma once
#include <cstdint>

namespace lmforge {

/// Bumped whenever a public SDK header changes in a way that breaks compiled plugins
/// (class layout, virtual table, registration signature). Host and plugin must agree exactly.
#ifndef LMFORGE_ABI_VERSION
// 2: Head::forward_loss; 3: Task::predict, tasks as plugins, virtual Tokenizer::count/encode/...;
// 4: subword rows in WordVectorTable, Word2VecBackbone::prepare, WordVectors' unknown words;
// 5: Word2VecHead::update_block, Word2VecRows::block_rows.
#define LMFORGE_ABI_VERSION 5
#endif
inline constexpr std::uint32_t kAbiVersion = LMFORGE_ABI_VERSION;

/// Human-facing SDK version, printed by `lmforge --version`.
inline constexpr const char* kSdkVersion = "0.1.0";

}  // namespace lmforge
