#include "src/kube/kube_errors.h"

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "src/core/status.h"
#include "src/core/strings.h"

namespace kustodian::kube {
namespace {

std::string StringField(const nlohmann::json& object, const char* name) {
  if (!object.is_object()) {
    return "";
  }
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

absl::StatusCode CodeFor(int http_status, const std::string& reason) {
  if (reason == "Expired" || reason == "Gone") {
    return absl::StatusCode::kOutOfRange;
  }
  switch (http_status) {
    case 400:
    case 406:
    case 413:
    case 415:
    case 422:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 405:
      return absl::StatusCode::kUnimplemented;
    case 408:
    case 429:
      return absl::StatusCode::kUnavailable;
    case 409:
      return reason == "AlreadyExists" ? absl::StatusCode::kAlreadyExists
                                       : absl::StatusCode::kAborted;
    case 410:
      return absl::StatusCode::kOutOfRange;
    default:
      break;
  }
  if (http_status >= 500 && http_status <= 599) {
    return absl::StatusCode::kUnavailable;
  }
  if (http_status >= 400 && http_status <= 499) {
    return absl::StatusCode::kInvalidArgument;
  }
  return absl::StatusCode::kUnknown;
}

}  // namespace

absl::Status StatusFromStatusObject(const nlohmann::json& status, int http_status,
                                    std::string_view what) {
  int code = http_status;
  if (status.is_object()) {
    auto it = status.find("code");
    if (it != status.end() && it->is_number_integer() && it->get<int64_t>() >= 100 &&
        it->get<int64_t>() <= 599) {
      code = it->get<int>();
    }
  }
  std::string reason = StringField(status, "reason");
  std::string message = StringField(status, "message");
  if (message.empty()) {
    message = absl::StrCat(Av(what), ": HTTP ", code, reason.empty() ? "" : " ", reason);
  }
  absl::Status out(CodeFor(code, reason), message);
  if (status.is_object()) {
    auto details = status.find("details");
    if (details != status.end() && details->is_object()) {
      auto retry = details->find("retryAfterSeconds");
      if (retry != details->end() && retry->is_number_integer() && retry->get<int64_t>() > 0) {
        SetRetryAfter(out, absl::Seconds(retry->get<int64_t>()));
      }
    }
  }
  return out;
}

absl::Status StatusFromHttp(int http_status, const HttpHeaders& headers, std::string_view body,
                            std::string_view what) {
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object() || StringField(parsed, "kind") != "Status") {
    parsed = nlohmann::json::object();
  }
  absl::Status out = StatusFromStatusObject(parsed, http_status, what);
  // The HTTP status decides for a response; the body's code only fills in details.
  if (auto code = parsed.find("code");
      code != parsed.end() && code->is_number_integer() && code->get<int64_t>() != http_status) {
    absl::Status fixed(CodeFor(http_status, StringField(parsed, "reason")), out.message());
    if (auto wait = GetRetryAfter(out)) {
      SetRetryAfter(fixed, *wait);
    }
    out = fixed;
  }
  if (auto header = FindHeader(headers, "Retry-After"); header && absl::IsUnavailable(out)) {
    int64_t seconds = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(*header), &seconds) && seconds >= 0) {
      SetRetryAfter(out, absl::Seconds(seconds));
    }
  }
  return out;
}

}  // namespace kustodian::kube
