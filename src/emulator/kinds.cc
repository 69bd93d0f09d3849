#include "src/emulator/kinds.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "src/core/status.h"
#include "src/core/strings.h"
#include "src/emulator/ids.h"
#include "src/emulator/time_format.h"

namespace kustodian::emulator {

namespace {

PropRule Str(std::string name, bool required, Fill fill = Fill::kAbsent,
             EnumSet enums = EnumSet::kNone, std::string def = "") {
  PropRule r;
  r.name = std::move(name);
  r.required = required;
  r.fill = fill;
  r.enum_set = enums;
  r.default_value = std::move(def);
  return r;
}

PropRule Typed(std::string name, PropType type, Fill fill, std::string def = "") {
  PropRule r = Str(std::move(name), false, fill, EnumSet::kNone, std::move(def));
  r.type = type;
  return r;
}

PropRule ObjectId() {
  PropRule r = Str("managedIdentityObjectId", false, Fill::kObjectId);
  r.read_only = true;
  return r;
}

PropRule Routing() {
  return Str("databaseRouting", false, Fill::kDefault, EnumSet::kRouting, "Single");
}
PropRule Compression() {
  return Str("compression", false, Fill::kDefault, EnumSet::kCompression, "None");
}
PropRule BlobEventType() {
  return Str("blobStorageEventType", false, Fill::kDefault, EnumSet::kBlobEventType,
             "Microsoft.Storage.BlobCreated");
}

std::vector<KindRules> BuildKinds() {
  constexpr Fill kEhUnset = Fill::kEmptyOnCreateNullOnUpdate;
  std::vector<KindRules> kinds;
  kinds.push_back(
      KindRules{"EventHub",
                false,
                {Str("eventHubResourceId", true), Str("consumerGroup", true),
                 Str("tableName", false, kEhUnset), Str("mappingRuleName", false, kEhUnset),
                 Str("dataFormat", false, kEhUnset, EnumSet::kDataFormat),
                 Typed("eventSystemProperties", PropType::kStringList, Fill::kEmptyList),
                 Compression(), Str("managedIdentityResourceId", false, Fill::kNull), ObjectId(),
                 Routing(), Typed("retrievalStartDate", PropType::kDateTime, Fill::kServerTime)}});
  kinds.push_back(KindRules{
      "EventGrid",
      false,
      {Typed("ignoreFirstRecord", PropType::kBool, Fill::kDefault, "false"),
       Str("storageAccountResourceId", true), Str("eventGridResourceId", false, Fill::kNull),
       Str("eventHubResourceId", true), Str("consumerGroup", true),
       Str("tableName", false, Fill::kNull), Str("mappingRuleName", false, Fill::kNull),
       Str("dataFormat", false, Fill::kNull, EnumSet::kDataFormat), BlobEventType(),
       Str("managedIdentityResourceId", false, Fill::kNull), ObjectId(), Routing()}});
  kinds.push_back(
      KindRules{"IotHub",
                false,
                {Str("iotHubResourceId", true), Str("consumerGroup", true),
                 Str("tableName", false, Fill::kEmptyString),
                 Str("mappingRuleName", false, Fill::kEmptyString),
                 Str("dataFormat", false, Fill::kEmptyString, EnumSet::kDataFormat),
                 Typed("eventSystemProperties", PropType::kStringList, Fill::kEmptyList),
                 Str("sharedAccessPolicyName", true), Routing(),
                 Typed("retrievalStartDate", PropType::kDateTime, Fill::kServerTime)}});
  kinds.push_back(KindRules{
      "CosmosDb",
      false,
      {Str("tableName", true), Str("mappingRuleName", false, Fill::kNull),
       Str("managedIdentityResourceId", true), ObjectId(), Str("cosmosDbAccountResourceId", true),
       Str("cosmosDbDatabase", true), Str("cosmosDbContainer", true),
       Typed("retrievalStartDate", PropType::kDateTime, Fill::kServerTime)}});
  kinds.push_back(
      KindRules{"EventHubWithManagedIdentity",
                true,
                {Str("eventHubResourceIdForManagedIdentity", true), Str("consumerGroup", true),
                 Str("tableName", false, kEhUnset), Str("mappingRuleName", false, kEhUnset),
                 Str("dataFormat", false, kEhUnset, EnumSet::kDataFormat),
                 Typed("eventSystemProperties", PropType::kStringList, Fill::kEmptyList),
                 Compression(), Str("managedIdentityResourceId", true), ObjectId(), Routing(),
                 Typed("retrievalStartDate", PropType::kDateTime, Fill::kServerTime)}});
  kinds.push_back(
      KindRules{"EventGridWithManagedIdentity",
                true,
                {Typed("ignoreFirstRecord", PropType::kBool, Fill::kDefault, "false"),
                 Str("storageAccountResourceIdForManagedIdentity", true),
                 Str("eventGridResourceId", false, Fill::kNull),
                 Str("eventHubResourceIdForManagedIdentity", true), Str("consumerGroup", true),
                 Str("tableName", false, Fill::kNull), Str("mappingRuleName", false, Fill::kNull),
                 Str("dataFormat", false, Fill::kNull, EnumSet::kDataFormat), BlobEventType(),
                 Str("managedIdentityResourceId", true), ObjectId(), Routing()}});
  return kinds;
}

const std::vector<KindRules>& AllKinds() {
  static const std::vector<KindRules>* kinds = new std::vector<KindRules>(BuildKinds());
  return *kinds;
}

std::vector<std::string> EnumValues(EnumSet set, std::string_view api_version) {
  switch (set) {
    case EnumSet::kDataFormat: {
      std::vector<std::string> v = {
          "MULTIJSON",  "JSON", "CSV",  "TSV",     "SCSV", "SOHSV",      "PSV",       "TXT", "RAW",
          "SINGLEJSON", "AVRO", "TSVE", "PARQUET", "ORC",  "APACHEAVRO", "W3CLOGFILE"};
      if (api_version == kApi2025) {
        v.emplace_back("AZMONSTREAM");
      }
      return v;
    }
    case EnumSet::kCompression:
      return {"None", "GZip"};
    case EnumSet::kRouting:
      return {"Single", "Multi"};
    case EnumSet::kBlobEventType:
      return {"Microsoft.Storage.BlobCreated", "Microsoft.Storage.BlobRenamed"};
    case EnumSet::kNone:
      break;
  }
  return {};
}

const char* TypeName(PropType type) {
  switch (type) {
    case PropType::kBool:
      return "System.Boolean";
    case PropType::kStringList:
      return "System.Collections.Generic.List`1[System.String]";
    case PropType::kDateTime:
      return "System.DateTime";
    case PropType::kString:
      break;
  }
  return "System.String";
}

absl::Status ContentError(std::string_view detail) {
  return ArmStatus(absl::StatusCode::kInvalidArgument, "InvalidRequestContent",
                   absl::StrCat("The request content was invalid and could not be deserialized: '",
                                Av(detail), "'."));
}

absl::Status BadRequest(std::string_view detail) {
  return ArmStatus(absl::StatusCode::kInvalidArgument, "BadRequest",
                   absl::StrCat("[BadRequest] ", Av(detail)));
}

// Checks one sent value; on success stores its canonical form in *out.
absl::Status CheckValue(const PropRule& rule, const nlohmann::json& value,
                        std::string_view api_version, nlohmann::json* out) {
  std::string path = absl::StrCat("properties.", rule.name);
  switch (rule.type) {
    case PropType::kBool:
      if (!value.is_boolean()) {
        return ContentError(absl::StrCat("Error converting value ", value.dump(), " to type '",
                                         TypeName(rule.type), "'. Path '", path, "'"));
      }
      *out = value;
      return absl::OkStatus();
    case PropType::kStringList:
      if (!value.is_array()) {
        return ContentError(absl::StrCat("Error converting value ", value.dump(), " to type '",
                                         TypeName(rule.type), "'. Path '", path, "'"));
      }
      for (const auto& item : value) {
        if (!item.is_string()) {
          return ContentError(absl::StrCat("Error converting value ", item.dump(),
                                           " to type 'System.String'. Path '", path, "'"));
        }
      }
      *out = value;
      return absl::OkStatus();
    case PropType::kDateTime: {
      std::optional<absl::Time> t =
          value.is_string() ? ParseArmTime(value.get<std::string>()) : std::nullopt;
      if (!t.has_value()) {
        return ContentError(absl::StrCat("Could not convert string to DateTime: ", value.dump(),
                                         ". Path '", path, "'"));
      }
      *out = FormatArmTime(*t);
      return absl::OkStatus();
    }
    case PropType::kString:
      break;
  }
  if (!value.is_string()) {
    return ContentError(absl::StrCat("Error converting value ", value.dump(), " to type '",
                                     TypeName(rule.type), "'. Path '", path, "'"));
  }
  std::string s = value.get<std::string>();
  if (rule.enum_set != EnumSet::kNone && !s.empty()) {
    for (const std::string& allowed : EnumValues(rule.enum_set, api_version)) {
      if (absl::EqualsIgnoreCase(allowed, s)) {
        *out = allowed;  // the RP returns the enum's own spelling
        return absl::OkStatus();
      }
    }
    return BadRequest(absl::StrCat("'", s, "' is not a valid value for property '", rule.name,
                                   "' in api-version '", Av(api_version), "'."));
  }
  *out = s;
  return absl::OkStatus();
}

// The requested values (checked, canonical), plus every problem found.
nlohmann::json CheckAll(const KindRules& rules, const nlohmann::json& sent,
                        std::string_view api_version, std::vector<absl::Status>* problems) {
  nlohmann::json requested = nlohmann::json::object();
  for (const PropRule& rule : rules.properties) {
    if (rule.read_only || !sent.is_object() || !sent.contains(rule.name) ||
        sent[rule.name].is_null()) {
      continue;
    }
    nlohmann::json canonical;
    absl::Status st = CheckValue(rule, sent[rule.name], api_version, &canonical);
    if (!st.ok()) {
      problems->push_back(st);
      continue;
    }
    requested[rule.name] = std::move(canonical);
  }
  for (const PropRule& rule : rules.properties) {
    if (!rule.required) {
      continue;
    }
    auto it = requested.find(rule.name);
    bool missing = it == requested.end() || (it->is_string() && it->get<std::string>().empty());
    bool type_error_reported = sent.is_object() && sent.contains(rule.name) &&
                               !sent[rule.name].is_null() && it == requested.end();
    if (missing && !type_error_reported) {
      problems->push_back(
          BadRequest(absl::StrCat("Validation Errors found: the property '", rule.name,
                                  "' is required for data connection "
                                  "kind '",
                                  rules.name, "'.")));
    }
  }
  return requested;
}

}  // namespace

const KindRules* FindKind(std::string_view name) {
  for (const KindRules& rules : AllKinds()) {
    if (absl::EqualsIgnoreCase(rules.name, Av(name))) {
      return &rules;
    }
  }
  return nullptr;
}

bool IsSupportedApiVersion(std::string_view api_version) {
  return api_version == kApi2024 || api_version == kApi2025;
}

absl::StatusOr<RenderedProperties> RenderProperties(const KindRules& rules,
                                                    const nlohmann::json& sent,
                                                    const OrderedJson* previous, absl::Time now,
                                                    std::string_view api_version) {
  if (!sent.is_null() && !sent.is_object()) {
    return ContentError(absl::StrCat("Error converting value ", sent.dump(),
                                     " to type 'DataConnectionProperties'. Path 'properties'"));
  }
  std::vector<absl::Status> problems;
  RenderedProperties out;
  out.requested = CheckAll(rules, sent, api_version, &problems);
  if (!problems.empty()) {
    return problems.front();
  }
  bool is_create = previous == nullptr;
  for (const PropRule& rule : rules.properties) {
    auto it = out.requested.find(rule.name);
    if (it != out.requested.end()) {
      out.stored[rule.name] = *it;
      continue;
    }
    switch (rule.fill) {
      case Fill::kAbsent:
        break;
      case Fill::kNull:
        out.stored[rule.name] = nullptr;
        break;
      case Fill::kEmptyOnCreateNullOnUpdate:
        if (is_create) {
          out.stored[rule.name] = "";
        } else {
          out.stored[rule.name] = nullptr;
        }
        break;
      case Fill::kEmptyString:
        out.stored[rule.name] = "";
        break;
      case Fill::kEmptyList:
        out.stored[rule.name] = OrderedJson::array();
        break;
      case Fill::kDefault:
        if (rule.type == PropType::kBool) {
          out.stored[rule.name] = rule.default_value == "true";
        } else {
          out.stored[rule.name] = rule.default_value;
        }
        break;
      case Fill::kServerTime:
        if (previous != nullptr && previous->contains(rule.name) &&
            (*previous)[rule.name].is_string()) {
          out.stored[rule.name] = (*previous)[rule.name];
        } else {
          out.stored[rule.name] = FormatArmTime(now);
        }
        break;
      case Fill::kObjectId: {
        auto mi = out.requested.find("managedIdentityResourceId");
        if (mi != out.requested.end() && mi->is_string() && !mi->get<std::string>().empty()) {
          out.stored[rule.name] = StableGuid(absl::StrCat("mi:", mi->get<std::string>()));
        } else {
          out.stored[rule.name] = nullptr;
        }
        break;
      }
    }
  }
  return out;
}

std::vector<std::string> PropertyProblems(const KindRules& rules, const nlohmann::json& sent,
                                          std::string_view api_version) {
  std::vector<absl::Status> problems;
  CheckAll(rules, sent, api_version, &problems);
  std::vector<std::string> messages;
  messages.reserve(problems.size());
  for (const absl::Status& st : problems) {
    messages.emplace_back(st.message());
  }
  return messages;
}

}  // namespace kustodian::emulator
