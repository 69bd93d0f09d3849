// Event Grid payloads: a pure parser of webhook bodies in the Event Grid schema (always a JSON
// array) and in CloudEvents 1.0 structured mode (one object, or an array for a batch) into a
// small list of the fields the daemon uses. Bounded (body size, nesting depth, event count,
// field length) and with an error that says what is wrong; no I/O, no global state, so it can be
// fuzzed as ParseEventGridPayload(arbitrary bytes).
// Wire format: shared/docs/arm-kusto-api.md §5.1-5.4 and §5.6.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace kustodian {

inline constexpr char kEventTypeValidation[] = "Microsoft.EventGrid.SubscriptionValidationEvent";
inline constexpr char kEventTypeDeletion[] = "Microsoft.EventGrid.SubscriptionDeletedEvent";
inline constexpr char kEventTypeWriteSuccess[] = "Microsoft.Resources.ResourceWriteSuccess";
inline constexpr char kEventTypeDeleteSuccess[] = "Microsoft.Resources.ResourceDeleteSuccess";

enum class EventSchema { kEventGrid, kCloudEvents };

// One event, reduced to what the daemon reads. Strings absent from the body are "".
struct EventGridEvent {
  std::string id;       // id
  std::string type;     // eventType (Event Grid) / type (CloudEvents)
  std::string source;   // topic (Event Grid) / source (CloudEvents)
  std::string subject;  // subject: for resource events the target resource id
  std::string time;     // eventTime / time, as sent
  // data.* of resource events (§5.6).
  std::string resource_uri;
  std::string operation_name;
  std::string correlation_id;
  std::string status;
  // data.* of the subscription validation event (§5.2).
  std::string validation_code;
  std::string validation_url;

  // data.resourceUri, or the subject when the data carries none.
  const std::string& Resource() const { return resource_uri.empty() ? subject : resource_uri; }
};

struct EventGridPayload {
  EventSchema schema = EventSchema::kEventGrid;
  bool batch = false;  // the body was a JSON array
  std::vector<EventGridEvent> events;
};

struct EventGridPayloadLimits {
  size_t max_body = size_t{1} << 20;  // bytes
  size_t max_events = 5000;           // Event Grid's largest maxEventsPerBatch
  size_t max_depth = 32;              // nesting of arrays and objects
  size_t max_field = 4096;            // bytes of any string field the parser keeps
};

// Parses a delivery body. Event Grid schema: a non-empty array of objects with string `id`,
// `eventType` and `subject`. CloudEvents 1.0: an object (or non-empty array of objects) with
// `specversion` "1.0" and string `id`, `type` and `source`. A batch may not mix the schemas.
// Every field the parser keeps must be a string when present, and `data` an object (CloudEvents
// also allows it to be absent or null). A SubscriptionValidationEvent needs
// data.validationCode. Returns the events in body order; InvalidArgument naming the event index
// and field otherwise, or when a limit is exceeded.
absl::StatusOr<EventGridPayload> ParseEventGridPayload(std::string_view body,
                                                       const EventGridPayloadLimits& limits = {});

}  // namespace kustodian
