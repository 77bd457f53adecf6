#include "report/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "lmforge/text_util.h"
#include "text/utf8.h"

namespace lmforge::report {
namespace {

// Colour-blind-safe (Okabe–Ito), in the order series are drawn.
const char* const kPalette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                "#E69F00", "#56B4E9", "#000000", "#F0E442"};

const char* colour(std::size_t i) { return kPalette[i % (sizeof kPalette / sizeof *kPalette)]; }

struct Axis {
  double lo = 0, hi = 1;
  std::vector<double> ticks;
};

// Ticks at 1, 2 or 5 times a power of ten, the range widened to whole ticks, so that axes read
// as round numbers whatever the data.
Axis nice_axis(double lo, double hi) {
  if (!(hi > lo)) {
    double pad = lo == 0 ? 1.0 : std::abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  double raw = (hi - lo) / 5;
  double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double norm = raw / magnitude;
  double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * magnitude;
  Axis axis;
  axis.lo = std::floor(lo / step) * step;
  axis.hi = std::ceil(hi / step) * step;
  for (double t = axis.lo; t <= axis.hi + step * 1e-6; t += step) {
    axis.ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  }
  return axis;
}

std::size_t code_points(const std::string& text) { return text::decode_utf8(text).size(); }

// SVG coordinates to a tenth of a pixel.
std::string fixed(double value) { return text_util::fixed(value, 1); }

std::string open_figure(const std::string& id, const std::string& title, double width,
                        double height) {
  std::ostringstream out;
  out << "<figure class=\"chart\" id=\"" << escape_xml(id) << "\"><figcaption>" << escape_xml(title)
      << "</figcaption>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << fixed(width)
      << "\" height=\"" << fixed(height) << "\" viewBox=\"0 0 " << fixed(width) << " "
      << fixed(height) << "\" role=\"img\">\n";
  return out.str();
}

const char* const kCloseFigure = "</svg></figure>\n";

}  // namespace

std::string escape_xml(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string format_number(double value) {
  if (!std::isfinite(value)) return std::isnan(value) ? "nan" : (value > 0 ? "inf" : "-inf");
  char buffer[32];
  double magnitude = std::abs(value);
  if (magnitude != 0 && (magnitude >= 1e7 || magnitude < 1e-4)) {
    std::snprintf(buffer, sizeof buffer, "%.3e", value);
  } else if (magnitude >= 1000) {
    std::snprintf(buffer, sizeof buffer, "%.0f", value);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.4g", value);
  }
  return buffer;
}

std::string render(const LineChart& chart) {
  const double width = 560, height = 300, left = 64, right = 16, top = 30, bottom = 44;
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
  for (const auto& series : chart.series) {
    for (const auto& [x, y] : series.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      x_lo = std::min(x_lo, x), x_hi = std::max(x_hi, x);
      y_lo = std::min(y_lo, y), y_hi = std::max(y_hi, y);
    }
  }
  if (!std::isfinite(x_lo)) x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;
  Axis xa = nice_axis(x_lo, x_hi), ya = nice_axis(y_lo, y_hi);
  auto px = [&](double x) { return left + (x - xa.lo) / (xa.hi - xa.lo) * (width - left - right); };
  auto py = [&](double y) {
    return height - bottom - (y - ya.lo) / (ya.hi - ya.lo) * (height - top - bottom);
  };

  std::ostringstream out;
  out << open_figure(chart.id, chart.title, width, height);
  out << "<g class=\"axes\" font-size=\"11\" fill=\"#444\">\n";
  for (double t : ya.ticks) {
    out << "<line x1=\"" << fixed(left) << "\" x2=\"" << fixed(width - right) << "\" y1=\""
        << fixed(py(t)) << "\" y2=\"" << fixed(py(t)) << "\" stroke=\"#e4e4e4\"/>"
        << "<text x=\"" << fixed(left - 6) << "\" y=\"" << fixed(py(t) + 4)
        << "\" text-anchor=\"end\">" << format_number(t) << "</text>\n";
  }
  for (double t : xa.ticks) {
    out << "<text x=\"" << fixed(px(t)) << "\" y=\"" << fixed(height - bottom + 16)
        << "\" text-anchor=\"middle\">" << format_number(t) << "</text>\n";
  }
  out << "<line x1=\"" << fixed(left) << "\" x2=\"" << fixed(left) << "\" y1=\"" << fixed(top)
      << "\" y2=\"" << fixed(height - bottom) << "\" stroke=\"#888\"/>"
      << "<line x1=\"" << fixed(left) << "\" x2=\"" << fixed(width - right) << "\" y1=\""
      << fixed(height - bottom) << "\" y2=\"" << fixed(height - bottom) << "\" stroke=\"#888\"/>\n"
      << "<text x=\"" << fixed((left + width - right) / 2) << "\" y=\"" << fixed(height - 8)
      << "\" text-anchor=\"middle\">" << escape_xml(chart.x_label) << "</text>\n"
      << "<text transform=\"translate(14," << fixed((top + height - bottom) / 2)
      << ") rotate(-90)\" text-anchor=\"middle\">" << escape_xml(chart.y_label) << "</text>\n"
      << "</g>\n";

  double legend_x = left;
  for (std::size_t i = 0; i < chart.series.size(); ++i) {
    const auto& series = chart.series[i];
    std::ostringstream points;
    std::size_t drawn = 0;
    for (const auto& [x, y] : series.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      points << fixed(px(x)) << "," << fixed(py(y)) << " ";
      ++drawn;
    }
    if (drawn == 0) continue;
    out << "<g><title>" << escape_xml(series.name) << "</title>\n";
    if (drawn > 1) {
      out << "<polyline class=\"mark\" fill=\"none\" stroke-width=\"1.6\" stroke=\"" << colour(i)
          << "\" points=\"" << points.str() << "\"/>\n";
    }
    if (series.markers || drawn == 1) {
      for (const auto& [x, y] : series.points) {
        if (!std::isfinite(x) || !std::isfinite(y)) continue;
        out << "<circle class=\"mark\" r=\"3.2\" fill=\"" << colour(i) << "\" cx=\"" << fixed(px(x))
            << "\" cy=\"" << fixed(py(y)) << "\"><title>" << escape_xml(series.name) << ": "
            << format_number(y) << " at " << format_number(x) << "</title></circle>\n";
      }
    }
    out << "</g>\n<rect x=\"" << fixed(legend_x) << "\" y=\"8\" width=\"10\" height=\"10\" fill=\""
        << colour(i) << "\"/><text x=\"" << fixed(legend_x + 14) << "\" y=\"17\" font-size=\"12\">"
        << escape_xml(series.name) << "</text>\n";
    legend_x += 30 + 7.0 * static_cast<double>(code_points(series.name));
  }
  out << kCloseFigure;
  return out.str();
}

std::string render(const HeatMap& chart) {
  const std::size_t n = chart.labels.size();
  std::size_t longest = 1;
  for (const auto& label : chart.labels) longest = std::max(longest, code_points(label));
  const double cell =
      std::clamp(480.0 / static_cast<double>(std::max<std::size_t>(n, 1)), 9.0, 44.0);
  const double font = std::min(12.0, cell * 0.8);
  const double margin = std::min(160.0, 12 + font * 0.62 * static_cast<double>(longest));
  const double top = margin + 20, left = margin + 22;
  const double width = left + cell * static_cast<double>(n) + 12;
  const double height = top + cell * static_cast<double>(n) + 12;

  std::ostringstream out;
  out << open_figure(chart.id, chart.title, width, height);
  out << "<g font-size=\"" << fixed(font) << "\" fill=\"#333\">\n";
  out << "<text x=\"" << fixed(left) << "\" y=\"12\" font-size=\"11\">predicted →</text>"
      << "<text transform=\"translate(12," << fixed(top) << ") rotate(90)\" font-size=\"11\">"
      << "true →</text>\n";
  for (std::size_t i = 0; i < n; ++i) {
    double centre = static_cast<double>(i) * cell + cell / 2;
    out << "<text x=\"" << fixed(left - 4) << "\" y=\"" << fixed(top + centre + font / 3)
        << "\" text-anchor=\"end\">" << escape_xml(chart.labels[i]) << "</text>"
        << "<text transform=\"translate(" << fixed(left + centre + font / 3) << ","
        << fixed(top - 4) << ") rotate(-90)\">" << escape_xml(chart.labels[i]) << "</text>\n";
  }
  out << "</g>\n";
  for (std::size_t r = 0; r < n && r < chart.counts.size(); ++r) {
    // Each row is shaded by its own total, so a rare class's confusions show as clearly as a
    // frequent one's.
    std::int64_t total = 0;
    for (auto c : chart.counts[r]) total += c;
    for (std::size_t c = 0; c < n && c < chart.counts[r].size(); ++c) {
      double share =
          total > 0 ? static_cast<double>(chart.counts[r][c]) / static_cast<double>(total) : 0;
      int shade = static_cast<int>(std::lround(255 - share * 200));
      char fill[16];
      std::snprintf(fill, sizeof fill, "rgb(%d,%d,255)", shade, shade);
      double x = left + static_cast<double>(c) * cell, y = top + static_cast<double>(r) * cell;
      out << "<rect class=\"mark\" x=\"" << fixed(x) << "\" y=\"" << fixed(y) << "\" width=\""
          << fixed(cell - 1) << "\" height=\"" << fixed(cell - 1) << "\" fill=\"" << fill
          << "\"><title>" << escape_xml(chart.labels[r]) << " → " << escape_xml(chart.labels[c])
          << ": " << chart.counts[r][c] << "</title></rect>";
      if (cell >= 22) {
        out << "<text x=\"" << fixed(x + cell / 2) << "\" y=\"" << fixed(y + cell / 2 + 4)
            << "\" text-anchor=\"middle\" font-size=\"11\" fill=\""
            << (share > 0.6 ? "#fff" : "#222") << "\">" << chart.counts[r][c] << "</text>";
      }
      out << "\n";
    }
  }
  out << kCloseFigure;
  return out.str();
}

std::string render(const ScatterChart& chart) {
  const double width = 720, height = 520, pad = 28;
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
  for (const auto& [x, y] : chart.points) {
    x_lo = std::min(x_lo, x), x_hi = std::max(x_hi, x);
    y_lo = std::min(y_lo, y), y_hi = std::max(y_hi, y);
  }
  double x_span = x_hi > x_lo ? x_hi - x_lo : 1, y_span = y_hi > y_lo ? y_hi - y_lo : 1;
  auto px = [&](double x) { return pad + (x - x_lo) / x_span * (width - 2 * pad - 60); };
  auto py = [&](double y) { return height - pad - (y - y_lo) / y_span * (height - 2 * pad); };
  std::ostringstream out;
  out << open_figure(chart.id, chart.title, width, height);
  out << "<rect x=\"0.5\" y=\"0.5\" width=\"" << fixed(width - 1) << "\" height=\""
      << fixed(height - 1) << "\" fill=\"none\" stroke=\"#ddd\"/>\n";
  for (std::size_t i = 0; i < chart.points.size(); ++i) {
    const auto& [x, y] = chart.points[i];
    if (!std::isfinite(x) || !std::isfinite(y)) continue;
    std::string label = i < chart.labels.size() ? chart.labels[i] : "";
    out << "<circle class=\"mark\" r=\"2.5\" fill=\"#0072B2\" cx=\"" << fixed(px(x)) << "\" cy=\""
        << fixed(py(y)) << "\"/><text x=\"" << fixed(px(x) + 4) << "\" y=\"" << fixed(py(y) + 4)
        << "\" font-size=\"11\" fill=\"#222\">" << escape_xml(label) << "</text>\n";
  }
  out << kCloseFigure;
  return out.str();
}

}  // namespace lmforge::report
