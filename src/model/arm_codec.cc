#include "src/model/arm_codec.h"

#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "src/core/strings.h"
#include "src/model/schema.h"

namespace kustodian {
namespace {

// The spec's properties as ARM should receive them: read-only and null ones removed, enum
// values in the schema's canonical casing. Unknown properties pass through unchanged
// (validation rejects them before anything is sent).
nlohmann::json WireProperties(const DataConnectionSpec& spec) {
  nlohmann::json out = nlohmann::json::object();
  if (!spec.properties.is_object()) {
    return out;
  }
  for (const auto& [name, value] : spec.properties.items()) {
    if (value.is_null()) {
      continue;
    }
    const PropertySchema* p = FindProperty(spec.kind, name);
    if (p != nullptr && p->read_only) {
      continue;
    }
    if (p != nullptr && p->type == PropertyType::kEnum && value.is_string()) {
      std::string canonical = CanonicalEnumValue(*p, value.get_ref<const std::string&>());
      out[name] = canonical.empty() ? value : nlohmann::json(canonical);
      continue;
    }
    out[name] = value;
  }
  return out;
}

// True for the values ARM fills in when a property is not sent (§6): exporting them would only
// add noise to the manifest. retrievalStartDate is always server time when unset, and a
// manifest that pins it to the export time would be wrong, so it is dropped too.
bool IsServerFilledDefault(const PropertySchema& p, const nlohmann::json& value) {
  if (IsUnsetValue(value, p.type) || p.name == "retrievalStartDate") {
    return true;
  }
  auto equals = [&value](std::string_view want) {
    return value.is_string() &&
           absl::EqualsIgnoreCase(value.get_ref<const std::string&>(), Av(want));
  };
  if (p.name == "compression") {
    return equals("None");
  }
  if (p.name == "databaseRouting") {
    return equals("Single");
  }
  if (p.name == "blobStorageEventType") {
    return equals("Microsoft.Storage.BlobCreated");
  }
  if (p.name == "ignoreFirstRecord") {
    return value.is_boolean() && !value.get<bool>();
  }
  return false;
}

absl::Status Invalid(std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("data connection body: ", Av(what)));
}

}  // namespace

nlohmann::json EncodePutBody(const DataConnectionSpec& spec) {
  return nlohmann::json{{"location", spec.location},
                        {"kind", std::string(KindName(spec.kind))},
                        {"properties", WireProperties(spec)}};
}

nlohmann::json EncodeValidationRequest(const DataConnectionSpec& spec) {
  return nlohmann::json{
      {"dataConnectionName", spec.id.name},
      {"properties",
       {{"kind", std::string(KindName(spec.kind))}, {"properties", WireProperties(spec)}}}};
}

absl::StatusOr<LiveConnection> DecodeConnection(const nlohmann::json& body) {
  if (!body.is_object()) {
    return Invalid(absl::StrCat("expected a JSON object, got ", body.type_name()));
  }
  auto id = body.find("id");
  if (id == body.end() || !id->is_string()) {
    return Invalid("\"id\" is missing or not a string");
  }
  absl::StatusOr<DataConnectionId> parsed = DataConnectionId::Parse(id->get<std::string>());
  if (!parsed.ok()) {
    return Invalid(Sv(parsed.status().message()));
  }
  auto kind = body.find("kind");
  if (kind == body.end() || !kind->is_string()) {
    return Invalid(absl::StrCat("\"kind\" is missing or not a string in ", id->get<std::string>()));
  }
  LiveConnection live;
  live.id = *std::move(parsed);
  live.kind_name = kind->get<std::string>();
  absl::StatusOr<ConnectionKind> k = ParseKind(live.kind_name);
  if (k.ok()) {
    live.kind = *k;
  }
  auto location = body.find("location");
  if (location != body.end() && location->is_string()) {
    live.location = location->get<std::string>();
  }
  auto properties = body.find("properties");
  if (properties != body.end() && !properties->is_null()) {
    if (!properties->is_object()) {
      return Invalid(absl::StrCat("\"properties\" is not an object in ", id->get<std::string>()));
    }
    live.properties = *properties;
  }
  auto state = live.properties.find("provisioningState");
  if (state != live.properties.end() && state->is_string()) {
    live.provisioning_state = state->get<std::string>();
  }
  return live;
}

absl::StatusOr<ConnectionPage> DecodeList(const nlohmann::json& body) {
  if (!body.is_object()) {
    return Invalid(absl::StrCat("list: expected a JSON object, got ", body.type_name()));
  }
  auto value = body.find("value");
  if (value == body.end()) {
    return Invalid("list: \"value\" is missing");
  }
  ConnectionPage page;
  if (!value->is_null()) {
    if (!value->is_array()) {
      return Invalid("list: \"value\" is not an array");
    }
    for (size_t i = 0; i < value->size(); ++i) {
      absl::StatusOr<LiveConnection> item = DecodeConnection((*value)[i]);
      if (!item.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("list value[", i, "]: ", item.status().message()));
      }
      page.items.push_back(*std::move(item));
    }
  }
  auto next = body.find("nextLink");
  if (next != body.end() && !next->is_null()) {
    if (!next->is_string()) {
      return Invalid("list: \"nextLink\" is not a string");
    }
    page.next_link = next->get<std::string>();
  }
  return page;
}

absl::StatusOr<std::vector<std::string>> DecodeValidationResult(const nlohmann::json& body) {
  const nlohmann::json* items = &body;
  if (body.is_object()) {
    auto value = body.find("value");
    if (value == body.end()) {
      return absl::InvalidArgumentError("validation result: \"value\" is missing");
    }
    items = &*value;
  }
  std::vector<std::string> messages;
  if (items->is_null()) {
    return messages;
  }
  if (!items->is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat("validation result: expected an array, got ", items->type_name()));
  }
  for (const nlohmann::json& item : *items) {
    if (!item.is_object()) {
      return absl::InvalidArgumentError("validation result: an entry is not an object");
    }
    // An entry without a message (absent, null or "") reports no error.
    auto message = item.find("errorMessage");
    if (message != item.end() && message->is_string() &&
        !message->get_ref<const std::string&>().empty()) {
      messages.push_back(message->get<std::string>());
    }
  }
  return messages;
}

DataConnectionSpec SpecFromLive(const LiveConnection& live) {
  DataConnectionSpec spec;
  spec.id = live.id;
  spec.location = NormalizeLocation(live.location);
  spec.kind = live.kind.value_or(ConnectionKind::kEventHub);
  spec.source.name = live.id.name;
  if (!live.kind.has_value()) {
    return spec;  // No schema to interpret the properties with: export none.
  }
  for (const PropertySchema& p : SchemaFor(spec.kind).properties) {
    auto it = live.properties.find(p.name);
    if (p.read_only || it == live.properties.end() || IsServerFilledDefault(p, *it)) {
      continue;
    }
    if (p.type == PropertyType::kEnum && it->is_string()) {
      std::string canonical = CanonicalEnumValue(p, it->get_ref<const std::string&>());
      spec.properties[p.name] = canonical.empty() ? *it : nlohmann::json(canonical);
    } else {
      spec.properties[p.name] = *it;
    }
  }
  return spec;
}

}  // namespace kustodian
