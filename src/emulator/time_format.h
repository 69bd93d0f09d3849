// Timestamps as the Kusto resource provider writes them: UTC, "Z", up to 7 fractional digits
// with trailing zeros trimmed ("2022-07-29T12:00:00.6554616Z", "0001-01-01T00:00:00Z").
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace kustodian::emulator {

// Formats `t` in the RP's style (years padded to 4 digits, 100 ns precision, zeros trimmed).
std::string FormatArmTime(absl::Time t);

// Parses an RFC 3339 timestamp (any offset, any number of fractional digits). nullopt when
// `text` is not one.
std::optional<absl::Time> ParseArmTime(std::string_view text);

}  // namespace kustodian::emulator
