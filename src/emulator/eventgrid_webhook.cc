#include "src/emulator/eventgrid_webhook.h"

#include <algorithm>
#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "src/emulator/eventgrid_events.h"
#include "src/emulator/ids.h"

namespace kustodian::emulator {

namespace {

constexpr const char* kOrigin = "eventgrid.azure.net";

// The headers every call to the endpoint carries: the subscription's own, then Event Grid's.
HttpRequest BaseRequest(const EventGridSubscriptionConfig& config, std::string method, int attempt,
                        absl::Duration timeout) {
  HttpRequest request;
  request.method = std::move(method);
  request.url = config.endpoint;
  request.timeout = timeout;
  request.headers = config.headers;
  request.headers.emplace_back("aeg-subscription-name", absl::AsciiStrToUpper(config.name));
  request.headers.emplace_back("aeg-delivery-count", std::to_string(attempt));
  return request;
}

absl::Status CloudEventsPreflight(HttpTransport& transport, HttpRequest request) {
  request.headers.emplace_back("WebHook-Request-Origin", std::string(kOrigin));
  absl::StatusOr<HttpResponse> response = transport.Send(request);
  if (!response.ok()) {
    return response.status();
  }
  std::string allowed = response->Header("WebHook-Allowed-Origin").value_or("");
  if (IsDeliverySuccess(response->status) &&
      (absl::EqualsIgnoreCase(allowed, kOrigin) || allowed == "*")) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      absl::StrCat("the OPTIONS preflight got HTTP ", response->status,
                   allowed.empty() ? " without WebHook-Allowed-Origin"
                                   : absl::StrCat(" with WebHook-Allowed-Origin '", allowed, "'")));
}

absl::Status ValidationEvent(HttpTransport& transport, HttpRequest request, std::string_view topic,
                             std::string_view code, std::string_view name) {
  absl::Time now = absl::Now();
  std::string code_text(code);
  std::string url = absl::StrCat(
      "https://rp-eastus2.eventgrid.azure.net:553/eventsubscriptions/",
      absl::AsciiStrToLower(std::string(name)), "/validate?id=", code_text, "&t=", EventTime(now),
      "&apiVersion=2020-10-15-preview&token=", StableGuid(code_text + ":token"));
  ResourceEvent event = MakeValidationEvent(topic, StableGuid(code_text + ":id"), now, code, url);
  request.body = nlohmann::ordered_json::array({EventGridJson(event)}).dump();
  request.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
  request.headers.emplace_back("aeg-event-type", "SubscriptionValidation");
  request.headers.emplace_back("aeg-data-version", "1");
  request.headers.emplace_back("aeg-metadata-version", "1");
  absl::StatusOr<HttpResponse> response = transport.Send(request);
  if (!response.ok()) {
    return response.status();
  }
  if (response->status != 200) {
    return absl::FailedPreconditionError(
        absl::StrCat("the validation event got HTTP ", response->status, " (needs 200)"));
  }
  nlohmann::json body = nlohmann::json::parse(response->body, nullptr, false);
  std::string answer;
  if (body.is_object()) {
    for (const auto& [key, value] : body.items()) {
      if (absl::EqualsIgnoreCase(key, "validationResponse") && value.is_string()) {
        answer = value.get<std::string>();
      }
    }
  }
  if (answer.empty()) {
    return absl::FailedPreconditionError(
        "the answer to the validation event has no validationResponse");
  }
  if (!absl::EqualsIgnoreCase(answer, code_text)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "validationResponse '", answer, "' is not the validation code '", code_text, "'"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RunHandshake(HttpTransport& transport, const EventGridSubscriptionConfig& config,
                          std::string_view topic, std::string_view code, int attempt,
                          absl::Duration timeout) {
  if (config.schema == EventSchema::kCloudEvents) {
    return CloudEventsPreflight(transport, BaseRequest(config, "OPTIONS", attempt, timeout));
  }
  return ValidationEvent(transport, BaseRequest(config, "POST", attempt, timeout), topic, code,
                         config.name);
}

HttpRequest NotificationRequest(const EventGridSubscriptionConfig& config,
                                const std::vector<std::string>& rendered, int attempt,
                                std::string_view data_version, absl::Duration timeout) {
  HttpRequest request = BaseRequest(config, "POST", attempt, timeout);
  std::string content_type = "application/json; charset=utf-8";
  bool single = config.schema == EventSchema::kCloudEvents && config.max_events_per_batch == 1;
  if (single) {
    request.body = rendered.front();
    content_type = "application/cloudevents+json; charset=utf-8";
  } else {
    request.body = "[";
    for (size_t i = 0; i < rendered.size(); ++i) {
      absl::StrAppend(&request.body, i == 0 ? "" : ",", rendered[i]);
    }
    request.body += "]";
    if (config.schema == EventSchema::kCloudEvents) {
      content_type = "application/cloudevents-batch+json; charset=utf-8";
    }
  }
  request.headers.emplace_back("Content-Type", content_type);
  request.headers.emplace_back("aeg-event-type", "Notification");
  request.headers.emplace_back("aeg-data-version", std::string(data_version));
  request.headers.emplace_back("aeg-metadata-version", "1");
  if (config.schema == EventSchema::kCloudEvents) {
    request.headers.emplace_back("Origin", std::string(kOrigin));
  }
  return request;
}

bool IsDeliverySuccess(int status) { return status >= 200 && status <= 204; }

absl::Duration RetryDelay(int failed_attempts, int status) {
  static constexpr std::array<int64_t, 9> kScheduleSeconds = {10,   30,   60,    300,  600,
                                                              1800, 3600, 10800, 21600};
  size_t i = static_cast<size_t>(std::max(failed_attempts, 1) - 1);
  absl::Duration d = absl::Seconds(i < kScheduleSeconds.size() ? kScheduleSeconds[i] : 43200);
  absl::Duration floor = absl::Seconds(10);
  if (status == 404) {
    floor = absl::Minutes(5);
  } else if (status == 408) {
    floor = absl::Minutes(2);
  } else if (status == 503) {
    floor = absl::Seconds(30);
  }
  return std::max(d, floor);
}

bool IsNonRetriedStatus(int status) {
  return status == 400 || status == 401 || status == 403 || status == 413;
}

}  // namespace kustodian::emulator
