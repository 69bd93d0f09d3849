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
      if (p.type == PropertyType::kEnum && !p.required) {
        // "" is no value of the enum (ARM refuses it); leaving the line out means the default.
        Add(Path(p.name), absl::StrCat("empty value: remove the line to use the service default, "
                                       "or set one of: ",
                                       absl::StrJoin(p.enum_values, ", ")));
      }
      return;  // "" means unset for other optional strings; required ones were reported above.
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
    if (!IsGuid(id->subscription_id)) {
      Add(Path(p.name),
          absl::StrCat("subscription \"", id->subscription_id,
                       "\" in the id is not a subscription id (a GUID such as "
                       "00000000-0000-0000-0000-000000000000); copy the resource's id from the "
                       "Azure portal (Properties, Resource ID) or `az resource show --query id`"));
      return;
    }
    if (p.resource_types.empty()) {
      return;
    }
    const std::string type = id->FullType();
    for (const std::string& want : p.resource_types) {
      if (absl::EqualsIgnoreCase(type, want)) {
        return;
      }
    }
    Add(Path(p.name),
        absl::StrCat("must be the id of a ", absl::StrJoin(p.resource_types, " or a "),
                     " resource, but it names a ", type));
  }

  const DataConnectionSpec& spec_;
  const KindSchema& schema_;
  std::string_view kind_;
  std::vector<ValidationError> errors_;
};

// Azure's rules (learn.microsoft.com, "Naming rules and restrictions for Azure resources",
// Microsoft.Resources and Microsoft.Kusto). Lengths count characters (UTF-8 code points).
constexpr size_t kMaxResourceGroupLength = 90;
// Azure requires 4 to 22.
constexpr size_t kMinClusterNameLength = 4;
constexpr size_t kMaxClusterNameLength = 22;
constexpr size_t kMaxDatabaseNameLength = 260;
constexpr size_t kMaxConnectionNameLength = 40;

bool IsAsciiAlnum(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)); }
bool IsNonAscii(char c) { return (static_cast<unsigned char>(c) & 0x80) != 0; }

// Code points of valid UTF-8 text (the manifest loader checked the encoding).
size_t CharCount(std::string_view s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// The first character of `s` that `allowed` refuses, as text for a message ("'/'", "a space",
// "a tab"); "" when every one is allowed.
template <typename Allowed>
std::string FirstBadChar(std::string_view s, Allowed allowed) {
  for (char c : s) {
    if (allowed(c)) {
      continue;
    }
    if (c == ' ') {
      return "a space";
    }
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return "a control character";
    }
    if (IsNonAscii(c)) {
      return "a non-ASCII character";
    }
    return absl::StrCat("'", std::string(1, c), "'");
  }
  return "";
}

// Text for a message: the value, quoted, shortened when long.
std::string Quoted(std::string_view s) {
  constexpr size_t kMax = 60;
  if (s.size() <= kMax) {
    return absl::StrCat("\"", Av(s), "\"");
  }
  return absl::StrCat("\"", Av(s.substr(0, kMax)), "...\" (", s.size(), " bytes)");
}

class TargetNameChecker {
 public:
  std::vector<ValidationError> Run(const DataConnectionId& id) {
    CheckSubscription(id.subscription_id);
    CheckResourceGroup(id.resource_group);
    CheckCluster(id.cluster);
    CheckDatabase(id.database);
    CheckConnectionName(id.name);
    return std::move(errors_);
  }

 private:
  void Add(std::string_view part, std::string message) {
    errors_.push_back(ValidationError{absl::StrCat("spec.target.", Av(part)), std::move(message)});
  }

  void CheckSubscription(const std::string& s) {
    if (s.empty() || IsGuid(s)) {
      return;
    }
    Add("subscriptionId",
        absl::StrCat(Quoted(s),
                     " is not a subscription id: write the subscription's GUID, such as "
                     "00000000-0000-0000-0000-000000000000 (`az account show --query id`), not "
                     "its display name"));
  }

  void CheckResourceGroup(const std::string& g) {
    if (g.empty()) {
      return;
    }
    const std::string bad = FirstBadChar(g, [](char c) {
      return IsAsciiAlnum(c) || c == '_' || c == '-' || c == '.' || c == '(' || c == ')' ||
             IsNonAscii(c);  // Azure allows Unicode letters and digits
    });
    std::string problem;
    if (CharCount(g) > kMaxResourceGroupLength) {
      problem = absl::StrCat("is ", CharCount(g), " characters long, more than ",
                             kMaxResourceGroupLength);
    } else if (!bad.empty()) {
      problem = absl::StrCat("contains ", bad);
    } else if (g.back() == '.') {
      problem = "ends with a period";
    } else {
      return;
    }
    Add("resourceGroup",
        absl::StrCat("resource group ", Quoted(g), " ", problem,
                     ": write the resource group's name (up to 90 letters, digits, '_', '-', "
                     "'.', '(' and ')', not ending in '.')"));
  }

  void CheckCluster(const std::string& c) {
    if (c.empty()) {
      return;
    }
    std::string problem;
    const std::string bad = FirstBadChar(c, IsAsciiAlnum);
    if (c.size() > kMaxClusterNameLength) {
      problem =
          absl::StrCat("is ", CharCount(c), " characters long, more than ", kMaxClusterNameLength);
    } else if (c.size() < kMinClusterNameLength) {
      problem = absl::StrCat("is shorter than ", kMinClusterNameLength, " characters");
    } else if (!bad.empty()) {
      problem = absl::StrCat("contains ", bad);
    } else if (!absl::ascii_isalpha(static_cast<unsigned char>(c.front()))) {
      problem = "does not start with a letter";
    } else {
      return;
    }
    std::string hint;
    if (absl::StrContains(c, "://") || absl::StrContains(c, ".")) {
      hint = " (the name only, not the cluster's URI or host name)";
    }
    Add("cluster",
        absl::StrCat("Kusto cluster name ", Quoted(c), " ", problem, ": write the cluster's name",
                     hint, ", up to 22 lower-case letters and digits starting with a letter"));
  }

  void CheckDatabase(const std::string& d) {
    if (d.empty()) {
      return;
    }
    std::string problem;
    const std::string bad = FirstBadChar(
        d, [](char c) { return IsAsciiAlnum(c) || c == '-' || c == '.' || c == ' ' || c == '_'; });
    if (CharCount(d) > kMaxDatabaseNameLength) {
      problem =
          absl::StrCat("is ", CharCount(d), " characters long, more than ", kMaxDatabaseNameLength);
    } else if (!bad.empty()) {
      problem = absl::StrCat("contains ", bad);
    } else {
      return;
    }
    Add("database", absl::StrCat("database name ", Quoted(d), " ", problem,
                                 ": write the database's name (up to 260 letters, digits, '_', "
                                 "'-', '.' and spaces)"));
  }

  void CheckConnectionName(const std::string& n) {
    if (n.empty()) {
      return;
    }
    std::string problem;
    const std::string bad = FirstBadChar(n, [](char c) {
      // Azure's table leaves '_' out, but connections named with one exist (and come back
      // from `kustodian export`), as for databases: accept it.
      return IsAsciiAlnum(c) || c == '-' || c == '.' || c == ' ' || c == '_';
    });
    if (CharCount(n) > kMaxConnectionNameLength) {
      problem = absl::StrCat("is ", CharCount(n), " characters long, more than ",
                             kMaxConnectionNameLength);
    } else if (!bad.empty()) {
      problem = absl::StrCat("contains ", bad);
    } else {
      return;
    }
    Add("name",
        absl::StrCat("data connection name ", Quoted(n), " ", problem,
                     ": Azure allows up to 40 letters, digits, '_', '-', '.' and spaces; set "
                     "spec.target.name (it defaults to metadata.name)"));
  }

  std::vector<ValidationError> errors_;
};

}  // namespace

bool IsGuid(std::string_view s) {
  static constexpr std::array<size_t, 4> kDashes = {8, 13, 18, 23};
  if (s.size() != 36) {
    return false;
  }
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = std::find(kDashes.begin(), kDashes.end(), i) != kDashes.end();
    if (dash ? s[i] != '-' : !absl::ascii_isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

std::vector<ValidationError> ValidateTargetNames(const DataConnectionId& id) {
  return TargetNameChecker().Run(id);
}

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
