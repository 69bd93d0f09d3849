#include "src/emulator/time_format.h"

#include "absl/strings/str_format.h"
#include "src/core/strings.h"

namespace kustodian::emulator {

std::string FormatArmTime(absl::Time t) {
  absl::TimeZone utc = absl::UTCTimeZone();
  absl::TimeZone::CivilInfo info = utc.At(t);
  absl::CivilSecond cs = info.cs;
  // 100 ns ticks, as .NET DateTime keeps them.
  int64_t ticks = absl::ToInt64Nanoseconds(info.subsecond) / 100;
  std::string out = absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02d", cs.year(), cs.month(),
                                    cs.day(), cs.hour(), cs.minute(), cs.second());
  if (ticks > 0) {
    std::string frac = absl::StrFormat("%07d", ticks);
    while (!frac.empty() && frac.back() == '0') {
      frac.pop_back();
    }
    out += "." + frac;
  }
  out += "Z";
  return out;
}

std::optional<absl::Time> ParseArmTime(std::string_view text) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime("%Y-%m-%d%ET%H:%M:%E*S%Ez", Av(text), &t, &err)) {
    return std::nullopt;
  }
  return t;
}

}  // namespace kustodian::emulator
