// Per-kind property schema of data connections, from the ARM specs (2024-04-13, 2025-02-14):
// which properties exist, their types, whether they are required, read-only or filled by the
// server, and their enum values. Validation, the codec and the diff are all driven by it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "nlohmann/json.hpp"
#include "src/model/data_connection.h"

namespace kustodian {

enum class PropertyType {
  kString,      // free text
  kResourceId,  // an ARM resource id; compared case-insensitively
  kEnum,        // one of `enum_values`, compared case-insensitively
  kBool,
  kStringList,  // array of strings; [] equals absent
  kDateTime,    // RFC 3339; compared as instants
};

struct PropertySchema {
  std::string name;  // ARM property name, e.g. "consumerGroup"
  PropertyType type = PropertyType::kString;
  bool required = false;
  bool read_only =
      false;  // never sent, never compared (provisioningState, managedIdentityObjectId)
  // For kEnum: the values in ARM's canonical casing. ARM declares the data-format enums
  // extensible (modelAsString), but validation still rejects values not listed here, with a
  // message listing the valid ones: a typo in a manifest is far likelier than a new format the
  // service added. The list is the union over the supported api-versions (AZMONSTREAM included).
  std::vector<std::string> enum_values;
  // For kResourceId: the full types the id may name, e.g.
  // {"Microsoft.EventHub/namespaces/eventhubs"}; empty accepts any well-formed id.
  std::vector<std::string> resource_types;
};

struct KindSchema {
  ConnectionKind kind;
  std::vector<PropertySchema> properties;
};

// The schema of `kind`. Never fails: every ConnectionKind has one.
const KindSchema& SchemaFor(ConnectionKind kind);
// The property named `name` (exact ARM spelling) of `kind`, or nullptr.
const PropertySchema* FindProperty(ConnectionKind kind, std::string_view name);

// The enum value of `schema` equal to `value` ignoring case, in canonical casing; "" when none
// matches (or `schema` is not an enum).
std::string CanonicalEnumValue(const PropertySchema& schema, std::string_view value);

// True when `value` means "not set" for a property of `type`: null always, "" for the
// string-like types, [] for kStringList.
bool IsUnsetValue(const nlohmann::json& value, PropertyType type);

}  // namespace kustodian
