// Go-style duration strings ("30s", "5m", "1h30m", "1.5h", "250ms"), as Kubernetes users write
// them in manifests (spec.policy.resyncInterval). Only the parser lives here; range checks that
// depend on the field (e.g. a minimum resync interval) are the caller's.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kustodian {

// Parses a Go time.ParseDuration string: an optional sign, then one or more decimal numbers
// (with optional fraction) each followed by a unit: ns, us (or µs), ms, s, m, h. "0" alone is
// allowed. Returns the duration on success; InvalidArgument naming the input and what is wrong
// (empty, missing unit, unknown unit, bad number, overflow) otherwise.
absl::StatusOr<absl::Duration> ParseGoDuration(std::string_view text);

}  // namespace kustodian
