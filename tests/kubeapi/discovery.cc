// Discovery documents built from the registry.
#include "tests/kubeapi/discovery.h"

#include <functional>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace kustodian::kubeapi {
namespace {

using json = nlohmann::json;

std::string GvPath(const ResourceType& t) {
  return t.group.empty() ? "api/" + t.version : absl::StrCat("apis/", t.group, "/", t.version);
}

json Gvk(const ResourceType& t) {
  return {{"group", t.group}, {"version", t.version}, {"kind", t.kind}};
}

json Op(const ResourceType& t, const std::string& action, bool with_validation) {
  json params = json::array();
  if (with_validation) {
    for (const char* p : {"dryRun", "fieldManager", "fieldValidation"}) {
      params.push_back({{"name", p}, {"in", "query"}, {"schema", {{"type", "string"}}}});
    }
  }
  json op = {{"x-kubernetes-action", action},
             {"x-kubernetes-group-version-kind", Gvk(t)},
             {"operationId", absl::StrCat(action, t.kind)},
             {"responses", {{"200", {{"description", "OK"}}}}}};
  if (!params.empty()) {
    op["parameters"] = params;
  }
  return op;
}

std::string SchemaName(const ResourceType& t) {
  std::vector<std::string> parts = absl::StrSplit(t.group, '.');
  std::reverse(parts.begin(), parts.end());
  return absl::StrCat(absl::StrJoin(parts, "."), ".", t.version, ".", t.kind);
}

}  // namespace

json VersionInfo() {
  return {{"major", "1"},
          {"minor", "32"},
          {"gitVersion", "v1.32.0-kustodian-test"},
          {"gitCommit", "0000000000000000000000000000000000000000"},
          {"gitTreeState", "clean"},
          {"buildDate", "2025-01-01T00:00:00Z"},
          {"goVersion", "go1.23.0"},
          {"compiler", "gc"},
          {"platform", "linux/amd64"}};
}

json CoreApiVersions(const std::string& server_address) {
  return {{"kind", "APIVersions"},
          {"versions", {"v1"}},
          {"serverAddressByClientCIDRs",
           {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", server_address}}}}};
}

json ApiGroupList(const Registry& registry) {
  json groups = json::array();
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::string>> versions;
  for (const ResourceType& t : registry.types()) {
    if (t.group.empty()) continue;
    if (versions.count(t.group) == 0) order.push_back(t.group);
    auto& v = versions[t.group];
    if (std::find(v.begin(), v.end(), t.version) == v.end()) v.push_back(t.version);
  }
  for (const std::string& g : order) {
    json vs = json::array();
    for (const std::string& v : versions[g]) {
      vs.push_back({{"groupVersion", g + "/" + v}, {"version", v}});
    }
    groups.push_back({{"name", g}, {"versions", vs}, {"preferredVersion", vs[0]}});
  }
  return {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}};
}

json ApiResourceList(const Registry& registry, const std::string& group,
                     const std::string& version) {
  json resources = json::array();
  for (const ResourceType& t : registry.types()) {
    if (t.group != group || t.version != version) continue;
    json verbs = t.read_only ? json{"get", "list", "watch"}
                             : json{"create", "delete", "get", "list", "patch", "update", "watch"};
    json r = {{"name", t.plural},
              {"singularName", t.singular},
              {"namespaced", t.namespaced},
              {"kind", t.kind},
              {"verbs", verbs},
              {"storageVersionHash",
               absl::StrFormat("%016x", std::hash<std::string>()(t.storage)).substr(0, 11)}};
    if (!t.short_names.empty()) r["shortNames"] = t.short_names;
    if (!t.categories.empty()) r["categories"] = t.categories;
    resources.push_back(r);
    if (t.status_subresource) {
      resources.push_back({{"name", t.plural + "/status"},
                           {"singularName", ""},
                           {"namespaced", t.namespaced},
                           {"kind", t.kind},
                           {"verbs", {"get", "patch", "update"}}});
    }
  }
  if (resources.empty()) return nullptr;
  return {{"kind", "APIResourceList"},
          {"apiVersion", "v1"},
          {"groupVersion", group.empty() ? version : group + "/" + version},
          {"resources", resources}};
}

json OpenApiV3Root(const Registry& registry) {
  json paths = json::object();
  std::set<std::string> seen;
  for (const ResourceType& t : registry.types()) {
    std::string p = GvPath(t);
    if (!seen.insert(p).second) continue;
    std::string hash =
        absl::StrFormat("%016X", std::hash<std::string>()(OpenApiV3Document(registry, p).dump()));
    paths[p] = {{"serverRelativeURL", absl::StrCat("/openapi/v3/", p, "?hash=", hash)}};
  }
  return {{"paths", paths}};
}

json OpenApiV3Document(const Registry& registry, const std::string& gv_path) {
  json paths = json::object();
  json schemas = json::object();
  for (const ResourceType& t : registry.types()) {
    if (GvPath(t) != gv_path) continue;
    std::string base = t.Prefix() + (t.namespaced ? "/namespaces/{namespace}/" : "/") + t.plural;
    json collection = {{"get", Op(t, "list", false)}};
    json item = {{"get", Op(t, "get", false)}};
    if (!t.read_only) {
      collection["post"] = Op(t, "post", true);
      item["put"] = Op(t, "put", true);
      item["patch"] = Op(t, "patch", true);
      item["delete"] = Op(t, "delete", false);
    }
    paths[base] = collection;
    paths[base + "/{name}"] = item;
    if (t.status_subresource) {
      paths[base + "/{name}/status"] = {{"get", Op(t, "get", false)},
                                        {"put", Op(t, "put", true)},
                                        {"patch", Op(t, "patch", true)}};
    }
    if (t.custom && t.schema != nullptr) {
      json s = t.schema->raw();
      s["x-kubernetes-group-version-kind"] = json::array({Gvk(t)});
      schemas[SchemaName(t)] = s;
    }
  }
  if (paths.empty()) return nullptr;
  json doc = {{"openapi", "3.0.0"},
              {"info", {{"title", "Kubernetes"}, {"version", "v1.32.0"}}},
              {"paths", paths}};
  if (!schemas.empty()) {
    doc["components"] = {{"schemas", schemas}};
  }
  return doc;
}

}  // namespace kustodian::kubeapi
