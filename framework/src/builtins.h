#pragma once
namespace lmforge {
/// Registers the built-in components once; safe to call repeatedly.
void register_builtins();
}  // namespace lmforge
