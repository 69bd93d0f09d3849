#include "src/arm/arm_response.h"

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "src/arm/error_mapping.h"
#include "src/core/arm_id.h"
#include "src/core/strings.h"
#include "src/model/arm_codec.h"

namespace kustodian {

absl::StatusOr<nlohmann::json> ParseJsonBody(std::string_view what, const HttpResponse& response) {
  nlohmann::json json = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    return absl::InternalError(absl::StrCat(Av(what), " answered ", response.status,
                                            " with a body that is not JSON (", response.body.size(),
                                            " bytes)"));
  }
  return json;
}

absl::StatusOr<LiveConnection> DecodeConnectionBody(std::string_view what,
                                                    const HttpResponse& response) {
  absl::StatusOr<nlohmann::json> json = ParseJsonBody(what, response);
  if (!json.ok()) {
    return json.status();
  }
  absl::StatusOr<LiveConnection> live = DecodeConnection(*json);
  if (!live.ok()) {
    return absl::InternalError(
        absl::StrCat(Av(what), " answered ", response.status,
                     " with a data connection that does not decode: ", live.status().message()));
  }
  return live;
}

bool HasOperationHeaders(const HttpResponse& response) {
  return response.Header("Azure-AsyncOperation").has_value() ||
         response.Header("Location").has_value();
}

ArmOperation OperationFromResponse(ArmOperation::Verb verb, const DataConnectionId& id,
                                   const HttpResponse& response, std::string api_version,
                                   std::string correlation_id, absl::Time now) {
  ArmOperation op;
  op.verb = verb;
  op.id = id;
  if (std::optional<std::string> url = response.Header("Azure-AsyncOperation")) {
    op.async_url = EncodeSpacesInUrl(*url);
  }
  if (std::optional<std::string> url = response.Header("Location")) {
    op.location_url = EncodeSpacesInUrl(*url);
  }
  op.api_version = std::move(api_version);
  op.correlation_id = std::move(correlation_id);
  op.started = now;
  op.polls = 0;
  op.first_poll_after = ParseRetryAfter(response.headers);
  return op;
}

std::string OperationStatus(const nlohmann::json& body) {
  if (!body.is_object()) {
    return "";
  }
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (absl::EqualsIgnoreCase(it.key(), "status") && it->is_string()) {
      return it->get<std::string>();
    }
  }
  return "";
}

std::string_view ArmVerbName(ArmOperation::Verb verb) {
  switch (verb) {
    case ArmOperation::Verb::kPut:
      return "PUT";
    case ArmOperation::Verb::kDelete:
      return "DELETE";
    case ArmOperation::Verb::kValidate:
      return "validation";
  }
  return "operation";
}

}  // namespace kustodian
