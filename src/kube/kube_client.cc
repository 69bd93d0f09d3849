#include "src/kube/kube_client.h"

#include <algorithm>

namespace kustodian::kube {

std::string Gvr::ApiPrefix() const {
  if (group.empty()) return "/api/" + version;
  return "/apis/" + group + "/" + version;
}

Gvr DataConnectionGvr() {
  return {kDataConnectionGroup, kDataConnectionVersion, "dataconnections", true};
}
Gvr LeaseGvr() { return {"coordination.k8s.io", "v1", "leases", true}; }
Gvr EventGvr() { return {"events.k8s.io", "v1", "events", true}; }
Gvr SecretGvr() { return {"", "v1", "secrets", true}; }
Gvr NamespaceGvr() { return {"", "v1", "namespaces", false}; }

bool IsNotFound(const absl::Status& status) { return absl::IsNotFound(status); }
bool IsConflict(const absl::Status& status) { return absl::IsAborted(status); }
bool IsAlreadyExists(const absl::Status& status) { return absl::IsAlreadyExists(status); }
bool IsGone(const absl::Status& status) { return absl::IsOutOfRange(status); }

namespace {
std::string MetaString(const nlohmann::json& object, const char* field) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  auto it = meta->find(field);
  if (it == meta->end() || !it->is_string()) return "";
  return it->get<std::string>();
}
}  // namespace

std::string NameOf(const nlohmann::json& object) { return MetaString(object, "name"); }
std::string NamespaceOf(const nlohmann::json& object) { return MetaString(object, "namespace"); }
std::string UidOf(const nlohmann::json& object) { return MetaString(object, "uid"); }
std::string ResourceVersionOf(const nlohmann::json& object) {
  return MetaString(object, "resourceVersion");
}

int64_t GenerationOf(const nlohmann::json& object) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return 0;
  auto it = meta->find("generation");
  if (it == meta->end() || !it->is_number_integer()) return 0;
  return it->get<int64_t>();
}

bool HasFinalizer(const nlohmann::json& object, std::string_view finalizer) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return false;
  auto it = meta->find("finalizers");
  if (it == meta->end() || !it->is_array()) return false;
  return std::any_of(it->begin(), it->end(), [&](const nlohmann::json& f) {
    return f.is_string() && f.get<std::string>() == finalizer;
  });
}

bool IsBeingDeleted(const nlohmann::json& object) {
  return !MetaString(object, "deletionTimestamp").empty();
}

}  // namespace kustodian::kube
