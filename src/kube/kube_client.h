// KubeClient: the one seam to the Kubernetes API. The real implementation (NewKubeClient,
// src/kube/kube_client_impl.h) speaks JSON over the HTTP seam (src/http) to a kube-apiserver;
// tests use FakeKubeClient (tests/fakes/fake_kube_client.h), an in-memory API server with
// resourceVersions, generations, finalizers and watches.
//
// Objects are plain nlohmann::json documents exactly as the API server sends them.
//
// Error mapping (every implementation):
//   404 NotFound                         -> absl::NotFoundError
//   409 reason AlreadyExists             -> absl::AlreadyExistsError
//   409 reason Conflict (stale version)  -> absl::AbortedError       (IsConflict)
//   410 Gone / Expired (also a watch ERROR event with code 410)
//                                        -> absl::OutOfRangeError    (IsGone)
//   401                                  -> absl::UnauthenticatedError
//   403                                  -> absl::PermissionDeniedError
//   400, 422 Invalid                     -> absl::InvalidArgumentError (message = the Status
//                                           message, which names the field)
//   429, 5xx, transport failures         -> absl::UnavailableError (Retry-After attached with
//                                           SetRetryAfter when the server sent one)
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace kustodian::kube {

// A resource type: group ("" for the core group), version, plural resource name.
struct Gvr {
  std::string group;
  std::string version;
  std::string resource;
  bool namespaced = true;

  // "/api/v1" for the core group, else "/apis/<group>/<version>".
  std::string ApiPrefix() const;
  bool operator==(const Gvr&) const = default;
};

// The resource types Kustodian uses.
Gvr DataConnectionGvr();  // kustodian.io/v1alpha1 dataconnections
Gvr LeaseGvr();           // coordination.k8s.io/v1 leases
Gvr EventGvr();           // events.k8s.io/v1 events
Gvr SecretGvr();          // v1 secrets
Gvr NamespaceGvr();       // v1 namespaces (cluster-scoped)

inline constexpr char kDataConnectionGroup[] = "kustodian.io";
inline constexpr char kDataConnectionVersion[] = "v1alpha1";
inline constexpr char kDataConnectionKind[] = "DataConnection";
inline constexpr char kFinalizer[] = "kustodian.io/finalizer";

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;  // "" = most recent (quorum read)
  int64_t limit = 0;             // 0 = no paging; else pages are followed with `continue`
};

struct ObjectList {
  std::vector<nlohmann::json> items;
  std::string resource_version;  // the list's metadata.resourceVersion, to start a watch from
};

struct WatchOptions {
  std::string resource_version;  // start after this version ("" = from now, no initial events)
  bool allow_bookmarks = true;
  std::string label_selector;
  std::string field_selector;
  // Asks the server to end the watch after this long (timeoutSeconds); 0 = server default.
  absl::Duration timeout = absl::Minutes(5);
};

struct WatchEvent {
  enum class Type { kAdded, kModified, kDeleted, kBookmark };
  Type type = Type::kAdded;
  nlohmann::json object;  // the object (for a bookmark: only metadata.resourceVersion is set)
};

enum class PatchType {
  kMerge,           // application/merge-patch+json
  kJson,            // application/json-patch+json
  kStrategicMerge,  // application/strategic-merge-patch+json (built-in types only)
};

// Thread-safe in every implementation.
class KubeClient {
 public:
  virtual ~KubeClient() = default;

  virtual absl::StatusOr<nlohmann::json> Get(const Gvr& gvr, const std::string& ns,
                                             const std::string& name) = 0;
  // `ns` "" lists across all namespaces (namespaced types) or the cluster-scoped type.
  virtual absl::StatusOr<ObjectList> List(const Gvr& gvr, const std::string& ns,
                                          const ListOptions& options = {}) = 0;
  // Streams changes after options.resource_version, calling `on_event` for each (bookmarks
  // included) until the server ends the stream (returns OK), `on_event` returns false (OK),
  // `cancel` becomes true (OK, noticed within about a second), or an error: OutOfRange when the
  // version is too old (410 Gone, relist), Unavailable when the connection broke.
  virtual absl::Status Watch(const Gvr& gvr, const std::string& ns, const WatchOptions& options,
                             const std::function<bool(const WatchEvent&)>& on_event,
                             const std::atomic<bool>* cancel = nullptr) = 0;

  virtual absl::StatusOr<nlohmann::json> Create(const Gvr& gvr, const std::string& ns,
                                                const nlohmann::json& object) = 0;
  // PUT of the whole object; metadata.resourceVersion, when set, is a precondition (Aborted on
  // a stale version).
  virtual absl::StatusOr<nlohmann::json> Update(const Gvr& gvr, const std::string& ns,
                                                const nlohmann::json& object) = 0;
  // PUT to the status subresource (only .status is taken by the server); the object's
  // metadata.resourceVersion is a precondition as for Update.
  virtual absl::StatusOr<nlohmann::json> UpdateStatus(const Gvr& gvr, const std::string& ns,
                                                      const nlohmann::json& object) = 0;
  // PATCH; `subresource` "" or "status".
  virtual absl::StatusOr<nlohmann::json> Patch(const Gvr& gvr, const std::string& ns,
                                               const std::string& name, PatchType type,
                                               const std::string& body,
                                               const std::string& subresource = "") = 0;
  // DELETE. NotFound when already gone. With finalizers present the object only gets a
  // deletionTimestamp; the returned status is OK either way.
  virtual absl::Status Delete(const Gvr& gvr, const std::string& ns, const std::string& name) = 0;
};

// Predicates over the error mapping above.
bool IsNotFound(const absl::Status& status);
bool IsConflict(const absl::Status& status);  // 409 stale resourceVersion
bool IsAlreadyExists(const absl::Status& status);
bool IsGone(const absl::Status& status);  // 410: relist

// Small accessors for object JSON (missing fields read as empty / 0).
std::string NameOf(const nlohmann::json& object);
std::string NamespaceOf(const nlohmann::json& object);
std::string UidOf(const nlohmann::json& object);
std::string ResourceVersionOf(const nlohmann::json& object);
int64_t GenerationOf(const nlohmann::json& object);
bool HasFinalizer(const nlohmann::json& object, std::string_view finalizer);
bool IsBeingDeleted(const nlohmann::json& object);  // metadata.deletionTimestamp set

}  // namespace kustodian::kube
