// The HTTP side of an Event Grid webhook (arm-kusto-api.md §5.1-5.5): the validation handshake
// of each schema, the notification request with its headers and body, and the retry schedule.
// Stateless; the dispatcher (eventgrid_delivery.h) decides when to call what.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "src/emulator/eventgrid_config.h"
#include "src/http/http.h"

namespace kustodian::emulator {

// Runs one handshake attempt (`attempt` from 0) against config.endpoint. Event Grid schema: POST
// of the SubscriptionValidationEvent carrying `code`, passing on HTTP 200 with
// {"validationResponse": code}. CloudEvents: OPTIONS with WebHook-Request-Origin, passing on a
// 2xx with WebHook-Allowed-Origin eventgrid.azure.net or "*". OK when the endpoint consented;
// otherwise FailedPrecondition (or the transport's error) saying why.
absl::Status RunHandshake(HttpTransport& transport, const EventGridSubscriptionConfig& config,
                          std::string_view topic, std::string_view code, int attempt,
                          absl::Duration timeout);

// The POST that delivers `rendered` (events already rendered in config.schema, at least one) as
// delivery attempt `attempt` (from 0): a JSON array, or a single CloudEvent when
// maxEventsPerBatch is 1, with the aeg-* headers and the subscription's own headers.
HttpRequest NotificationRequest(const EventGridSubscriptionConfig& config,
                                const std::vector<std::string>& rendered, int attempt,
                                std::string_view data_version, absl::Duration timeout);

// True for the delivery successes of §5.5: 200-204.
bool IsDeliverySuccess(int status);

// The delay of §5.5 before retry number `failed_attempts` + 1 (failed_attempts >= 1), unscaled and
// without jitter: 10 s, 30 s, 1 min, 5 min, 10 min, 30 min, 1 h, 3 h, 6 h, then 12 h; raised to
// the older per-status minimums (404: 5 min, 408: 2 min, 503: 30 s). `status` 0 = no answer.
absl::Duration RetryDelay(int failed_attempts, int status);

// True for the statuses Event Grid never retries on a webhook: 400, 401, 403, 413.
bool IsNonRetriedStatus(int status);

}  // namespace kustodian::emulator
