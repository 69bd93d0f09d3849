#include "src/model/diff.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "src/core/arm_id.h"
#include "src/core/strings.h"
#include "src/model/timestamp.h"

namespace kustodian {
namespace {

bool BothStrings(const nlohmann::json& a, const nlohmann::json& b) {
  return a.is_string() && b.is_string();
}

const std::string& Str(const nlohmann::json& v) { return v.get_ref<const std::string&>(); }

// Lists compare as multisets: the service does not promise to keep the order of
// eventSystemProperties, and the order carries no meaning.
bool ListsEqual(const nlohmann::json& a, const nlohmann::json& b) {
  if (!a.is_array() || !b.is_array() || a.size() != b.size()) {
    return a == b;
  }
  std::vector<nlohmann::json> x(a.begin(), a.end());
  std::vector<nlohmann::json> y(b.begin(), b.end());
  std::sort(x.begin(), x.end());
  std::sort(y.begin(), y.end());
  return x == y;
}

bool TimestampsEqual(const std::string& a, const std::string& b) {
  absl::StatusOr<absl::Time> x = ParseRfc3339(a);
  absl::StatusOr<absl::Time> y = ParseRfc3339(b);
  if (x.ok() && y.ok()) {
    return *x == *y;
  }
  return a == b;
}

// The live value of property `name`, null when absent.
nlohmann::json LiveValue(const LiveConnection& live, const std::string& name) {
  if (!live.properties.is_object()) {
    return nullptr;
  }
  auto it = live.properties.find(name);
  return it == live.properties.end() ? nlohmann::json(nullptr) : *it;
}

void CompareProperty(const std::string& name, const nlohmann::json& desired,
                     const LiveConnection& live, const PropertySchema* schema,
                     std::vector<FieldChange>* changes) {
  nlohmann::json live_value = LiveValue(live, name);
  if (!PropertyValuesEqual(desired, live_value, schema)) {
    changes->push_back(FieldChange{absl::StrCat("properties.", name), live_value, desired});
  }
}

// Property changes in schema order, then properties the schema does not know, by name. A
// property the desired spec does not set (absent or null) is not compared: the service fills
// it. Read-only properties are never compared.
std::vector<FieldChange> PropertyChanges(const DataConnectionSpec& desired,
                                         const LiveConnection& live) {
  std::vector<FieldChange> changes;
  if (!desired.properties.is_object()) {
    return changes;
  }
  for (const PropertySchema& p : SchemaFor(desired.kind).properties) {
    auto it = desired.properties.find(p.name);
    if (p.read_only || it == desired.properties.end() || it->is_null()) {
      continue;
    }
    CompareProperty(p.name, *it, live, &p, &changes);
  }
  for (const auto& [name, value] : desired.properties.items()) {
    if (value.is_null() || FindProperty(desired.kind, name) != nullptr) {
      continue;
    }
    CompareProperty(name, value, live, nullptr, &changes);
  }
  return changes;
}

}  // namespace

std::string_view PlanActionName(PlanAction action) {
  switch (action) {
    case PlanAction::kNoop:
      return "no-op";
    case PlanAction::kCreate:
      return "create";
    case PlanAction::kUpdate:
      return "update";
    case PlanAction::kRecreate:
      return "recreate";
    case PlanAction::kDelete:
      return "delete";
  }
  return "unknown";
}

bool PropertyValuesEqual(const nlohmann::json& desired, const nlohmann::json& live,
                         const PropertySchema* schema) {
  if (schema == nullptr) {
    auto unset = [](const nlohmann::json& v) {
      return v.is_null() || (v.is_string() && Str(v).empty());
    };
    return (unset(desired) && unset(live)) || desired == live;
  }
  if (schema->type == PropertyType::kBool) {
    // The service's default for every boolean (ignoreFirstRecord) is false.
    const nlohmann::json& d = desired.is_null() ? nlohmann::json(false) : desired;
    const nlohmann::json& l = live.is_null() ? nlohmann::json(false) : live;
    return d == l;
  }
  bool desired_unset = IsUnsetValue(desired, schema->type);
  bool live_unset = IsUnsetValue(live, schema->type);
  if (desired_unset || live_unset) {
    return desired_unset && live_unset;
  }
  switch (schema->type) {
    case PropertyType::kStringList:
      return ListsEqual(desired, live);
    case PropertyType::kEnum:
      return BothStrings(desired, live) ? absl::EqualsIgnoreCase(Str(desired), Str(live))
                                        : desired == live;
    case PropertyType::kResourceId:
      return BothStrings(desired, live) ? ArmIdsEqual(Str(desired), Str(live)) : desired == live;
    case PropertyType::kDateTime:
      return BothStrings(desired, live) ? TimestampsEqual(Str(desired), Str(live))
                                        : desired == live;
    case PropertyType::kString:
    case PropertyType::kBool:
      break;
  }
  return desired == live;
}

Plan Diff(const DataConnectionSpec* desired, const LiveConnection* live) {
  Plan plan;
  if (desired == nullptr) {
    plan.action = live == nullptr ? PlanAction::kNoop : PlanAction::kDelete;
    return plan;
  }
  if (live == nullptr) {
    plan.action = PlanAction::kCreate;
    return plan;
  }
  std::vector<std::string> reasons;
  if (!live->kind.has_value() || *live->kind != desired->kind) {
    std::string_view want = KindName(desired->kind);
    reasons.push_back(absl::StrCat("kind changed from ", live->kind_name, " to ", Av(want)));
    plan.changes.push_back(FieldChange{"kind", live->kind_name, std::string(want)});
  }
  if (!desired->location.empty() && !live->location.empty() &&
      NormalizeLocation(desired->location) != NormalizeLocation(live->location)) {
    reasons.push_back(absl::StrCat("location is fixed at creation (live '", live->location,
                                   "', desired '", desired->location, "')"));
    plan.changes.push_back(FieldChange{"location", live->location, desired->location});
  }
  std::vector<FieldChange> properties = PropertyChanges(*desired, *live);
  plan.changes.insert(plan.changes.end(), properties.begin(), properties.end());
  if (!reasons.empty()) {
    plan.action = PlanAction::kRecreate;
    plan.reason = absl::StrJoin(reasons, "; ");
  } else if (!plan.changes.empty()) {
    plan.action = PlanAction::kUpdate;
  }
  return plan;
}

}  // namespace kustodian
