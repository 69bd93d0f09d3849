// SpecReader, part two: the typed values of spec.properties (converted by the kind's schema)
// and spec.policy (enums and the resync interval).
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "src/core/arm_id.h"
#include "src/manifest/did_you_mean.h"
#include "src/manifest/duration.h"
#include "src/manifest/spec_reader.h"

namespace kustodian {
namespace {

// Any YAML node as JSON with every scalar kept as its string (for properties without a schema).
// The document passed CheckDocumentShape, so the recursion is bounded.
nlohmann::json ToJsonStrings(const YAML::Node& node) {
  if (node.IsMap()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& kv : node) {
      out[kv.first.Scalar()] = ToJsonStrings(kv.second);
    }
    return out;
  }
  if (node.IsSequence()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : node) {
      out.push_back(ToJsonStrings(item));
    }
    return out;
  }
  if (node.IsNull()) {
    return nullptr;
  }
  return node.Scalar();
}

const char* Describe(const YAML::Node& node) {
  return node.IsMap() ? "a map" : node.IsSequence() ? "a list" : "a scalar";
}

}  // namespace

void SpecReader::ReadProperties(const YAML::Node& properties, bool kind_known,
                                DataConnectionSpec* spec) {
  for (const auto& kv : properties) {
    const std::string& name = kv.first.Scalar();
    const std::string path = absl::StrCat("spec.properties.", name);
    marks_[path] = kv.first.Mark();
    if (kv.second.IsNull()) {
      continue;  // `name: null` / `name:` means the property is not set
    }
    const PropertySchema* schema = kind_known ? FindProperty(spec->kind, name) : nullptr;
    bool ok = true;
    nlohmann::json value = ConvertProperty(kv.second, path, schema, &ok);
    if (ok) {
      spec->properties[name] = std::move(value);
    }
  }
}

nlohmann::json SpecReader::ConvertProperty(const YAML::Node& value, const std::string& path,
                                           const PropertySchema* schema, bool* ok) {
  if (schema == nullptr) {
    return ToJsonStrings(value);  // unknown name: validation reports it
  }
  switch (schema->type) {
    case PropertyType::kBool: {
      const std::string lower = value.IsScalar() ? AsciiLower(value.Scalar()) : "";
      if (lower == "true" || lower == "false") {
        return lower == "true";
      }
      AddError(path, MarkFor(path),
               value.IsScalar()
                   ? absl::StrCat("expected true or false, got \"", value.Scalar(), "\"")
                   : absl::StrCat("expected true or false, got ", Describe(value)));
      *ok = false;
      return nullptr;
    }
    case PropertyType::kStringList: {
      if (!value.IsSequence()) {
        AddError(path, MarkFor(path),
                 absl::StrCat("expected a list of strings, got ", Describe(value)));
        *ok = false;
        return nullptr;
      }
      nlohmann::json out = nlohmann::json::array();
      size_t i = 0;
      for (const auto& item : value) {
        if (!item.IsScalar()) {
          AddError(absl::StrCat(path, "[", i, "]"), item.Mark(),
                   absl::StrCat("expected a string, got ", Describe(item)));
          *ok = false;
        } else {
          out.push_back(item.Scalar());
        }
        ++i;
      }
      return out;
    }
    default:
      if (!value.IsScalar()) {
        AddError(path, MarkFor(path), absl::StrCat("expected a string, got ", Describe(value)));
        *ok = false;
        return nullptr;
      }
      return value.Scalar();  // numbers, dates and "false" stay exactly as written
  }
}

int SpecReader::ReadChoice(const YAML::Node& value, const std::string& path,
                           const std::vector<std::string>& choices) {
  if (!value.IsScalar()) {
    AddError(path, MarkFor(path),
             absl::StrCat("expected a string, got ", Describe(value), ": one of ",
                          absl::StrJoin(choices, ", ")));
    return -1;
  }
  const std::string& text = value.Scalar();
  for (size_t i = 0; i < choices.size(); ++i) {
    if (AsciiLower(text) == AsciiLower(choices[i])) {
      return static_cast<int>(i);
    }
  }
  AddError(path, MarkFor(path), UnknownNameMessage("value", text, choices));
  return -1;
}

void SpecReader::ReadPolicy(const YAML::Node& policy, Policy* out) {
  const std::string p = "spec.policy";
  CheckKeys(policy, p, {"deletion", "immutableChange", "management", "resyncInterval"});
  if (auto f = Lookup(policy, "deletion", p + ".deletion"); f && !f->value.IsNull()) {
    const int i = ReadChoice(f->value, p + ".deletion", {"Delete", "Orphan"});
    if (i >= 0) {
      out->deletion = i == 0 ? DeletionPolicy::kDelete : DeletionPolicy::kOrphan;
    }
  }
  if (auto f = Lookup(policy, "immutableChange", p + ".immutableChange"); f && !f->value.IsNull()) {
    const int i = ReadChoice(f->value, p + ".immutableChange", {"Fail", "Recreate"});
    if (i >= 0) {
      out->immutable_change =
          i == 0 ? ImmutableChangePolicy::kFail : ImmutableChangePolicy::kRecreate;
    }
  }
  if (auto f = Lookup(policy, "management", p + ".management"); f && !f->value.IsNull()) {
    const int i = ReadChoice(f->value, p + ".management", {"Manage", "ObserveOnly"});
    if (i >= 0) {
      out->management = i == 0 ? ManagementPolicy::kManage : ManagementPolicy::kObserveOnly;
    }
  }
  const std::string rp = p + ".resyncInterval";
  std::string interval;
  if (ReadString(policy, p, "resyncInterval", /*required=*/false, &interval)) {
    absl::StatusOr<absl::Duration> d = ParseGoDuration(interval);
    if (!d.ok()) {
      AddError(rp, MarkFor(rp), std::string(d.status().message()));
    } else if (*d < kMinResyncInterval) {
      AddError(rp, MarkFor(rp),
               absl::StrCat("must be at least ", absl::FormatDuration(kMinResyncInterval),
                            ", got \"", interval, "\""));
    } else {
      out->resync_interval = *d;
    }
  }
}

}  // namespace kustodian
