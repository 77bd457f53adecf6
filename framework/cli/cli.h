#pragma once
// The sub-commands of `lmforge`. Each returns the process exit code; errors reach the user as one
// line naming the place, never as a crash.
#include <string>
#include <vector>

#include "lmforge/export.h"

namespace lmforge::cli {

/// Entry point used by the executable.
LMFORGE_API int main(int argc, char** argv);

using Args = std::vector<std::string>;
int run_command(const Args& args);
int validate_command(const Args& args);
int plugins_command(const Args& args);
int generate_command(const Args& args);
int embed_command(const Args& args);
int predict_command(const Args& args);
int translate_command(const Args& args);
int new_command(const Args& args);
int tokenize_command(const Args& args);
int report_command(const Args& args);
int export_command(const Args& args);
int import_command(const Args& args);
int merge_command(const Args& args);

}  // namespace lmforge::cli
