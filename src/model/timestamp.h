// RFC 3339 timestamps as ARM writes them ("2022-07-29T12:00:00.6554616Z",
// "0001-01-01T00:00:00.0000000Z"): up to 9 fractional digits, 'Z' or a numeric offset, any year
// from 0000 to 9999. Used by validation (retrievalStartDate) and by the diff (compare instants).
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kustodian {

// The instant `text` names. InvalidArgument saying what is wrong and showing an example of the
// expected form when `text` is not an RFC 3339 date-time.
absl::StatusOr<absl::Time> ParseRfc3339(std::string_view text);

}  // namespace kustodian
