#include "controller/stable_hash.h"

#include <cstdint>
#include <cstdio>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace kustodian {
namespace {

constexpr uint64_t kFnvOffset = 14695981039346656037ULL;
constexpr uint64_t kFnvPrime = 1099511628211ULL;

std::string_view DeletionName(DeletionPolicy p) {
  return p == DeletionPolicy::kOrphan ? "Orphan" : "Delete";
}
std::string_view ImmutableName(ImmutableChangePolicy p) {
  return p == ImmutableChangePolicy::kRecreate ? "Recreate" : "Fail";
}
std::string_view ManagementName(ManagementPolicy p) {
  return p == ManagementPolicy::kObserveOnly ? "ObserveOnly" : "Manage";
}

}  // namespace

std::string StableHashHex(std::string_view data) {
  uint64_t h = kFnvOffset;
  for (unsigned char c : data) {
    h ^= c;
    h *= kFnvPrime;
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return std::string(buf, 16);
}

std::string CanonicalSpecJson(const DataConnectionSpec& spec) {
  // nlohmann::json objects are std::map based: keys come out sorted.
  nlohmann::json j;
  j["target"] = spec.id.Key();
  j["location"] = NormalizeLocation(spec.location);
  j["kind"] = std::string(KindName(spec.kind));
  j["properties"] = spec.properties;
  j["policy"] = {
      {"deletion", std::string(DeletionName(spec.policy.deletion))},
      {"immutableChange", std::string(ImmutableName(spec.policy.immutable_change))},
      {"management", std::string(ManagementName(spec.policy.management))},
      {"resyncIntervalSeconds", absl::ToInt64Seconds(spec.policy.resync_interval)},
  };
  // `replace` never throws on invalid UTF-8 (the loader rejects it earlier anyway).
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string SpecHash(const DataConnectionSpec& spec) {
  return StableHashHex(CanonicalSpecJson(spec));
}

}  // namespace kustodian
