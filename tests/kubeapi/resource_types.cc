// Built-in resource types and CRD loading.
#include "tests/kubeapi/resource_types.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace kustodian::kubeapi {
namespace {

using json = nlohmann::json;

ResourceType Builtin(std::string group, std::string version, std::string kind, std::string plural,
                     bool namespaced, std::vector<std::string> short_names = {}) {
  ResourceType t;
  t.group = std::move(group);
  t.version = std::move(version);
  t.kind = std::move(kind);
  t.plural = std::move(plural);
  t.singular = absl::AsciiStrToLower(t.kind);
  t.namespaced = namespaced;
  t.short_names = std::move(short_names);
  t.storage = t.group.empty() ? t.plural : t.group + "/" + t.plural;
  return t;
}

}  // namespace

std::string ResourceType::Prefix() const {
  return group.empty() ? "/api/" + version : absl::StrCat("/apis/", group, "/", version);
}

Registry::Registry() {
  ResourceType ns = Builtin("", "v1", "Namespace", "namespaces", false, {"ns"});
  ns.field_selectors = {"status.phase"};
  types_.push_back(ns);
  ResourceType secret = Builtin("", "v1", "Secret", "secrets", true);
  secret.field_selectors = {"type"};
  types_.push_back(secret);
  types_.push_back(Builtin("", "v1", "ConfigMap", "configmaps", true, {"cm"}));
  ResourceType core_event = Builtin("", "v1", "Event", "events", true, {"ev"});
  core_event.storage = "events";
  core_event.field_selectors = {"involvedObject.kind",
                                "involvedObject.namespace",
                                "involvedObject.name",
                                "involvedObject.uid",
                                "involvedObject.apiVersion",
                                "involvedObject.resourceVersion",
                                "involvedObject.fieldPath",
                                "reason",
                                "reportingComponent",
                                "source",
                                "type"};
  types_.push_back(core_event);
  ResourceType event = Builtin("events.k8s.io", "v1", "Event", "events", true, {"ev"});
  event.storage = "events";
  event.field_selectors = {"regarding.kind",       "regarding.namespace",
                           "regarding.name",       "regarding.uid",
                           "regarding.apiVersion", "regarding.resourceVersion",
                           "regarding.fieldPath",  "reason",
                           "reportingController",  "type"};
  types_.push_back(event);
  types_.push_back(Builtin("coordination.k8s.io", "v1", "Lease", "leases", true));
  ResourceType crd = Builtin("apiextensions.k8s.io", "v1", "CustomResourceDefinition",
                             "customresourcedefinitions", false, {"crd", "crds"});
  crd.read_only = true;
  crd.categories = {"api-extensions"};
  types_.push_back(crd);
}

absl::Status Registry::AddCrd(const json& crd, const std::string& source) {
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", why));
  };
  if (crd.value("kind", "") != "CustomResourceDefinition") {
    return bad("kind must be CustomResourceDefinition");
  }
  const json& spec = crd.value("spec", json::object());
  const json& names = spec.value("names", json::object());
  ResourceType base;
  base.group = spec.value("group", "");
  base.kind = names.value("kind", "");
  base.plural = names.value("plural", "");
  base.singular = names.value("singular", absl::AsciiStrToLower(base.kind));
  if (base.group.empty() || base.kind.empty() || base.plural.empty()) {
    return bad("spec.group, spec.names.kind and spec.names.plural are required");
  }
  std::string expected_name = base.plural + "." + base.group;
  if (crd.value("metadata", json::object()).value("name", "") != expected_name) {
    return bad(absl::StrCat("metadata.name must be \"", expected_name, "\""));
  }
  if (names.contains("shortNames")) {
    base.short_names = names["shortNames"].get<std::vector<std::string>>();
  }
  if (names.contains("categories")) {
    base.categories = names["categories"].get<std::vector<std::string>>();
  }
  base.namespaced = spec.value("scope", "Namespaced") == "Namespaced";
  base.custom = true;
  base.storage = base.group + "/" + base.plural;
  if (!spec.contains("versions") || !spec["versions"].is_array() || spec["versions"].empty()) {
    return bad("spec.versions must list at least one version");
  }
  for (size_t i = 0; i < spec["versions"].size(); ++i) {
    const json& v = spec["versions"][i];
    std::string where = absl::StrCat("spec.versions[", i, "]");
    if (!v.value("served", true)) {
      continue;
    }
    ResourceType t = base;
    t.version = v.value("name", "");
    if (t.version.empty()) {
      return bad(where + ".name is required");
    }
    t.status_subresource = v.contains("subresources") && v["subresources"].contains("status");
    if (v.contains("schema") && v["schema"].contains("openAPIV3Schema")) {
      auto schema = Schema::Compile(v["schema"]["openAPIV3Schema"]);
      if (!schema.ok()) {
        return bad(absl::StrCat(where, ".schema.", schema.status().message()));
      }
      t.schema = std::make_shared<Schema>(std::move(*schema));
    }
    if (v.contains("additionalPrinterColumns")) {
      for (const json& c : v["additionalPrinterColumns"]) {
        PrinterColumn col;
        col.name = c.value("name", "");
        col.type = c.value("type", "string");
        col.format = c.value("format", "");
        col.description = c.value("description", "");
        col.priority = c.value("priority", 0);
        col.json_path = c.value("jsonPath", "");
        auto path = JsonPath::Parse(col.json_path);
        if (!path.ok()) {
          return bad(absl::StrCat(where, ".additionalPrinterColumns[", col.name,
                                  "]: ", path.status().message()));
        }
        col.path = *path;
        t.columns.push_back(std::move(col));
      }
    }
    if (v.contains("selectableFields")) {
      for (const json& f : v["selectableFields"]) {
        std::string p = f.value("jsonPath", "");
        t.field_selectors.push_back(p.empty() || p[0] != '.' ? p : p.substr(1));
      }
    }
    types_.push_back(std::move(t));
  }
  crds_.push_back(crd);
  return absl::OkStatus();
}

const ResourceType* Registry::Find(const std::string& group, const std::string& version,
                                   const std::string& plural) const {
  for (const ResourceType& t : types_) {
    if (t.group == group && t.version == version && t.plural == plural) {
      return &t;
    }
  }
  return nullptr;
}

}  // namespace kustodian::kubeapi
