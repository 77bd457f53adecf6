#pragma once
// Process-wide settings that decide CPU speed more than the model code does. lmforge sets them
// itself so users never have to: measured here, the defaults cost up to 5x on a 2-core VM.
#include <cstdint>

namespace lmforge {

/// Keeps freed memory in the process (no mmap/munmap churn for large tensors: every fresh page
/// costs ~11 us here) and sizes the OpenMP and OpenBLAS pools to `threads` (0 = all cores) so they
/// do not spin against each other. Safe to call more than once.
void configure_runtime(std::int64_t threads);

/// Peak resident memory of this process in MiB.
double peak_rss_mib();

}  // namespace lmforge
