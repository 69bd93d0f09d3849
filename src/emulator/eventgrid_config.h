// Event Grid subscriptions of the emulator (arm-kusto-api.md §5): where resource events go, in
// which schema, how they are batched and filtered, and which extra headers each delivery carries.
// Parsed from the world file (`eventGridSubscriptions:`) and from PUT
// /_admin/eventgrid/subscriptions/{name}; both use the same JSON-shaped keys.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace kustodian::emulator {

inline constexpr std::string_view kResourceWriteSuccess =
    "Microsoft.Resources.ResourceWriteSuccess";
inline constexpr std::string_view kResourceDeleteSuccess =
    "Microsoft.Resources.ResourceDeleteSuccess";
inline constexpr std::string_view kResourceWriteFailure =
    "Microsoft.Resources.ResourceWriteFailure";
inline constexpr std::string_view kResourceDeleteFailure =
    "Microsoft.Resources.ResourceDeleteFailure";

enum class EventSchema { kEventGrid, kCloudEvents };

// "EventGridSchema" / "CloudEventSchemaV1_0".
std::string_view SchemaName(EventSchema schema);

struct EventGridSubscriptionConfig {
  std::string name;
  std::string endpoint;  // absolute http(s) URL, query included (e.g. ?code=SECRET)
  EventSchema schema = EventSchema::kEventGrid;
  int max_events_per_batch = 1;                              // 1..5000
  int preferred_batch_size_kb = 64;                          // 1..1024
  std::vector<std::string> included_event_types;             // never empty after parsing
  std::vector<std::pair<std::string, std::string>> headers;  // extra delivery headers (<= 10)
  int max_delivery_attempts = 0;                             // 1..30; 0 = the emulator-wide default
  absl::Duration event_ttl = absl::ZeroDuration();  // 1 min..24 h; 0 = the emulator-wide default

  // True when `event_type` is in included_event_types (case-insensitive).
  bool Includes(std::string_view event_type) const;
};

// Parses one subscription from `body` (an object with the keys documented in docs/emulator.md:
// name, endpoint, schema, maxEventsPerBatch, preferredBatchSizeInKilobytes, includedEventTypes,
// headers, maxDeliveryAttempts, eventTimeToLiveInMinutes). `name` non-empty names it (a "name"
// in the body must then agree, case-insensitively). Defaults are filled in. InvalidArgument
// naming the subscription and the field otherwise.
absl::StatusOr<EventGridSubscriptionConfig> SubscriptionFromJson(const nlohmann::json& body,
                                                                 std::string_view name = "");

// The keys accepted by SubscriptionFromJson (for the world file's unknown-key check).
const std::vector<std::string>& SubscriptionKeys();

// The configuration as JSON (same keys; header values shown).
nlohmann::ordered_json SubscriptionToJson(const EventGridSubscriptionConfig& config);

}  // namespace kustodian::emulator
