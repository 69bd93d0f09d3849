#include "src/model/validation.h"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "src/core/arm_id.h"
#include "src/core/strings.h"
#include "src/model/schema.h"
#include "src/model/timestamp.h"

namespace kustodian {
namespace {

// Levenshtein distance, ignoring ASCII case.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::string x = AsciiLower(a);
  std::string y = AsciiLower(b);
  std::vector<size_t> prev(y.size() + 1);
  std::vector<size_t> cur(y.size() + 1);
  for (size_t j = 0; j <= y.size(); ++j) {
    prev[j] = j;
  }
  for (size_t i = 1; i <= x.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= y.size(); ++j) {
      size_t subst = prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[y.size()];
}

// The candidate `word` most likely meant: equal ignoring case, else the closest within a small
// edit distance, else one that starts with `word` (eventHubResourceId ->
// eventHubResourceIdForManagedIdentity). "" when none is close.
std::string Suggest(std::string_view word, const std::vector<std::string>& candidates) {
  for (const std::string& c : candidates) {
    if (absl::EqualsIgnoreCase(c, Av(word))) {
      return c;
    }
  }
  const size_t limit = word.size() >= 10 ? 3 : 2;
  std::string best;
  size_t best_distance = limit + 1;
  for (const std::string& c : candidates) {
    size_t d = EditDistance(word, c);
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  if (!best.empty() || word.size() < 4) {
    return best;
  }
  for (const std::string& c : candidates) {
    if (absl::StartsWithIgnoreCase(c, Av(word))) {
      return c;
    }
  }
  return "";
}

class Validator {
 public:
  explicit Validator(const DataConnectionSpec& spec)
      : spec_(spec), schema_(SchemaFor(spec.kind)), kind_(KindName(spec.kind)) {}

  std::vector<ValidationError> Run() {
    CheckTarget();
    if (absl::StripAsciiWhitespace(spec_.location).empty()) {
      Add("spec.location", "required: set the Azure region of the cluster, e.g. eastus2");
    }
    if (!spec_.properties.is_object()) {
      Add("spec.properties", "must be a map of ARM property names to values");
      return std::move(errors_);
    }
    for (const PropertySchema& p : schema_.properties) {
      if (!p.required) {
        continue;
      }
      auto it = spec_.properties.find(p.name);
      if (it == spec_.properties.end() || IsUnsetValue(*it, p.type)) {
        Add(Path(p.name), absl::StrCat("required for kind ", Av(kind_), "; set it"));
      }
    }
    for (const auto& [name, value] : spec_.properties.items()) {
      const PropertySchema* p = FindProperty(spec_.kind, name);
      if (p == nullptr) {
        ReportUnknown(name);
      } else if (p->read_only) {
        Add(Path(name), "read-only: the service sets it; remove it from the spec");
      } else if (!value.is_null()) {
        CheckValue(*p, value);
      }
    }
    return std::move(errors_);
  }

 private:
  static std::string Path(std::string_view name) {
    return absl::StrCat("spec.properties.", Av(name));
  }

  void Add(std::string field, std::string message) {
    errors_.push_back(ValidationError{std::move(field), std::move(message)});
  }

  void CheckTarget() {
    const DataConnectionId& id = spec_.id;
    const std::array<std::pair<const std::string*, const char*>, 4> parts = {{
        {&id.subscription_id, "subscriptionId"},
        {&id.resource_group, "resourceGroup"},
        {&id.cluster, "cluster"},
        {&id.database, "database"},
    }};
    for (const auto& [value, field] : parts) {
      if (absl::StripAsciiWhitespace(*value).empty()) {
        Add(absl::StrCat("spec.target.", field), absl::StrCat("required: set spec.target.", field));
      }
    }
    if (absl::StripAsciiWhitespace(id.name).empty()) {
      Add("spec.target.name", "required: set spec.target.name or metadata.name");
    }
  }

  void ReportUnknown(const std::string& name) {
    std::vector<std::string> known;
    for (const PropertySchema& p : schema_.properties) {
      if (!p.read_only) {
        known.push_back(p.name);
      }
    }
    std::string message = absl::StrCat("unknown property for kind ", Av(kind_));
    std::string suggestion = Suggest(name, known);
    if (!suggestion.empty()) {
      absl::StrAppend(&message, "; did you mean '", suggestion, "'?");
      Add(Path(name), std::move(message));
      return;
    }
    std::vector<std::string> other_kinds;
    for (ConnectionKind k : kAllKinds) {
      if (k != spec_.kind && FindProperty(k, name) != nullptr) {
        other_kinds.emplace_back(KindName(k));
      }
    }
    if (!other_kinds.empty()) {
      absl::StrAppend(&message, " (only kinds ", absl::StrJoin(other_kinds, ", "), " have it)");
    }
    absl::StrAppend(&message, "; valid properties: ", absl::StrJoin(known, ", "));
    Add(Path(name), std::move(message));
  }

  void CheckValue(const PropertySchema& p, const nlohmann::json& value) {
    switch (p.type) {
      case PropertyType::kBool:
        if (!value.is_boolean()) {
          Add(Path(p.name), "must be true or false (a boolean, not a quoted string)");
        }
        return;
      case PropertyType::kStringList:
        if (!value.is_array() ||
            !std::all_of(value.begin(), value.end(), [](const auto& v) { return v.is_string(); })) {
          Add(Path(p.name), "must be a list of strings, e.g. [x-opt-enqueued-time]");
        }
        return;
      default:
        break;
    }
    if (!value.is_string()) {
      Add(Path(p.name), absl::StrCat("must be a string, not ", value.type_name()));
      return;
    }
    const auto& s = value.get_ref<const std::string&>();
    if (s.empty()) {
      return;  // "" means unset for optional strings; required ones were reported above.
    }
    switch (p.type) {
      case PropertyType::kEnum:
        CheckEnum(p, s);
        return;
      case PropertyType::kResourceId:
        CheckResourceId(p, s);
        return;
      case PropertyType::kDateTime: {
        absl::StatusOr<absl::Time> t = ParseRfc3339(s);
        if (!t.ok()) {
          Add(Path(p.name), std::string(t.status().message()));
        }
        return;
      }
      default:
        return;
    }
  }

  void CheckEnum(const PropertySchema& p, const std::string& s) {
    if (!CanonicalEnumValue(p, s).empty()) {
      return;
    }
    std::string message = absl::StrCat("unknown value '", s, "'");
    std::string suggestion = Suggest(s, p.enum_values);
    if (!suggestion.empty()) {
      absl::StrAppend(&message, "; did you mean '", suggestion, "'?");
    }
    absl::StrAppend(&message, " Valid values: ", absl::StrJoin(p.enum_values, ", "));
    Add(Path(p.name), std::move(message));
  }

  void CheckResourceId(const PropertySchema& p, const std::string& s) {
    absl::StatusOr<ResourceId> id = ResourceId::Parse(s);
    if (!id.ok()) {
      Add(Path(p.name), absl::StrCat(id.status().message(),
                                     "; write a full ARM id: /subscriptions/{s}/resourceGroups/"
                                     "{g}/providers/{namespace}/{type}/{name}"));
      return;
    }
    if (id->types_and_names.empty()) {
      Add(Path(p.name), absl::StrCat("'", s,
                                     "' names no resource; write a full ARM id ending in "
                                     "/providers/{namespace}/{type}/{name}"));
      return;
    }
    if (!p.resource_type.empty() && !absl::EqualsIgnoreCase(id->FullType(), p.resource_type)) {
      Add(Path(p.name), absl::StrCat("must be the id of a ", p.resource_type,
                                     " resource, but it names a ", id->FullType()));
    }
  }

  const DataConnectionSpec& spec_;
  const KindSchema& schema_;
  std::string_view kind_;
  std::vector<ValidationError> errors_;
};

}  // namespace

std::vector<ValidationError> ValidateSpec(const DataConnectionSpec& spec) {
  return Validator(spec).Run();
}

absl::Status ValidateSpecStatus(const DataConnectionSpec& spec) {
  std::vector<ValidationError> errors = ValidateSpec(spec);
  if (errors.empty()) {
    return absl::OkStatus();
  }
  std::vector<std::string> parts;
  parts.reserve(errors.size());
  for (const ValidationError& e : errors) {
    parts.push_back(absl::StrCat(e.field, ": ", e.message));
  }
  return absl::InvalidArgumentError(absl::StrJoin(parts, "; "));
}

}  // namespace kustodian
