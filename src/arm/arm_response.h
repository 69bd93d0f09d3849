// Helpers that turn ARM's HTTP answers into model values for ArmClientImpl: JSON bodies,
// decoded connections and the operation handle of an asynchronous answer.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "src/arm/arm_client.h"
#include "src/http/http.h"

namespace kustodian {

// The parsed JSON body. Internal (naming `what`) when the body is empty or not JSON: ARM sent
// something we cannot read, which retrying will not cure.
absl::StatusOr<nlohmann::json> ParseJsonBody(std::string_view what, const HttpResponse& response);

// The data connection in the body. Internal (naming `what`) when it does not decode.
absl::StatusOr<LiveConnection> DecodeConnectionBody(std::string_view what,
                                                    const HttpResponse& response);

// True when the answer names an operation to poll (Azure-AsyncOperation or Location header).
bool HasOperationHeaders(const HttpResponse& response);

// The operation handle for an asynchronous answer: the header URLs as sent, with literal
// spaces percent-encoded and nothing else changed; first_poll_after from its Retry-After.
ArmOperation OperationFromResponse(ArmOperation::Verb verb, const DataConnectionId& id,
                                   const HttpResponse& response, std::string api_version,
                                   std::string correlation_id, absl::Time now);

// The top-level "status" of a status-monitor body (key matched case-insensitively), or "".
std::string OperationStatus(const nlohmann::json& body);

}  // namespace kustodian
