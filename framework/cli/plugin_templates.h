#pragma once
// The plugin templates of `lmforge new` (tools/plugin_template/), embedded at build time by
// cmake/embed_templates.cmake. Keys are paths relative to tools/plugin_template, e.g.
// "backbone/my_backbone.h".
#include <map>
#include <string>

namespace lmforge::cli {

const std::map<std::string, std::string>& plugin_template_files();

}  // namespace lmforge::cli
