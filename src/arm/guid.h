// Random GUIDs for x-ms-client-request-id and x-ms-correlation-request-id: RFC 4122 version 4,
// lower-case, no braces.
#pragma once

#include <string>

#include "absl/random/bit_gen_ref.h"

namespace kustodian {

// A fresh random GUID such as "3f2b8c1e-9a4d-4c3e-8f21-0b6a7d5e9c10". Not thread-safe with
// respect to `gen`: the caller serializes access to it.
std::string NewGuid(absl::BitGenRef gen);

}  // namespace kustodian
