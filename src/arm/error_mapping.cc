#include "src/arm/error_mapping.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "src/core/status.h"
#include "src/core/strings.h"

namespace kustodian {
namespace {

// The member of `object` whose key equals `key` ignoring case, or nullptr.
const nlohmann::json* FindKeyIgnoreCase(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) {
    return nullptr;
  }
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (absl::EqualsIgnoreCase(it.key(), Av(key))) {
      return &it.value();
    }
  }
  return nullptr;
}

std::string StringMember(const nlohmann::json& object, std::string_view key) {
  const nlohmann::json* value = FindKeyIgnoreCase(object, key);
  if (value == nullptr || value->is_null()) {
    return "";
  }
  return value->is_string() ? value->get<std::string>() : value->dump();
}

std::optional<int64_t> HeaderInt(const HttpHeaders& headers, std::string_view name) {
  std::optional<std::string> value = FindHeader(headers, name);
  int64_t parsed = 0;
  if (!value.has_value() || !absl::SimpleAtoi(absl::StripAsciiWhitespace(*value), &parsed) ||
      parsed < 0) {
    return std::nullopt;
  }
  return parsed;
}

}  // namespace

ArmErrorBody ArmErrorFromJson(const nlohmann::json& json) {
  ArmErrorBody out;
  const nlohmann::json* error = FindKeyIgnoreCase(json, "error");
  const nlohmann::json& holder = (error != nullptr && error->is_object()) ? *error : json;
  out.code = StringMember(holder, "code");
  out.message = StringMember(holder, "message");
  return out;
}

ArmErrorBody ParseArmErrorBody(std::string_view body) {
  nlohmann::json json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    return {};
  }
  return ArmErrorFromJson(json);
}

std::optional<absl::Duration> ParseRetryAfter(const HttpHeaders& headers) {
  for (std::string_view name : {"retry-after-ms", "x-ms-retry-after-ms"}) {
    if (std::optional<int64_t> ms = HeaderInt(headers, name)) {
      return absl::Milliseconds(*ms);
    }
  }
  if (std::optional<int64_t> seconds = HeaderInt(headers, "Retry-After")) {
    return absl::Seconds(*seconds);
  }
  return std::nullopt;
}

absl::StatusCode StatusCodeForHttp(int http_status) {
  switch (http_status) {
    case 400:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 409:
      return absl::StatusCode::kAborted;
    case 412:
      return absl::StatusCode::kFailedPrecondition;
    case 408:
    case 429:
      return absl::StatusCode::kUnavailable;
    default:
      break;
  }
  if (http_status >= 500 && http_status <= 599) {
    return absl::StatusCode::kUnavailable;
  }
  if (http_status >= 400 && http_status <= 499) {
    return absl::StatusCode::kFailedPrecondition;
  }
  return absl::StatusCode::kInternal;
}

std::string UrlPathForLog(std::string_view url) {
  size_t start = 0;
  size_t scheme = url.find("://");
  if (scheme != std::string_view::npos) {
    start = url.find('/', scheme + 3);
    if (start == std::string_view::npos) {
      return "/";
    }
  }
  size_t end = url.find('?', start);
  return std::string(
      url.substr(start, end == std::string_view::npos ? url.size() - start : end - start));
}

absl::Status MapArmError(std::string_view method, std::string_view url,
                         const HttpResponse& response, std::string_view client_request_id) {
  ArmErrorBody body = ParseArmErrorBody(response.body);
  std::string code = body.code.empty() ? "(no code)" : body.code;
  std::string message = body.message.empty() ? "(no message)" : body.message;
  absl::Status status(
      StatusCodeForHttp(response.status),
      absl::StrCat("ARM ", Av(method), " ", UrlPathForLog(url), " -> ", response.status, " ", code,
                   ": ", message, " (client-request-id ", Av(client_request_id), ")"));
  SetArmErrorCode(status, body.code);
  if (std::optional<absl::Duration> wait = ParseRetryAfter(response.headers)) {
    SetRetryAfter(status, *wait);
  }
  return status;
}

absl::Status MapTransportError(std::string_view method, std::string_view url,
                               const absl::Status& transport_error,
                               std::string_view client_request_id) {
  absl::StatusCode code = transport_error.code() == absl::StatusCode::kInvalidArgument
                              ? absl::StatusCode::kInvalidArgument
                              : absl::StatusCode::kUnavailable;
  return {code, absl::StrCat("ARM ", Av(method), " ", UrlPathForLog(url),
                             " -> transport error: ", transport_error.message(),
                             " (client-request-id ", Av(client_request_id), ")")};
}

absl::Status OperationFailureStatus(std::string_view operation_status,
                                    const nlohmann::json& error_json, std::string_view what) {
  ArmErrorBody error = ArmErrorFromJson(error_json);
  absl::StatusCode code = absl::StatusCode::kInternal;
  if (absl::EqualsIgnoreCase(Av(operation_status), "Canceled")) {
    code = absl::StatusCode::kAborted;
  } else if (absl::StartsWithIgnoreCase(absl::StripLeadingAsciiWhitespace(error.message),
                                        "[BadRequest]")) {
    code = absl::StatusCode::kInvalidArgument;
  }
  absl::Status status(code, absl::StrCat(Av(what), " ", Av(operation_status), ": ",
                                         error.code.empty() ? "(no code)" : error.code, ": ",
                                         error.message.empty() ? "(no message)" : error.message));
  SetArmErrorCode(status, error.code);
  return status;
}

}  // namespace kustodian
