// `lmforge report`'s pieces: SVG charts draw every datum (and nothing for no data), a run
// directory is read back with its metrics, confusion matrix and samples, bad files are refused
// with their place, and the page keeps UTF-8 (Korean) text and escapes markup.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "io/crc32.h"
#include "lmforge/error.h"
#include "report/html_report.h"
#include "report/run_record.h"
#include "report/svg_chart.h"
#include "report/tensorboard_events.h"
#include "support/temp_dir.h"

using namespace lmforge::report;
using lmforge::test::TempDir;

namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A finished two-stage run as `lmforge run` leaves it (what the report reads of it).
void write_run(const TempDir& dir) {
  dir.file("recipe.yaml",
           "name: tiny\nstages:\n  - name: pretrain\n  - name: classify\n  - name: never_run\n");
  dir.file("pretrain/stage.yaml",
           "format: 1\ntask: {type: language_modeling}\nbackbone: {type: lstm}\nhead: {type: lm}\n"
           "vocab_size: 50\nnum_outputs: 50\n");
  dir.file("pretrain/metrics.jsonl",
           "{\"epoch\": 1, \"loss\": 3.5, \"lr\": 0.001, \"split\": \"train\", \"stage\": "
           "\"pretrain\", \"step\": 10, \"tokens_per_sec\": 1000}\n"
           "{\"epoch\": 1, \"loss\": 2.5, \"lr\": 0.002, \"split\": \"train\", \"stage\": "
           "\"pretrain\", \"step\": 20, \"tokens_per_sec\": 1100}\n"
           "{\"epoch\": 1, \"loss\": 2.4, \"ppl\": 11.0, \"bpc\": null, \"split\": \"valid\", "
           "\"stage\": \"pretrain\", \"step\": 20}\n"
           "{\"event\": \"train_end\", \"stage\": \"pretrain\", \"steps\": 20, \"tokens_per_sec\": "
           "1050, \"peak_rss_mib\": 300}\n");
  dir.file("pretrain/samples.tsv", "이 영화\t정말 재미있다 <b>\n");
  dir.file("pretrain/done", "finished\n");
  dir.file("classify/metrics.jsonl",
           "{\"epoch\": 1, \"loss\": 0.6, \"split\": \"train\", \"stage\": \"classify\", \"step\": "
           "5, \"lr\": 0.01}\n"
           "{\"accuracy\": 0.75, \"epoch\": 1, \"loss\": 0.5, \"split\": \"test\", \"stage\": "
           "\"classify\", \"step\": 5, \"recall.긍정\": 0.5}\n");
  dir.file("classify/confusion.test.tsv", "true\\predicted\t긍정\t부정\n긍정\t3\t1\n부정\t0\t4\n");
}

}  // namespace

TEST_CASE("a line chart draws each series and each sparse point", "[report]") {
  LineChart chart{"c", "loss", "step", "loss", {}};
  chart.series.push_back({"train", {{1, 3.0}, {2, 2.0}, {3, 1.5}}, false});
  chart.series.push_back({"valid", {{3, 1.8}}, true});
  std::string svg = render(chart);
  CHECK(count(svg, "<polyline class=\"mark\"") == 1);  // one line for train
  CHECK(count(svg, "<circle class=\"mark\"") == 1);    // one point for valid
  CHECK(svg.find("<figure class=\"chart\" id=\"c\">") == 0);

  LineChart empty{"e", "nothing", "step", "y", {{"none", {}, false}}};
  CHECK(render(empty).find("class=\"mark\"") == std::string::npos);
}

TEST_CASE("a heat map has one cell per pair of labels and escapes them", "[report]") {
  HeatMap map{"h", "confusion", {"a<b", "c"}, {{1, 2}, {3, 4}}};
  std::string svg = render(map);
  CHECK(count(svg, "<rect class=\"mark\"") == 4);
  CHECK(svg.find("a&lt;b") != std::string::npos);
  CHECK(svg.find("a<b") == std::string::npos);
}

TEST_CASE("numbers read as a person writes them", "[report]") {
  CHECK(format_number(0.875) == "0.875");
  CHECK(format_number(45375.38) == "45375");
  CHECK(format_number(1e-6) == "1.000e-06");
  CHECK(format_number(0) == "0");
}

TEST_CASE("a run directory is read back stage by stage", "[report]") {
  TempDir dir("report_run");
  write_run(dir);
  RunRecord run = read_run(dir.path.string());
  CHECK(run.name == "tiny");
  REQUIRE(run.stages.size() == 2);
  CHECK(run.missing == std::vector<std::string>{"never_run"});
  const StageRecord& pretrain = run.stages[0];
  CHECK(pretrain.finished);
  REQUIRE(pretrain.rows.size() == 4);
  CHECK(pretrain.rows[2].numbers.at("ppl") == 11.0);
  CHECK(pretrain.rows[2].numbers.count("bpc") == 0);  // null: not finite, left out
  CHECK(pretrain.rows[2].text("split") == "valid");
  REQUIRE(pretrain.samples.size() == 1);
  CHECK(pretrain.samples[0].first == "이 영화");
  const StageRecord& classify = run.stages[1];
  CHECK_FALSE(classify.finished);
  REQUIRE(classify.confusion);
  CHECK(classify.confusion->labels == std::vector<std::string>{"긍정", "부정"});
  CHECK(classify.confusion->counts[0][1] == 1);

  // A stage directory names its run.
  CHECK(read_run((dir.path / "classify").string()).stages.size() == 2);
}

TEST_CASE("what is not a run is refused with its place", "[report]") {
  TempDir dir("report_bad");
  CHECK_THROWS_WITH(read_run(dir.path.string()), Catch::Contains("is not a run directory"));
  write_run(dir);
  dir.file("pretrain/metrics.jsonl", "{\"loss\": 1}\n[1, 2\n");
  CHECK_THROWS_WITH(read_run(dir.path.string()), Catch::Contains("metrics.jsonl:2"));
  write_run(dir);
  dir.file("classify/confusion.test.tsv", "true\\predicted\ta\tb\na\t1\n");
  CHECK_THROWS_WITH(read_run(dir.path.string()), Catch::Contains("confusion.test.tsv:2"));
}

TEST_CASE("the page holds every chart, the samples and the recipe", "[report]") {
  TempDir dir("report_page");
  write_run(dir);
  RunRecord run = read_run(dir.path.string());
  EmbeddingMap map;
  map.words = {"영화", "film", "good"};
  map.points = {{0, 0}, {1, 0.5}, {-1, 0.2}};
  ReportPage rendered = render_report(run, {{"pretrain", map}}, {{"classify", "no checkpoint"}});
  const std::string& page = rendered.html;
  CHECK(rendered.charts == 8);
  // pretrain: loss, ppl, lr, throughput, embedding; classify: loss, lr, confusion (no valid
  // rows, so no validation chart).
  CHECK(count(page, "<figure class=\"chart\"") == 8);
  CHECK(page.find("정말 재미있다 &lt;b&gt;") != std::string::npos);
  CHECK(page.find(">영화</text>") != std::string::npos);
  CHECK(page.find("no embedding map: no checkpoint") != std::string::npos);
  CHECK(page.find("name: tiny") != std::string::npos);
  CHECK(page.find("not run: never_run") != std::string::npos);
  CHECK(count(page, "http") == count(page, "http://www.w3.org/2000/svg"));  // nothing fetched
}

TEST_CASE("TensorBoard records carry CRC-32C and the scalar event's fields", "[report]") {
  // The check value of CRC-32C (RFC 3720's test vector).
  CHECK(lmforge::io::crc32c("123456789") == 0xE3069283u);
  std::string event = lmforge::report::scalar_event(1.5, 300, "valid/ppl", 8.5f);
  // wall_time (field 1, fixed64), step (field 2, varint 300 = ac 02), summary (field 5).
  CHECK(event.substr(0, 1) == "\x09");
  CHECK(event.substr(9, 3) == std::string("\x10\xac\x02", 3));
  CHECK(event[12] == '\x2a');
  CHECK(event.find("valid/ppl") != std::string::npos);
  std::string record = lmforge::report::tf_record(event);
  CHECK(record.size() == 8 + 4 + event.size() + 4);
  CHECK(record.substr(12, event.size()) == event);

  TempDir dir("report_tensorboard");
  write_run(dir);
  auto scalars =
      lmforge::report::write_tensorboard(read_run(dir.path.string()), (dir.path / "tb").string());
  // pretrain: 2 train rows x 3 + valid row with loss, ppl (bpc was null); classify: 2 + 3.
  CHECK(scalars == 6 + 2 + 2 + 3);
  CHECK(std::filesystem::exists(dir.path / "tb" / "pretrain"));
}
