#include "src/emulator/eventgrid_config.h"

#include <algorithm>
#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "src/core/strings.h"
#include "src/http/http.h"

namespace kustodian::emulator {

namespace {

constexpr std::array<const char*, 9> kKnownEventTypes = {
    "Microsoft.Resources.ResourceWriteSuccess",  "Microsoft.Resources.ResourceWriteFailure",
    "Microsoft.Resources.ResourceWriteCancel",   "Microsoft.Resources.ResourceDeleteSuccess",
    "Microsoft.Resources.ResourceDeleteFailure", "Microsoft.Resources.ResourceDeleteCancel",
    "Microsoft.Resources.ResourceActionSuccess", "Microsoft.Resources.ResourceActionFailure",
    "Microsoft.Resources.ResourceActionCancel",
};

bool IsHeaderToken(std::string_view s) {
  static constexpr std::string_view kPunct = "!#$%&'*+-.^_`|~";
  if (s.empty()) {
    return false;
  }
  for (unsigned char c : s) {
    if (!absl::ascii_isalnum(c) && kPunct.find(static_cast<char>(c)) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

// A JSON scalar as text (YAML may have typed a numeric secret as a number).
bool ScalarText(const nlohmann::json& v, std::string* out) {
  if (v.is_string()) {
    *out = v.get<std::string>();
    return true;
  }
  if (v.is_number() || v.is_boolean()) {
    *out = v.dump();
    return true;
  }
  return false;
}

// An integer field in [lo, hi]; `def` when absent or null.
absl::Status IntField(const nlohmann::json& body, const char* key, int lo, int hi, int def,
                      const std::string& where, int* out) {
  *out = def;
  if (!body.contains(key) || body[key].is_null()) {
    return absl::OkStatus();
  }
  const nlohmann::json& v = body[key];
  if (!v.is_number_integer() || v.get<int64_t>() < lo || v.get<int64_t>() > hi) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": '", key, "' must be an integer from ",
                                                   lo, " to ", hi, " (got ", v.dump(), ")"));
  }
  *out = static_cast<int>(v.get<int64_t>());
  return absl::OkStatus();
}

}  // namespace

std::string_view SchemaName(EventSchema schema) {
  return schema == EventSchema::kCloudEvents ? "CloudEventSchemaV1_0" : "EventGridSchema";
}

bool EventGridSubscriptionConfig::Includes(std::string_view event_type) const {
  for (const std::string& t : included_event_types) {
    if (absl::EqualsIgnoreCase(t, Av(event_type))) {
      return true;
    }
  }
  return false;
}

const std::vector<std::string>& SubscriptionKeys() {
  static const std::vector<std::string> kKeys = {"name",
                                                 "endpoint",
                                                 "schema",
                                                 "maxEventsPerBatch",
                                                 "preferredBatchSizeInKilobytes",
                                                 "includedEventTypes",
                                                 "headers",
                                                 "maxDeliveryAttempts",
                                                 "eventTimeToLiveInMinutes"};
  return kKeys;
}

absl::StatusOr<EventGridSubscriptionConfig> SubscriptionFromJson(const nlohmann::json& body,
                                                                 std::string_view name) {
  EventGridSubscriptionConfig config;
  if (!body.is_object()) {
    return absl::InvalidArgumentError("an Event Grid subscription must be a JSON object");
  }
  std::string body_name;
  if (body.contains("name") && !body["name"].is_null()) {
    if (!body["name"].is_string()) {
      return absl::InvalidArgumentError("Event Grid subscription: 'name' must be a string");
    }
    body_name = body["name"].get<std::string>();
  }
  if (!name.empty() && !body_name.empty() && !absl::EqualsIgnoreCase(body_name, Av(name))) {
    return absl::InvalidArgumentError(absl::StrCat("Event Grid subscription '", Av(name),
                                                   "': the body names '", body_name,
                                                   "'; drop 'name' or make them agree"));
  }
  config.name = name.empty() ? body_name : std::string(name);
  if (config.name.empty()) {
    return absl::InvalidArgumentError("Event Grid subscription: 'name' is required");
  }
  for (unsigned char c : config.name) {
    if (!absl::ascii_isalnum(c) && c != '-') {
      return absl::InvalidArgumentError(
          absl::StrCat("Event Grid subscription '", config.name,
                       "': the name may only hold letters, digits and '-' (as in Azure)"));
    }
  }
  std::string where = absl::StrCat("Event Grid subscription '", config.name, "'");
  for (const auto& [key, value] : body.items()) {
    const std::vector<std::string>& keys = SubscriptionKeys();
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": unknown key '", key, "' (allowed: ", absl::StrJoin(keys, ", "), ")"));
    }
  }
  if (!body.contains("endpoint") || !body["endpoint"].is_string() ||
      body["endpoint"].get<std::string>().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where,
                     ": 'endpoint' is required (an absolute http(s) URL, e.g. "
                     "http://127.0.0.1:8090/eventgrid?code=SECRET)"));
  }
  config.endpoint = body["endpoint"].get<std::string>();
  if (!ParseUrl(config.endpoint).ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": 'endpoint' '", config.endpoint, "' is not an absolute http(s) URL"));
  }
  if (body.contains("schema") && !body["schema"].is_null()) {
    std::string schema = body["schema"].is_string() ? body["schema"].get<std::string>() : "";
    if (absl::EqualsIgnoreCase(schema, "EventGridSchema")) {
      config.schema = EventSchema::kEventGrid;
    } else if (absl::EqualsIgnoreCase(schema, "CloudEventSchemaV1_0")) {
      config.schema = EventSchema::kCloudEvents;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": 'schema' must be EventGridSchema or CloudEventSchemaV1_0 (got ",
                       body["schema"].dump(), ")"));
    }
  }
  absl::Status st =
      IntField(body, "maxEventsPerBatch", 1, 5000, 1, where, &config.max_events_per_batch);
  if (st.ok()) {
    st = IntField(body, "preferredBatchSizeInKilobytes", 1, 1024, 64, where,
                  &config.preferred_batch_size_kb);
  }
  if (st.ok()) {
    st = IntField(body, "maxDeliveryAttempts", 1, 30, 0, where, &config.max_delivery_attempts);
  }
  int ttl_minutes = 0;
  if (st.ok()) {
    st = IntField(body, "eventTimeToLiveInMinutes", 1, 1440, 0, where, &ttl_minutes);
  }
  if (!st.ok()) {
    return st;
  }
  config.event_ttl = absl::Minutes(ttl_minutes);
  if (body.contains("includedEventTypes") && !body["includedEventTypes"].is_null()) {
    const nlohmann::json& types = body["includedEventTypes"];
    if (!types.is_array()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": 'includedEventTypes' must be a list of event types"));
    }
    for (const nlohmann::json& t : types) {
      std::string text = t.is_string() ? t.get<std::string>() : t.dump();
      auto known = std::find_if(kKnownEventTypes.begin(), kKnownEventTypes.end(),
                                [&](const char* k) { return absl::EqualsIgnoreCase(k, text); });
      if (!t.is_string() || known == kKnownEventTypes.end()) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": unknown event type ", t.dump(),
            " in 'includedEventTypes' (known: ", absl::StrJoin(kKnownEventTypes, ", "), ")"));
      }
      config.included_event_types.emplace_back(*known);
    }
  }
  if (config.included_event_types.empty()) {
    config.included_event_types = {std::string(kResourceWriteSuccess),
                                   std::string(kResourceDeleteSuccess)};
  }
  if (body.contains("headers") && !body["headers"].is_null()) {
    const nlohmann::json& headers = body["headers"];
    if (!headers.is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": 'headers' must be a mapping of header name to value"));
    }
    if (headers.size() > 10) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": at most 10 'headers' (as Azure's delivery properties)"));
    }
    for (const auto& [key, value] : headers.items()) {
      std::string text;
      if (!IsHeaderToken(key) || !ScalarText(value, &text) ||
          text.find_first_of("\r\n") != std::string::npos || text.size() > 4096) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": header '", key,
            "' needs a valid header name and a one-line string value of at most 4 KB"));
      }
      config.headers.emplace_back(key, text);
    }
  }
  return config;
}

nlohmann::ordered_json SubscriptionToJson(const EventGridSubscriptionConfig& config) {
  nlohmann::ordered_json out;
  out["name"] = config.name;
  out["endpoint"] = config.endpoint;
  out["schema"] = std::string(SchemaName(config.schema));
  out["maxEventsPerBatch"] = config.max_events_per_batch;
  out["preferredBatchSizeInKilobytes"] = config.preferred_batch_size_kb;
  out["includedEventTypes"] = config.included_event_types;
  nlohmann::ordered_json headers = nlohmann::ordered_json::object();
  for (const auto& [k, v] : config.headers) {
    headers[k] = v;
  }
  out["headers"] = headers;
  if (config.max_delivery_attempts > 0) {
    out["maxDeliveryAttempts"] = config.max_delivery_attempts;
  }
  if (config.event_ttl > absl::ZeroDuration()) {
    out["eventTimeToLiveInMinutes"] = absl::ToInt64Minutes(config.event_ttl);
  }
  return out;
}

}  // namespace kustodian::emulator
