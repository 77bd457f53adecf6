// libFuzzer target: recipe files with arbitrary bytes through YAML parsing, interpolation,
// overrides and the option declarations (everything `lmforge validate` does before it consults
// the registry of components). A bad recipe must be an lmforge::Error, never a crash, a hang or
// another exception type escaping.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "fuzz_files.h"
#include "lmforge/error.h"
#include "recipe/recipe.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = lmforge::fuzz::scratch_file(data, size, "_recipe.yaml");
  lmforge::RecipeContext context;
  context.data_dir = "/nonexistent-data";
  context.out_dir = "/nonexistent-runs";
  context.overrides = {"seed=3"};
  try {
    lmforge::load_recipe(path, context);
  } catch (const lmforge::Error&) {
  }
  return 0;
}
