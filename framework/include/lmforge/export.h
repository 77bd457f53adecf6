#pragma once
// Symbol visibility for the SDK. Everything is built with hidden visibility; only what a plugin
// may use is exported, so plugins cannot come to depend on core internals.
#define LMFORGE_API __attribute__((visibility("default")))
