// KubeSource: turns DataConnection custom resources into desired state (--source=kubernetes),
// the Kubernetes counterpart of DirectorySource. A Reflector per watched namespace (or one for
// all) keeps a cache of the resources of this shard; each resource is read with the manifest
// spec reader (the same checks and field paths as a YAML file) and put into the DesiredStore
// under the file name "k8s:<namespace>/<name>", so duplicate targets are conflicts as in
// directory mode.
//
// Ownership (what the reconciler may delete) is the finalizer kustodian.io/finalizer: the
// reconciler's in-memory OwnershipJournal gets a record for a resource's target when the resource
// is first seen carrying the finalizer (restart), and the controller adds the finalizer before
// the first create PUT (KubeController::BeforeOwn). A resource that goes away without the
// finalizer (or whose finalizer someone removed) takes its journal records with it, so nothing is
// deleted in Azure for it. An invalid spec keeps the last good desired state (never a deletion).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "controller/credential_ref.h"
#include "controller/desired_store.h"
#include "controller/ownership_journal.h"
#include "nlohmann/json.hpp"
#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/kube/kube_client.h"
#include "src/kube/reflector.h"

namespace kustodian {

// Work-queue keys for resources (not connections) start with this prefix: "k8s:<ns>/<name>".
// They are also the DesiredStore file names of the resources.
inline constexpr char kKubeRefPrefix[] = "k8s:";

// What the source knows about one resource.
struct KubeObjectState {
  nlohmann::json object;  // the latest version seen (watch, list or our own write)
  std::string ref;        // "k8s:<ns>/<name>"
  std::string ns;
  std::string name;
  std::string uid;
  int64_t generation = 0;
  bool deleting = false;       // metadata.deletionTimestamp set
  bool has_finalizer = false;  // carries kustodian.io/finalizer
  std::string key;             // target key of the last valid spec ("" when none yet)
  // spec.credentialRef.name of the last valid spec ("" = the controller's own identity).
  std::string credential_ref;
  // Every target key this resource claimed in this process (the current one and earlier ones
  // whose connections may still be owned), for the finalizer decision.
  std::set<std::string> keys;
  // Problems of the current spec as "field: message" (empty when valid).
  std::vector<std::string> errors;
};

struct KubeSourceDeps {
  kube::KubeClient& client;
  Clock& clock;
  Logger& logger;
  DesiredStore& desired;
  OwnershipJournal& journal;
  std::function<void(const std::string& key)> enqueue;  // connection keys and resource refs
  std::function<void()> on_desired_changed;             // e.g. wake the resync loop (optional)
};

struct KubeSourceOptions {
  std::vector<std::string> namespaces;  // empty = all namespaces
  int shard_count = 1;
  int shard_index = 0;
  absl::Duration watch_timeout = absl::Minutes(5);
  absl::Duration min_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(30);
};

// Thread-safe.
class KubeSource {
 public:
  KubeSource(KubeSourceDeps deps, KubeSourceOptions options);
  ~KubeSource();  // Stop()s
  KubeSource(const KubeSource&) = delete;
  KubeSource& operator=(const KubeSource&) = delete;

  // Starts the reflectors. Call once.
  void Start();
  void Stop();
  // True once every reflector delivered its first list.
  bool Synced() const;
  // Lists and watches started so far (all reflectors), for tests and logs.
  int64_t lists() const;

  // --- The reflector handlers (public for tests; `ns` is the reflector's scope, "" = all) ---
  void OnReplace(const std::string& ns, const std::vector<nlohmann::json>& items);
  void OnUpsert(const nlohmann::json& object);
  void OnDelete(const nlohmann::json& object);
  // The result of our own write (finalizer, status): applied like a watch event unless the
  // cache already has a newer version.
  void Observe(const nlohmann::json& object) { OnUpsert(object); }

  // --- Queries for the controller ---
  std::optional<KubeObjectState> Object(const std::string& ref) const;
  // The resource whose desired entry is in effect for `key`, else one claiming it; nullopt when
  // none.
  std::optional<std::string> OwnerOf(const std::string& key) const;
  // The Secret whose service principal writes `key`: the spec.credentialRef (in the resource's
  // namespace) of OwnerOf(key); nullopt when that resource has none or no resource claims it.
  std::optional<SecretRef> CredentialRefOf(const std::string& key) const;
  // Every resource that claims or claimed `key`.
  std::vector<std::string> RefsForKey(const std::string& key) const;
  // spec.policy.deletion of a resource being deleted that targets `key` (as it stands in its
  // latest version); nullopt when none is being deleted or it names no policy.
  std::optional<DeletionPolicy> DeletionPolicyOfDeleted(const std::string& key) const;
  // True when a resource that is not being deleted has `key` as its current target.
  bool Claimed(const std::string& key) const;
  // Number of resources in the cache (this shard).
  size_t size() const;

  static std::string RefOf(const std::string& ns, const std::string& name);
  static bool IsRef(const std::string& key);

 private:
  void UpsertLocked(const nlohmann::json& object, std::vector<std::string>* to_enqueue);
  void GoneLocked(const std::string& ref, std::vector<std::string>* to_enqueue);
  // Removes journal records of `keys` that no other live resource claims.
  void DropOwnershipLocked(const KubeObjectState& state);
  bool ClaimedByOtherLocked(const std::string& key, const std::string& ref) const;
  void Flush(std::vector<std::string> to_enqueue, bool desired_changed);

  KubeSourceDeps deps_;
  const KubeSourceOptions options_;
  // Filled once by Start() and then only read. Synced() and lists() are called by the /readyz
  // and /metrics threads, which the HTTP server may run before Start(): they read reflectors_
  // only once started_ is set (release after the vector is complete; acquire in the readers).
  std::vector<std::unique_ptr<kube::Reflector>> reflectors_;
  std::atomic<bool> started_{false};

  mutable std::mutex mu_;
  std::map<std::string, KubeObjectState> objects_;  // guarded by mu_; by ref
};

// Reads a DataConnection resource into a spec with the manifest reader. Returns the spec, or
// the problems as "field: message" in `errors` (then the result is meaningless).
DataConnectionSpec ReadKubeSpec(const nlohmann::json& object, const std::string& ref,
                                std::vector<std::string>* errors);

}  // namespace kustodian
