// Hashes that stay the same across runs, machines and builds (unlike std::hash / absl::Hash):
// the spec hash recorded in the ownership journal as lastAppliedHash, and the short key hash
// in status file names. FNV-1a 64-bit over bytes; not cryptographic.
#pragma once

#include <string>
#include <string_view>

#include "src/model/data_connection.h"

namespace kustodian {

// 16 lower-case hex digits of the FNV-1a 64-bit hash of `data`.
std::string StableHashHex(std::string_view data);

// The canonical JSON of what a spec asks of Azure and of kustodian: target (as its key),
// location (normalized), kind, properties and policy. Object keys are sorted, so equal specs
// give equal text whatever the manifest's key order.
std::string CanonicalSpecJson(const DataConnectionSpec& spec);

// StableHashHex(CanonicalSpecJson(spec)).
std::string SpecHash(const DataConnectionSpec& spec);

}  // namespace kustodian
