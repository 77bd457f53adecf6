// The `lmforge` executable: sets up the process, then hands over to the CLI in liblmforge.
#include <unistd.h>

#include <cstdlib>

#include "cli.h"

int main(int argc, char** argv) {
  // OpenMP reads OMP_WAIT_POLICY once, when LibTorch's runtime loads — before main. Busy-waiting
  // worker threads steal the cores OpenBLAS needs (measured up to 2.5x slower on 2 cores), so the
  // process re-executes itself once with passive waiting unless the user chose a policy.
  if (std::getenv("OMP_WAIT_POLICY") == nullptr && std::getenv("LMFORGE_NO_REEXEC") == nullptr) {
    setenv("OMP_WAIT_POLICY", "passive", 1);
    setenv("LMFORGE_NO_REEXEC", "1", 1);
    execv("/proc/self/exe", argv);
    // If exec fails we simply continue with the current settings.
  }
  return lmforge::cli::main(argc, argv);
}
