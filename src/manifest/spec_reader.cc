#include "src/manifest/spec_reader.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "src/core/arm_id.h"
#include "src/core/strings.h"
#include "src/manifest/did_you_mean.h"

namespace kustodian {
namespace {

constexpr std::string_view kAdoptAnnotation = "kustodian.io/adopt";

std::string Join(const std::string& prefix, std::string_view name) {
  return prefix.empty() ? std::string(name) : absl::StrCat(prefix, ".", Av(name));
}

const char* NodeTypeName(const YAML::Node& node) {
  if (node.IsMap()) {
    return "a map";
  }
  if (node.IsSequence()) {
    return "a list";
  }
  if (node.IsNull()) {
    return "null";
  }
  return "a scalar";
}

// DNS-1123 subdomain (Kubernetes object names): lower-case alphanumerics, '-' and '.', starting
// and ending with an alphanumeric, at most 253 characters. Labels (namespaces) allow no '.' and
// at most 63 characters.
// With dots, every dot-separated part is such a label ("a..b" and "a.-b" are invalid).
bool IsDns1123(std::string_view s, bool allow_dots, size_t max_len) {
  if (s.empty() || s.size() > max_len) {
    return false;
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '.' && allow_dots) {
      // A dot ends one label and starts the next: both sides must be alphanumeric.
      if (i == 0 || i + 1 == s.size() || !alnum(s[i - 1]) || !alnum(s[i + 1])) {
        return false;
      }
    } else if (!alnum(c) && c != '-') {
      return false;
    }
  }
  return alnum(s.front()) && alnum(s.back());
}

// Every field of Kubernetes ObjectMeta: a manifest saved with `kubectl get -o yaml` loads.
const std::vector<std::string>& MetadataFields() {
  static const auto* const fields = new std::vector<std::string>{
      "name",
      "namespace",
      "labels",
      "annotations",
      "generation",
      "generateName",
      "uid",
      "resourceVersion",
      "creationTimestamp",
      "deletionTimestamp",
      "deletionGracePeriodSeconds",
      "finalizers",
      "ownerReferences",
      "managedFields",
      "selfLink",
  };
  return *fields;
}

std::string AllKindNames() {
  std::vector<std::string> names;
  for (ConnectionKind k :
       {ConnectionKind::kEventHub, ConnectionKind::kEventGrid, ConnectionKind::kIotHub,
        ConnectionKind::kCosmosDb, ConnectionKind::kEventHubWithManagedIdentity,
        ConnectionKind::kEventGridWithManagedIdentity}) {
    names.emplace_back(KindName(k));
  }
  return absl::StrJoin(names, ", ");
}

}  // namespace

SpecReader::SpecReader(std::string file, const YAML::Node& doc)
    : file_(std::move(file)), doc_(doc) {}

void SpecReader::AddError(const std::string& field, const YAML::Mark& mark, std::string message) {
  const YAML::Mark m = mark.is_null() ? doc_.Mark() : mark;
  errors_.push_back(ManifestError{file_, m.is_null() ? 0 : m.line + 1,
                                  m.is_null() ? 0 : m.column + 1, field, std::move(message)});
}

YAML::Mark SpecReader::MarkFor(std::string_view field) const {
  std::string_view f = field;
  while (!f.empty()) {
    auto it = marks_.find(f);
    if (it != marks_.end()) {
      return it->second;
    }
    const size_t cut = f.find_last_of(".[");
    if (cut == std::string_view::npos) {
      break;
    }
    f = f.substr(0, cut);
  }
  return doc_.Mark();
}

std::optional<SpecReader::Field> SpecReader::Lookup(const YAML::Node& map, std::string_view name,
                                                    const std::string& path) {
  for (const auto& kv : map) {
    if (kv.first.Scalar() == name) {
      marks_[path] = kv.first.Mark();
      return Field{kv.first, kv.second};
    }
  }
  return std::nullopt;
}

void SpecReader::CheckKeys(const YAML::Node& map, const std::string& path,
                           const std::vector<std::string>& allowed) {
  for (const auto& kv : map) {
    const std::string& key = kv.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      AddError(Join(path, key), kv.first.Mark(), UnknownNameMessage("field", key, allowed));
    }
  }
}

bool SpecReader::ExpectMap(const YAML::Node& value, const std::string& path) {
  if (value.IsMap()) {
    return true;
  }
  AddError(path, MarkFor(path), absl::StrCat("expected a map, got ", NodeTypeName(value)));
  return false;
}

bool SpecReader::ReadString(const YAML::Node& map, const std::string& prefix, std::string_view name,
                            bool required, std::string* out) {
  const std::string path = Join(prefix, name);
  std::optional<Field> f = Lookup(map, name, path);
  if (!f || f->value.IsNull()) {
    if (required) {
      AddError(path, f ? f->key.Mark() : MarkFor(prefix), "required");
    }
    return false;
  }
  if (!f->value.IsScalar()) {
    AddError(path, f->key.Mark(), absl::StrCat("expected a string, got ", NodeTypeName(f->value)));
    return false;
  }
  *out = f->value.Scalar();
  return true;
}

DataConnectionSpec SpecReader::Read() {
  DataConnectionSpec spec;
  spec.source.file = file_;
  spec.source.line = doc_.Mark().is_null() ? 0 : doc_.Mark().line + 1;
  CheckKeys(doc_, "", {"apiVersion", "kind", "metadata", "spec", "status"});
  ReadMetadata(&spec);

  std::optional<Field> s = Lookup(doc_, "spec", "spec");
  if (!s || s->value.IsNull()) {
    AddError("spec", s ? s->key.Mark() : doc_.Mark(), "required");
    return spec;
  }
  if (!ExpectMap(s->value, "spec")) {
    return spec;
  }
  const YAML::Node& sn = s->value;
  CheckKeys(sn, "spec", {"target", "location", "kind", "properties", "policy", "credentialRef"});

  std::optional<Field> target = Lookup(sn, "target", "spec.target");
  if (!target || target->value.IsNull()) {
    AddError("spec.target", target ? target->key.Mark() : s->key.Mark(),
             "required (subscriptionId, resourceGroup, cluster, database, optional name)");
  } else if (ExpectMap(target->value, "spec.target")) {
    ReadTarget(target->value, &spec);
  }
  if (spec.id.name.empty()) {
    spec.id.name = spec.source.name;  // target.name defaults to metadata.name
    marks_["spec.target.name"] = metadata_name_mark_;
  }

  ReadString(sn, "spec", "location", /*required=*/false, &spec.location);

  bool kind_known = false;
  ReadKind(sn, &spec, &kind_known);

  std::optional<Field> props = Lookup(sn, "properties", "spec.properties");
  if (props && !props->value.IsNull() && ExpectMap(props->value, "spec.properties")) {
    ReadProperties(props->value, kind_known, &spec);
  }
  if (kind_known &&
      (!props || props->value.IsNull() || (props->value.IsMap() && props->value.size() == 0))) {
    std::vector<std::string> required;
    for (const PropertySchema& p : SchemaFor(spec.kind).properties) {
      if (p.required) {
        required.push_back(p.name);
      }
    }
    if (!required.empty()) {
      AddError(
          "spec.properties", props ? props->key.Mark() : s->key.Mark(),
          absl::StrCat("required for kind ", Av(KindName(spec.kind)),
                       ": add a properties: map with at least ", absl::StrJoin(required, ", ")));
    }
  }

  std::optional<Field> cred = Lookup(sn, "credentialRef", "spec.credentialRef");
  if (cred && !cred->value.IsNull() && ExpectMap(cred->value, "spec.credentialRef")) {
    CheckKeys(cred->value, "spec.credentialRef", {"name"});
    if (ReadString(cred->value, "spec.credentialRef", "name", /*required=*/true,
                   &spec.credential_ref) &&
        !IsDns1123(spec.credential_ref, /*allow_dots=*/true, 253)) {
      AddError("spec.credentialRef.name", MarkFor("spec.credentialRef.name"),
               absl::StrCat("\"", spec.credential_ref,
                            "\" is not a valid Secret name: use lower-case letters, digits, '-' "
                            "and '.'"));
    }
  }

  std::optional<Field> policy = Lookup(sn, "policy", "spec.policy");
  if (policy && !policy->value.IsNull() && ExpectMap(policy->value, "spec.policy")) {
    ReadPolicy(policy->value, &spec.policy);
  }
  return spec;
}

void SpecReader::ReadMetadata(DataConnectionSpec* spec) {
  std::optional<Field> m = Lookup(doc_, "metadata", "metadata");
  if (!m || m->value.IsNull()) {
    AddError("metadata", m ? m->key.Mark() : doc_.Mark(),
             "required: add metadata: with at least name:, the connection's name");
    return;
  }
  if (!ExpectMap(m->value, "metadata")) {
    return;
  }
  const YAML::Node& meta = m->value;
  CheckKeys(meta, "metadata", MetadataFields());
  if (ReadString(meta, "metadata", "name", /*required=*/true, &spec->source.name)) {
    metadata_name_mark_ = MarkFor("metadata.name");
    if (!IsDns1123(spec->source.name, /*allow_dots=*/true, 253)) {
      AddError("metadata.name", metadata_name_mark_,
               absl::StrCat("\"", spec->source.name,
                            "\" is not a valid name: use lower-case letters, digits, '-' and '.', "
                            "at most 253 characters, with each '.'-separated part starting and "
                            "ending with a letter or digit"));
    }
  }
  if (ReadString(meta, "metadata", "namespace", /*required=*/false, &spec->source.namespace_) &&
      !IsDns1123(spec->source.namespace_, /*allow_dots=*/false, 63)) {
    AddError("metadata.namespace", MarkFor("metadata.namespace"),
             absl::StrCat("\"", spec->source.namespace_,
                          "\" is not a valid namespace: use lower-case letters, digits and '-', "
                          "at most 63 characters"));
  }
  std::string generation;
  if (ReadString(meta, "metadata", "generation", /*required=*/false, &generation)) {
    const char* end = generation.data() + generation.size();
    auto [ptr, ec] = std::from_chars(generation.data(), end, spec->source.generation);
    if (ec != std::errc() || ptr != end || spec->source.generation < 0) {
      AddError("metadata.generation", MarkFor("metadata.generation"),
               "expected a non-negative integer");
    }
  }
  std::optional<Field> ann = Lookup(meta, "annotations", "metadata.annotations");
  if (!ann || ann->value.IsNull() || !ExpectMap(ann->value, "metadata.annotations")) {
    return;
  }
  const std::string adopt_path =
      absl::StrCat("metadata.annotations[\"", Av(kAdoptAnnotation), "\"]");
  std::string adopt;
  if (ReadString(ann->value, "metadata.annotations", kAdoptAnnotation, false, &adopt)) {
    if (adopt == "true") {
      spec->adopt = true;
    } else if (adopt != "false") {
      AddError(adopt_path, MarkFor(Join("metadata.annotations", kAdoptAnnotation)),
               absl::StrCat(R"(expected "true" or "false", got ")", adopt, "\""));
    }
  }
}

void SpecReader::ReadTarget(const YAML::Node& target, DataConnectionSpec* spec) {
  const std::string p = "spec.target";
  CheckKeys(target, p, {"subscriptionId", "resourceGroup", "cluster", "database", "name"});
  ReadString(target, p, "subscriptionId", /*required=*/true, &spec->id.subscription_id);
  ReadString(target, p, "resourceGroup", /*required=*/true, &spec->id.resource_group);
  ReadString(target, p, "cluster", /*required=*/true, &spec->id.cluster);
  ReadString(target, p, "database", /*required=*/true, &spec->id.database);
  ReadString(target, p, "name", /*required=*/false, &spec->id.name);
}

void SpecReader::ReadKind(const YAML::Node& spec_node, DataConnectionSpec* spec, bool* kind_known) {
  const std::string path = "spec.kind";
  std::optional<Field> f = Lookup(spec_node, "kind", path);
  if (!f || f->value.IsNull()) {
    AddError(path, MarkFor(path), absl::StrCat("required: one of ", AllKindNames()));
    return;
  }
  if (!f->value.IsScalar()) {
    AddError(path, MarkFor(path),
             absl::StrCat("expected a string, got ", NodeTypeName(f->value), ": one of ",
                          AllKindNames()));
    return;
  }
  const std::string& written = f->value.Scalar();
  absl::StatusOr<ConnectionKind> parsed = ParseKind(written);
  if (!parsed.ok()) {
    AddError(path, MarkFor(path), std::string(parsed.status().message()));
    return;
  }
  // ARM reads kinds ignoring case, but the CRD's enum (kubectl apply) does not: one spelling
  // works everywhere.
  if (written != KindName(*parsed)) {
    AddError(path, MarkFor(path),
             absl::StrCat("kind is case-sensitive: write \"", Av(KindName(*parsed)),
                          "\" instead of \"", written, "\""));
    return;
  }
  spec->kind = *parsed;
  *kind_known = true;
}

}  // namespace kustodian
