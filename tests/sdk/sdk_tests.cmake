# The plugin SDK from a user's side (tests/sdk/sdk_test.sh): install it, write a plugin with the
# installed CLI, build it as a separate CMake project and train with it (the README's commands);
# refuse plugins built for another ABI or LibTorch or with a missing symbol; build, test and train
# the head and task templates too. Each compiles LibTorch code outside this build: label sdk
# (`ctest -LE sdk` skips them).
find_program(LMFORGE_BASH bash REQUIRED)
set(LMFORGE_SDK_TEST ${CMAKE_CURRENT_LIST_DIR}/sdk_test.sh)
set(LMFORGE_SDK_WORK ${PROJECT_BINARY_DIR}/sdk_test)

# `cmake --install` copies what the build made and builds nothing, so the CLI and every bundled
# plugin are built first (a no-op after a full build).
get_property(LMFORGE_SDK_PLUGIN_MODULES GLOBAL PROPERTY LMFORGE_PLUGIN_MODULES)
list(FILTER LMFORGE_SDK_PLUGIN_MODULES EXCLUDE REGEX "^test_plugin_")
add_test(NAME sdk_build
  COMMAND ${LMFORGE_BASH} ${LMFORGE_SDK_TEST} build ${PROJECT_BINARY_DIR} lmforge_cli
    ${LMFORGE_SDK_PLUGIN_MODULES})
# Costlier than its dependents, so ctest starts it first and they do not wait for the suite's end.
set_tests_properties(sdk_build PROPERTIES LABELS sdk FIXTURES_SETUP lmforge_sdk_built TIMEOUT 600
  COST 2000)

# Measured on a 2-core machine: workflow 66 s, abi 23 s, templates 56 s. The timeout leaves room
# for a machine busy with other builds. A high COST makes ctest start these long tests first (it
# has no timings on a fresh clone), so the short ones fill the other core instead of the suite
# ending on one long test.
foreach(mode workflow abi templates)
  add_test(NAME sdk_${mode}
    COMMAND ${LMFORGE_BASH} ${LMFORGE_SDK_TEST} ${mode} ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}
      ${LMFORGE_SDK_WORK})
  set_tests_properties(sdk_${mode} PROPERTIES LABELS sdk FIXTURES_REQUIRED lmforge_sdk_built
    TIMEOUT 600 COST 1000)
endforeach()
