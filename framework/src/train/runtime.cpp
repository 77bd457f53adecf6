#include "train/runtime.h"

#include <dlfcn.h>
#include <malloc.h>
#include <sys/resource.h>

#include <ATen/Parallel.h>

#include <thread>

namespace lmforge {

void configure_runtime(std::int64_t threads) {
  static bool malloc_tuned = false;
  if (!malloc_tuned) {
    // Serve large tensors from the heap and never trim it back: the allocator then recycles the
    // same pages step after step instead of faulting in fresh ones.
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_TOP_PAD, 64 << 20);
    malloc_tuned = true;
  }
  std::int64_t n = threads > 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
  at::set_num_threads(static_cast<int>(n));
  // OpenBLAS keeps its own pool that at::set_num_threads does not reach. Called through dlsym
  // so lmforge neither links OpenBLAS nor fails when LibTorch uses another BLAS.
  using SetThreads = void (*)(int);
  if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
    set(static_cast<int>(n));
  }
}

double peak_rss_mib() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

}  // namespace lmforge
