// Maps ARM answers to absl::Status once for the whole client: HTTP status -> status code, ARM's
// {"error":{"code","message"}} body (keys matched case-insensitively) -> message and attached
// ARM error code, Retry-After headers -> attached wait.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "src/http/http.h"

namespace kustodian {

struct ArmErrorBody {
  std::string code;     // "" when the body has none
  std::string message;  // "" when the body has none
};

// Reads {"error":{"code","message"}}, {"Error":{"Code","Message"}} or a bare {"code","message"}.
// Never fails: an unparsable or empty body yields empty fields.
ArmErrorBody ParseArmErrorBody(std::string_view body);
// Same, from an already parsed `error` object (or a document holding one).
ArmErrorBody ArmErrorFromJson(const nlohmann::json& json);

// The server's requested wait: `retry-after-ms` / `x-ms-retry-after-ms` (milliseconds) or
// `Retry-After` (integer seconds). nullopt when absent or unparsable.
std::optional<absl::Duration> ParseRetryAfter(const HttpHeaders& headers);

// 400 InvalidArgument; 401 Unauthenticated; 403 PermissionDenied; 404 NotFound; 409 Aborted;
// 412 FailedPrecondition; 408, 429 and 5xx Unavailable; other 4xx FailedPrecondition;
// anything else Internal.
absl::StatusCode StatusCodeForHttp(int http_status);

// The path part of an absolute URL (no scheme, host or query), for messages.
std::string UrlPathForLog(std::string_view url);

// The error for a non-success ARM response:
// "ARM <METHOD> <path> -> <status> <code>: <message> (client-request-id <id>)", with the ARM
// error code and any Retry-After attached.
absl::Status MapArmError(std::string_view method, std::string_view url,
                         const HttpResponse& response, std::string_view client_request_id);

// The error for a transport failure: Unavailable (InvalidArgument stays InvalidArgument: a bad
// URL is not worth retrying), message in the same shape with the transport's text.
absl::Status MapTransportError(std::string_view method, std::string_view url,
                               const absl::Status& transport_error,
                               std::string_view client_request_id);

// The outcome of a finished-but-failed long-running operation from its `error` object:
// InvalidArgument when the message starts with "[BadRequest]", Aborted for status Canceled,
// Internal otherwise; ARM's code attached.
absl::Status OperationFailureStatus(std::string_view operation_status,
                                    const nlohmann::json& error_json, std::string_view what);

}  // namespace kustodian
