#pragma once
// Charts as inline SVG, so a report is one self-contained file that opens without a network or
// scripts. Every drawn datum carries class="mark": a page can count them, and a chart without any
// is an error the report test catches.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace lmforge::report {

using Point = std::pair<double, double>;

struct Series {
  std::string name;
  std::vector<Point> points;
  bool markers = false;  ///< draw each point (sparse series, e.g. one evaluation per epoch)
};

struct LineChart {
  std::string id, title, x_label, y_label;
  std::vector<Series> series;
};

struct HeatMap {
  std::string id, title;
  std::vector<std::string> labels;  ///< rows: true label; columns: predicted label
  std::vector<std::vector<std::int64_t>> counts;
};

struct ScatterChart {
  std::string id, title;
  std::vector<std::string> labels;  ///< one per point, drawn beside it
  std::vector<Point> points;
};

std::string render(const LineChart& chart);
std::string render(const HeatMap& chart);
std::string render(const ScatterChart& chart);

/// Escapes text for HTML and SVG (element content and attribute values).
std::string escape_xml(const std::string& text);

/// A number as a chart or table shows it: 4 significant digits, no exponent for everyday sizes.
std::string format_number(double value);

}  // namespace lmforge::report
