#include "src/model/timestamp.h"

#include <cctype>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "src/core/strings.h"

namespace kustodian {
namespace {

// Reads exactly `n` digits at `*pos` into `*out`; false when any is not a digit.
bool ReadDigits(std::string_view s, size_t* pos, int n, int* out) {
  if (*pos + n > s.size()) {
    return false;
  }
  int value = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[*pos + i];
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return false;
    }
    value = value * 10 + (c - '0');
  }
  *pos += n;
  *out = value;
  return true;
}

bool Expect(std::string_view s, size_t* pos, char want) {
  if (*pos >= s.size() || s[*pos] != want) {
    return false;
  }
  ++*pos;
  return true;
}

absl::Status Bad(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("'", Av(text), "' is not an RFC 3339 date-time (",
                                                 Av(why), "); write it like 2024-01-31T12:00:00Z"));
}

}  // namespace

absl::StatusOr<absl::Time> ParseRfc3339(std::string_view text) {
  size_t pos = 0;
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (!ReadDigits(text, &pos, 4, &year) || !Expect(text, &pos, '-') ||
      !ReadDigits(text, &pos, 2, &month) || !Expect(text, &pos, '-') ||
      !ReadDigits(text, &pos, 2, &day)) {
    return Bad(text, "the date must be YYYY-MM-DD");
  }
  if (pos >= text.size() || (text[pos] != 'T' && text[pos] != 't')) {
    return Bad(text, "a 'T' and a time must follow the date");
  }
  ++pos;
  if (!ReadDigits(text, &pos, 2, &hour) || !Expect(text, &pos, ':') ||
      !ReadDigits(text, &pos, 2, &minute) || !Expect(text, &pos, ':') ||
      !ReadDigits(text, &pos, 2, &second)) {
    return Bad(text, "the time must be hh:mm:ss");
  }
  int64_t nanos = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      if (digits < 9) {
        nanos = nanos * 10 + (text[pos] - '0');
      }
      ++digits;
      ++pos;
    }
    if (digits == 0 || digits > 9) {
      return Bad(text, "the fraction of a second must have 1 to 9 digits");
    }
    for (int i = digits; i < 9; ++i) {
      nanos *= 10;
    }
  }
  int offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int oh = 0;
    int om = 0;
    if (!ReadDigits(text, &pos, 2, &oh) || !Expect(text, &pos, ':') ||
        !ReadDigits(text, &pos, 2, &om) || oh > 23 || om > 59) {
      return Bad(text, "the offset must be Z or +hh:mm / -hh:mm");
    }
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return Bad(text, "a time zone (Z or +hh:mm) is required");
  }
  if (pos != text.size()) {
    return Bad(text, "unexpected characters after the time zone");
  }
  if (month < 1 || month > 12 || day < 1 || absl::CivilDay(year, month, day).day() != day) {
    return Bad(text, "no such calendar day");
  }
  // Second 60 is a leap second in RFC 3339; it normalizes to the next minute.
  if (hour > 23 || minute > 59 || second > 60) {
    return Bad(text, "hour, minute or second out of range");
  }
  absl::Time t = absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, second),
                                 absl::UTCTimeZone());
  return t + absl::Nanoseconds(nanos) - absl::Minutes(offset_minutes);
}

}  // namespace kustodian
