#pragma once
// `lmforge report`: one self-contained HTML page per run — no network, no external files; charts
// are inline SVG. Its only script checks the page itself (every chart drew something, no script
// error) and records the result on <body>, where a headless browser test reads it.
#include <map>
#include <string>

#include "report/embedding_map.h"
#include "report/run_record.h"

namespace lmforge::report {

struct ReportPage {
  std::string html;
  int charts = 0;  ///< figures drawn (each with at least one mark)
};

/// The page for `run`, with the embedding maps of the stages that have one (by stage name) and,
/// for the stages that do not, why (shown in place of the map).
ReportPage render_report(const RunRecord& run, const std::map<std::string, EmbeddingMap>& maps,
                         const std::map<std::string, std::string>& no_map_reasons);

/// Reads the run in `run_dir`, computes its embedding maps and writes the page to `out`
/// atomically, and the metrics as TensorBoard event files to `run_dir`/tensorboard/<stage>/.
/// Returns the number of charts drawn.
int write_report(const std::string& run_dir, const std::string& out);

}  // namespace lmforge::report
