// The semantic diff: compares a desired spec with a live connection the way ARM means them
// (shared/docs/arm-kusto-api.md §6), and yields a plan. It never reports drift for read-only or
// server-filled properties, for "" / null / absent, [] / absent, location display names,
// timestamp spellings, id casing or enum casing.
#pragma once

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "src/model/data_connection.h"
#include "src/model/schema.h"

namespace kustodian {

enum class PlanAction { kNoop, kCreate, kUpdate, kRecreate, kDelete };
std::string_view PlanActionName(PlanAction action);  // "no-op", "create", ...

struct FieldChange {
  std::string path;          // "location", "kind", "properties.tableName"
  nlohmann::json old_value;  // live value (null when absent)
  nlohmann::json new_value;  // desired value
};

struct Plan {
  PlanAction action = PlanAction::kNoop;
  std::vector<FieldChange> changes;  // for update and recreate
  std::string reason;                // for recreate: what is immutable ("kind changed", ...)
};

// desired == nullptr && live != nullptr -> delete; desired && !live -> create; both -> no-op,
// update or recreate (kind or location changed); neither -> no-op.
Plan Diff(const DataConnectionSpec* desired, const LiveConnection* live);

// True when two property values are equal under the rules above for property `schema`
// (nullptr = unknown property: compared as JSON with ""/null/absent equal).
bool PropertyValuesEqual(const nlohmann::json& desired, const nlohmann::json& live,
                         const PropertySchema* schema);

}  // namespace kustodian
