// Fuzz harness: the Event Grid webhook payload parser (controller/eventgrid_payload.h) on
// arbitrary bytes. It must return a status, never throw or crash, and respect its limits.
#include <cstdlib>
#include <string>
#include <string_view>

#include "controller/eventgrid_payload.h"
#include "tests/fuzz/fuzz_entry.h"

namespace kustodian::fuzz {
namespace {

void Check(std::string_view body, const EventGridPayloadLimits& limits) {
  absl::StatusOr<EventGridPayload> payload = ParseEventGridPayload(body, limits);
  if (!payload.ok()) {
    if (payload.status().message().empty()) std::abort();
    return;
  }
  if (body.size() > limits.max_body) std::abort();
  if (payload->events.empty() || payload->events.size() > limits.max_events) std::abort();
  if (!payload->batch && payload->events.size() != 1) std::abort();
  for (const EventGridEvent& e : payload->events) {
    for (const std::string* field :
         {&e.id, &e.type, &e.source, &e.subject, &e.time, &e.resource_uri, &e.operation_name,
          &e.correlation_id, &e.status, &e.validation_code, &e.validation_url}) {
      if (field->size() > limits.max_field) std::abort();
    }
    (void)e.Resource();
  }
}

}  // namespace

int FuzzEventGrid(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  Check(body, EventGridPayloadLimits{});
  EventGridPayloadLimits small;
  small.max_body = 4096;
  small.max_events = 3;
  small.max_depth = 4;
  small.max_field = 16;
  Check(body, small);
  return 0;
}

}  // namespace kustodian::fuzz

KUSTODIAN_FUZZ_ENTRY(kustodian::fuzz::FuzzEventGrid)
