#include "report/html_report.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

#include "io/atomic_file.h"
#include "report/svg_chart.h"
#include "report/tensorboard_events.h"

namespace lmforge::report {
namespace {

// Keys every metrics row carries that are coordinates, not measurements.
const std::set<std::string> kCoordinates = {"epoch", "step"};

// Shown first when present, in this order; any other evaluation metric follows alphabetically.
const std::vector<std::string> kPreferredMetrics = {"accuracy", "macro_f1", "ppl", "bpc",
                                                    "bits_per_token"};

const char* const kStyle = R"(
body { font: 14px/1.45 system-ui, "Noto Sans", "Noto Sans CJK KR", "NanumGothic", sans-serif;
       margin: 24px auto; max-width: 1180px; color: #222; padding: 0 16px; }
h1 { font-size: 24px; margin-bottom: 4px; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.meta { color: #555; } nav a { margin-right: 12px; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
figure.chart { margin: 0; border: 1px solid #eee; padding: 6px; background: #fff; }
figcaption { font-weight: 600; font-size: 13px; margin-bottom: 4px; }
table { border-collapse: collapse; margin: 8px 0; } td, th { border: 1px solid #ddd; padding: 3px 8px; }
th { background: #f6f6f6; text-align: left; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f7f7f7; padding: 10px; overflow-x: auto; font-size: 12px; }
.samples li { margin-bottom: 4px; } .prompt { font-weight: 600; } .why { color: #777; font-style: italic; }
)";

// Hooks console.error and uncaught errors before anything else runs, so the page can report them.
const char* const kErrorHook = R"(<script>
window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push(String(e.message)); });
(function () { var original = console.error;
  console.error = function () { window.__errors.push(Array.prototype.join.call(arguments, ' '));
                                original.apply(console, arguments); }; })();
</script>
)";

// Counts charts and empty ones after the page is built, and writes both onto <body>.
const char* const kSelfCheck = R"(<script>
(function () {
  var charts = document.querySelectorAll('figure.chart'), empty = [];
  charts.forEach(function (c) { if (!c.querySelector('.mark')) empty.push(c.id); });
  if (empty.length) console.error('empty charts: ' + empty.join(' '));
  document.body.setAttribute('data-charts', String(charts.length));
  document.body.setAttribute('data-empty-charts', empty.join(' '));
  document.body.setAttribute('data-console-errors', String(window.__errors.length));
  document.body.setAttribute('data-checked', 'yes');
})();
</script>
)";

std::string component_line(const std::string& description) {
  if (description.empty()) return "";
  std::ostringstream line;
  try {
    YAML::Node node = YAML::Load(description);
    for (const char* part : {"task", "tokenizer", "backbone", "head"}) {
      if (node[part] && node[part]["type"]) {
        line << (line.tellp() > 0 ? " · " : "") << part << ": <b>"
             << escape_xml(node[part]["type"].as<std::string>()) << "</b>";
      }
    }
    if (node["vocab_size"])
      line << " · vocabulary " << escape_xml(node["vocab_size"].as<std::string>());
    if (node["num_outputs"])
      line << " · outputs " << escape_xml(node["num_outputs"].as<std::string>());
  } catch (const YAML::Exception&) {
    return "";
  }
  return line.str();
}

bool is_evaluation(const MetricRow& row) {
  auto split = row.text("split");
  return split == "valid" || split == "test";
}

// The names worth a chart: per-class entries ("recall.positive") stay in the table only.
std::vector<std::string> evaluation_metrics(const StageRecord& stage) {
  std::set<std::string> seen;
  for (const auto& row : stage.rows) {
    if (row.text("split") != "valid") continue;
    for (const auto& [name, value] : row.numbers) {
      if (!kCoordinates.count(name) && name != "loss" && name.find('.') == std::string::npos) {
        seen.insert(name);
      }
    }
  }
  std::vector<std::string> ordered;
  for (const auto& name : kPreferredMetrics) {
    if (seen.erase(name)) ordered.push_back(name);
  }
  ordered.insert(ordered.end(), seen.begin(), seen.end());
  return ordered;
}

Series series_of(const StageRecord& stage, const std::string& split, const std::string& key,
                 const std::string& name, bool markers) {
  Series series{name, {}, markers};
  for (const auto& row : stage.rows) {
    if (row.text("split") != split || !row.has(key) || !row.has("step")) continue;
    series.points.emplace_back(row.numbers.at("step"), row.numbers.at(key));
  }
  return series;
}

std::string chart_id(const StageRecord& stage, const std::string& what) {
  std::string id = "chart-" + stage.name + "-" + what;
  for (char& c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') c = '_';
  }
  return id;
}

void add_line_chart(std::ostringstream& out, int& charts, LineChart chart) {
  chart.series.erase(std::remove_if(chart.series.begin(), chart.series.end(),
                                    [](const Series& s) { return s.points.empty(); }),
                     chart.series.end());
  if (chart.series.empty()) return;  // nothing measured: no chart rather than an empty one
  out << render(chart);
  ++charts;
}

void final_metrics_table(std::ostringstream& out, const StageRecord& stage) {
  std::map<std::string, const MetricRow*> last;
  for (const auto& row : stage.rows) {
    if (is_evaluation(row)) last[row.text("split")] = &row;
  }
  if (last.empty()) return;
  std::set<std::string> names;
  for (const auto& [split, row] : last) {
    for (const auto& [name, value] : row->numbers) {
      if (!kCoordinates.count(name)) names.insert(name);
    }
  }
  out << "<table><tr><th>final</th>";
  for (const auto& [split, row] : last) out << "<th>" << escape_xml(split) << "</th>";
  out << "</tr>\n";
  for (const auto& name : names) {
    out << "<tr><td>" << escape_xml(name) << "</td>";
    for (const auto& [split, row] : last) {
      auto it = row->numbers.find(name);
      out << "<td class=\"n\">" << (it == row->numbers.end() ? "" : format_number(it->second))
          << "</td>";
    }
    out << "</tr>\n";
  }
  out << "</table>\n";
}

void training_table(std::ostringstream& out, const StageRecord& stage) {
  for (const auto& row : stage.rows) {
    if (row.text("event") != "train_end") continue;
    out << "<table><tr>";
    const std::vector<std::pair<std::string, std::string>> shown = {
        {"steps", "steps"},
        {"train_tokens", "tokens"},
        {"train_seconds", "seconds"},
        {"tokens_per_sec", "tokens/s"},
        {"peak_rss_mib", "peak RSS MiB"},
        {"world_size", "processes"},
        {"skipped_nonfinite", "skipped non-finite"}};
    for (const auto& [key, label] : shown) {
      if (row.has(key)) out << "<th>" << escape_xml(label) << "</th>";
    }
    out << "</tr><tr>";
    for (const auto& [key, label] : shown) {
      if (row.has(key)) out << "<td class=\"n\">" << format_number(row.numbers.at(key)) << "</td>";
    }
    out << "</tr></table>\n";
  }
}

int stage_section(std::ostringstream& out, const StageRecord& stage,
                  const std::map<std::string, EmbeddingMap>& maps,
                  const std::map<std::string, std::string>& no_map_reasons) {
  int charts = 0;
  out << "<section id=\"" << escape_xml(chart_id(stage, "stage")) << "\"><h2>stage "
      << escape_xml(stage.name) << "</h2>\n<p class=\"meta\">" << component_line(stage.description)
      << (stage.finished ? "" : " · <b>unfinished</b>") << "</p>\n";
  final_metrics_table(out, stage);
  training_table(out, stage);

  out << "<div class=\"charts\">\n";
  add_line_chart(out, charts,
                 {chart_id(stage, "loss"),
                  "loss",
                  "step",
                  "loss",
                  {series_of(stage, "train", "loss", "train", false),
                   series_of(stage, "valid", "loss", "valid", true)}});
  for (const auto& metric : evaluation_metrics(stage)) {
    add_line_chart(out, charts,
                   {chart_id(stage, "valid-" + metric),
                    "validation " + metric,
                    "step",
                    metric,
                    {series_of(stage, "valid", metric, "valid", true)}});
  }
  add_line_chart(out, charts,
                 {chart_id(stage, "lr"),
                  "learning rate",
                  "step",
                  "learning rate",
                  {series_of(stage, "train", "lr", "lr", false)}});
  add_line_chart(out, charts,
                 {chart_id(stage, "throughput"),
                  "throughput",
                  "step",
                  "tokens/s",
                  {series_of(stage, "train", "tokens_per_sec", "tokens/s", false)}});
  if (stage.confusion) {
    out << render(HeatMap{
        chart_id(stage, "confusion"),
        "confusion matrix on " + stage.confusion->split + " (rows: true, columns: predicted)",
        stage.confusion->labels, stage.confusion->counts});
    ++charts;
  }
  out << "</div>\n";

  auto map = maps.find(stage.name);
  if (map != maps.end()) {
    const EmbeddingMap& m = map->second;
    out << "<p class=\"meta\">input embedding " << m.rows << " × " << m.dimensions << "; the "
        << m.words.size() << " most frequent words, PCA of unit vectors (the two components keep "
        << format_number(100 * m.explained) << "% of their variance)</p>\n";
    out << render(ScatterChart{chart_id(stage, "embedding"),
                               "word embedding: 2-D PCA of the most frequent words", m.words,
                               m.points});
    ++charts;
  } else if (auto why = no_map_reasons.find(stage.name); why != no_map_reasons.end()) {
    out << "<p class=\"why\">no embedding map: " << escape_xml(why->second) << "</p>\n";
  }
  if (!stage.samples.empty()) {
    out << "<h3>generated samples</h3><ul class=\"samples\">\n";
    for (const auto& [prompt, continuation] : stage.samples) {
      out << "<li><span class=\"prompt\">" << escape_xml(prompt) << "</span> "
          << escape_xml(continuation) << "</li>\n";
    }
    out << "</ul>\n";
  }
  out << "</section>\n";
  return charts;
}

}  // namespace

ReportPage render_report(const RunRecord& run, const std::map<std::string, EmbeddingMap>& maps,
                         const std::map<std::string, std::string>& no_map_reasons) {
  std::ostringstream body;
  int charts = 0;
  for (const auto& stage : run.stages) charts += stage_section(body, stage, maps, no_map_reasons);

  std::ostringstream page;
  page << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>lmforge "
          "report: "
       << escape_xml(run.name) << "</title>\n"
       << kErrorHook << "<style>" << kStyle << "</style></head>\n<body>\n<h1>"
       << escape_xml(run.name) << "</h1>\n<p class=\"meta\">run directory " << escape_xml(run.dir)
       << " · " << run.stages.size() << " stage" << (run.stages.size() == 1 ? "" : "s") << " · "
       << charts << " charts";
  if (!run.missing.empty()) {
    page << " · not run:";
    for (const auto& name : run.missing) page << " " << escape_xml(name);
  }
  page << "</p>\n<nav>";
  for (const auto& stage : run.stages) {
    page << "<a href=\"#" << escape_xml(chart_id(stage, "stage")) << "\">" << escape_xml(stage.name)
         << "</a>";
  }
  page << "<a href=\"#recipe\">recipe</a></nav>\n"
       << body.str() << "<section id=\"recipe\"><h2>resolved recipe</h2><pre>"
       << escape_xml(run.recipe_text) << "</pre></section>\n"
       << kSelfCheck << "</body></html>\n";
  return {page.str(), charts};
}

int write_report(const std::string& run_dir, const std::string& out) {
  RunRecord run = read_run(run_dir);
  std::map<std::string, EmbeddingMap> maps;
  std::map<std::string, std::string> reasons;
  for (const auto& stage : run.stages) {
    std::string why;
    if (auto map = embedding_map(stage.dir, 80, why)) {
      maps.emplace(stage.name, std::move(*map));
    } else {
      reasons.emplace(stage.name, why);
    }
  }
  ReportPage page = render_report(run, maps, reasons);
  io::write_text_atomically(out, page.html);
  write_tensorboard(run, (std::filesystem::path(run.dir) / "tensorboard").string());
  return page.charts;
}

}  // namespace lmforge::report
