#include "controller/eventgrid_payload.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "src/core/json_depth.h"
#include "src/core/strings.h"

namespace kustodian {
namespace {

using nlohmann::json;

class EventReader {
 public:
  EventReader(const json& object, size_t index, const EventGridPayloadLimits& limits)
      : object_(object), index_(index), limits_(limits) {}

  // Copies object[name] into *out. Missing (or null) is OK unless `required`; any other
  // non-string is an error, as is a string over max_field.
  absl::Status String(const json& object, std::string_view where, std::string_view name,
                      bool required, std::string* out) const {
    auto it = object.find(name);
    if (it == object.end() || it->is_null()) {
      if (required) {
        return Error(absl::StrCat("missing required field '", Av(where), Av(name), "'"));
      }
      return absl::OkStatus();
    }
    if (!it->is_string()) {
      return Error(absl::StrCat("field '", Av(where), Av(name), "' must be a string, found ",
                                it->type_name()));
    }
    const std::string& value = it->get_ref<const std::string&>();
    if (value.size() > limits_.max_field) {
      return Error(absl::StrCat("field '", Av(where), Av(name), "' is ", value.size(),
                                " bytes long; the limit is ", limits_.max_field));
    }
    *out = value;
    return absl::OkStatus();
  }

  absl::Status Error(std::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat("event [", index_, "]: ", Av(what)));
  }

  absl::StatusOr<EventGridEvent> Read(EventSchema schema) const {
    EventGridEvent e;
    absl::Status st;
    if (schema == EventSchema::kEventGrid) {
      st.Update(String(object_, "", "id", true, &e.id));
      st.Update(String(object_, "", "eventType", true, &e.type));
      st.Update(String(object_, "", "subject", true, &e.subject));
      st.Update(String(object_, "", "topic", false, &e.source));
      st.Update(String(object_, "", "eventTime", false, &e.time));
    } else {
      std::string version;
      st.Update(String(object_, "", "specversion", true, &version));
      if (st.ok() && version != "1.0") {
        return Error(absl::StrCat("unsupported CloudEvents specversion '", version,
                                  "'; only \"1.0\" is accepted"));
      }
      st.Update(String(object_, "", "id", true, &e.id));
      st.Update(String(object_, "", "type", true, &e.type));
      st.Update(String(object_, "", "source", true, &e.source));
      st.Update(String(object_, "", "subject", false, &e.subject));
      st.Update(String(object_, "", "time", false, &e.time));
    }
    if (!st.ok()) {
      return st;
    }
    if (e.id.empty()) {
      return Error("field 'id' is empty");
    }
    if (e.type.empty()) {
      return Error(absl::StrCat("field '", schema == EventSchema::kEventGrid ? "eventType" : "type",
                                "' is empty"));
    }
    auto data = object_.find("data");
    const bool has_data = data != object_.end() && !data->is_null();
    if (has_data && !data->is_object()) {
      return Error(absl::StrCat("field 'data' must be an object, found ", data->type_name()));
    }
    if (!has_data && schema == EventSchema::kEventGrid) {
      return Error("missing required field 'data' (an object)");
    }
    if (has_data) {
      st.Update(String(*data, "data.", "resourceUri", false, &e.resource_uri));
      st.Update(String(*data, "data.", "operationName", false, &e.operation_name));
      st.Update(String(*data, "data.", "correlationId", false, &e.correlation_id));
      st.Update(String(*data, "data.", "status", false, &e.status));
      st.Update(String(*data, "data.", "validationCode", false, &e.validation_code));
      st.Update(String(*data, "data.", "validationUrl", false, &e.validation_url));
      if (!st.ok()) {
        return st;
      }
    }
    if (e.type == kEventTypeValidation && e.validation_code.empty()) {
      return Error("a SubscriptionValidationEvent needs a non-empty 'data.validationCode'");
    }
    return e;
  }

 private:
  const json& object_;
  const size_t index_;
  const EventGridPayloadLimits& limits_;
};

EventSchema SchemaOf(const json& object) {
  return object.contains("specversion") ? EventSchema::kCloudEvents : EventSchema::kEventGrid;
}

}  // namespace

absl::StatusOr<EventGridPayload> ParseEventGridPayload(std::string_view body,
                                                       const EventGridPayloadLimits& limits) {
  if (body.size() > limits.max_body) {
    return absl::InvalidArgumentError(
        absl::StrCat("body is ", body.size(), " bytes; the limit is ", limits.max_body));
  }
  if (size_t depth = JsonNestingDepth(body, limits.max_depth); depth > limits.max_depth) {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON nested deeper than ", limits.max_depth, " levels"));
  }
  json doc = json::parse(body.begin(), body.end(), /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return absl::InvalidArgumentError("body is not valid JSON");
  }
  EventGridPayload out;
  if (doc.is_object()) {
    if (SchemaOf(doc) != EventSchema::kCloudEvents) {
      return absl::InvalidArgumentError(
          "body is a single object without 'specversion': an Event Grid schema delivery is a "
          "JSON array, a CloudEvents event needs \"specversion\": \"1.0\"");
    }
    out.schema = EventSchema::kCloudEvents;
    absl::StatusOr<EventGridEvent> e = EventReader(doc, 0, limits).Read(out.schema);
    if (!e.ok()) {
      return e.status();
    }
    out.events.push_back(*std::move(e));
    return out;
  }
  if (!doc.is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat("body must be a JSON array of events (or one CloudEvents object), found ",
                     doc.type_name()));
  }
  if (doc.empty()) {
    return absl::InvalidArgumentError("body is an empty array: no events");
  }
  if (doc.size() > limits.max_events) {
    return absl::InvalidArgumentError(
        absl::StrCat("body holds ", doc.size(), " events; the limit is ", limits.max_events));
  }
  out.batch = true;
  for (size_t i = 0; i < doc.size(); ++i) {
    const json& item = doc[i];
    if (!item.is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat("event [", i, "]: must be a JSON object, found ", item.type_name()));
    }
    EventSchema schema = SchemaOf(item);
    if (i == 0) {
      out.schema = schema;
    } else if (schema != out.schema) {
      return absl::InvalidArgumentError(absl::StrCat(
          "event [", i, "]: mixes the CloudEvents and Event Grid schemas in one batch"));
    }
    absl::StatusOr<EventGridEvent> e = EventReader(item, i, limits).Read(schema);
    if (!e.ok()) {
      return e.status();
    }
    out.events.push_back(*std::move(e));
  }
  return out;
}

}  // namespace kustodian
