// Maps API server failures to absl::Status, once, following the contract in kube_client.h:
// the HTTP status and the meta/v1 Status body (reason, message, code, details) decide the code;
// Retry-After (header or details.retryAfterSeconds) is attached with SetRetryAfter.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"
#include "src/http/http.h"

namespace kustodian::kube {

// The status for a non-2xx response. `what` names the request (e.g. "GET leases ns/name") and is
// used when the body carries no Status message. Never fails: an unparsable body just loses
// its details.
absl::Status StatusFromHttp(int http_status, const HttpHeaders& headers, std::string_view body,
                            std::string_view what);

// The status for a meta/v1 Status object (a failed response's body or a watch ERROR event's
// object). `http_status` is used when the object has no `code`.
absl::Status StatusFromStatusObject(const nlohmann::json& status, int http_status,
                                    std::string_view what);

}  // namespace kustodian::kube
