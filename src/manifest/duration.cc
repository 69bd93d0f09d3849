#include "src/manifest/duration.h"

#include <array>
#include <cstdint>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "src/core/strings.h"

namespace kustodian {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The unit at the start of `rest` (longest match first), its length in `len`.
bool ParseUnit(std::string_view rest, absl::Duration* unit, size_t* len) {
  struct Unit {
    std::string_view name;
    absl::Duration value;
  };
  const std::array<Unit, 8> units = {{
      {"ns", absl::Nanoseconds(1)},
      {"us", absl::Microseconds(1)},
      {"\xC2\xB5s", absl::Microseconds(1)},  // U+00B5 micro sign
      {"\xCE\xBCs", absl::Microseconds(1)},  // U+03BC Greek mu
      {"ms", absl::Milliseconds(1)},
      {"s", absl::Seconds(1)},
      {"m", absl::Minutes(1)},
      {"h", absl::Hours(1)},
  }};
  // Units are letters (or the micro sign); take the whole run and match it exactly.
  size_t n = 0;
  while (n < rest.size() && !IsDigit(rest[n]) && rest[n] != '.') {
    ++n;
  }
  for (const Unit& u : units) {
    if (rest.substr(0, n) == u.name) {
      *unit = u.value;
      *len = n;
      return true;
    }
  }
  *len = n;
  return false;
}

}  // namespace

absl::StatusOr<absl::Duration> ParseGoDuration(std::string_view text) {
  const std::string quoted = absl::StrCat("\"", Av(text), "\"");
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") {
    return absl::ZeroDuration();
  }
  if (s.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid duration ", quoted, ": empty"));
  }
  absl::Duration total = absl::ZeroDuration();
  while (!s.empty()) {
    // Integer part.
    uint64_t whole = 0;
    size_t i = 0;
    bool any_digit = false;
    while (i < s.size() && IsDigit(s[i])) {
      const auto digit = static_cast<uint64_t>(s[i] - '0');
      if (whole > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
        return absl::InvalidArgumentError(absl::StrCat("invalid duration ", quoted, ": overflow"));
      }
      whole = whole * 10 + digit;
      any_digit = true;
      ++i;
    }
    // Fraction.
    double fraction = 0;
    if (i < s.size() && s[i] == '.') {
      ++i;
      double scale = 0.1;
      while (i < s.size() && IsDigit(s[i])) {
        fraction += scale * (s[i] - '0');
        scale /= 10;
        any_digit = true;
        ++i;
      }
    }
    if (!any_digit) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid duration ", quoted, ": expected a number"));
    }
    s.remove_prefix(i);
    absl::Duration unit;
    size_t unit_len = 0;
    if (s.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid duration ", quoted, ": missing unit (use ns, us, ms, s, m or h, e.g. \"5m\")"));
    }
    if (!ParseUnit(s, &unit, &unit_len)) {
      return absl::InvalidArgumentError(absl::StrCat("invalid duration ", quoted,
                                                     ": unknown unit \"", Av(s.substr(0, unit_len)),
                                                     "\" (use ns, us, ms, s, m or h)"));
    }
    s.remove_prefix(unit_len);
    if (whole > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return absl::InvalidArgumentError(absl::StrCat("invalid duration ", quoted, ": overflow"));
    }
    total += unit * static_cast<int64_t>(whole) + unit * fraction;
    // Go durations are int64 nanoseconds (about 292 years); keep the same range.
    if (total > absl::Nanoseconds(std::numeric_limits<int64_t>::max())) {
      return absl::InvalidArgumentError(absl::StrCat("invalid duration ", quoted, ": overflow"));
    }
  }
  return negative ? -total : total;
}

}  // namespace kustodian
