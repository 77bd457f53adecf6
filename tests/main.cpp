// Catch2 runner for every lmforge test: registers the built-in components once, as the CLI does.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "builtins.h"
#include "train/runtime.h"

int main(int argc, char** argv) {
  lmforge::register_builtins();
  lmforge::configure_runtime(2);
  return Catch::Session().run(argc, argv);
}
