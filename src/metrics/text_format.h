// Low-level pieces of the Prometheus text exposition format (version 0.0.4) shared by the
// metric types and the Registry: number formatting, escaping and name validation. Internal to
// src/metrics; other modules use registry.h.
#pragma once

#include <string>
#include <string_view>

namespace kustodian {

// Formats a sample value the way Prometheus does: "NaN", "+Inf", "-Inf"; integral values up to
// 1e15 without exponent or decimal point ("3", "1790000000"); everything else as the shortest
// representation that round-trips ("0.005", "1e-08").
std::string FormatMetricValue(double value);

// Escapes a label value: backslash, double quote and line feed become \\, \" and \n.
std::string EscapeLabelValue(std::string_view value);

// Escapes HELP text: backslash and line feed become \\ and \n.
std::string EscapeHelp(std::string_view help);

// True if `name` matches [a-zA-Z_:][a-zA-Z0-9_:]*.
bool IsValidMetricName(std::string_view name);

// True if `name` matches [a-zA-Z_][a-zA-Z0-9_]* and does not start with "__" (reserved).
bool IsValidLabelName(std::string_view name);

// Misuse of the metrics API (bad name, conflicting registration, wrong label count) is a
// programming error: prints "kustodian metrics: <message>" to stderr and aborts.
[[noreturn]] void MetricsFatal(std::string_view message);

}  // namespace kustodian
