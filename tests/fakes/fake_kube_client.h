// FakeKubeClient: an in-memory Kubernetes API server behind the KubeClient interface, for
// controller tests. It keeps the semantics the controller relies on:
//   - one resourceVersion counter for every object (decimal strings, as etcd gives them);
//   - metadata.generation starts at 1 and moves only when something outside metadata and
//     status changes;
//   - the status subresource: Update/Patch of the main resource keep the stored status,
//     UpdateStatus/Patch(..., "status") change only .status;
//   - metadata.resourceVersion in an Update/UpdateStatus/merge-Patch body is a precondition
//     (409 Conflict -> Aborted on a stale version);
//   - finalizers and deletionTimestamp: Delete of an object with finalizers only sets
//     deletionTimestamp; the object disappears when its last finalizer is removed;
//   - watches replay an event log after the requested resourceVersion, send bookmarks, and
//     fail with 410 Gone (OutOfRange) for versions older than the last Compact();
//   - injected failures: the next N calls of a verb fail with a given status; BreakWatches()
//     ends every open watch with Unavailable.
// Only header-declared inline parts of src/kube are used, so kus_fakes needs no kus_kube.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "src/kube/kube_client.h"

namespace kustodian {

// Thread-safe.
class FakeKubeClient final : public kube::KubeClient {
 public:
  enum class Verb { kGet, kList, kWatch, kCreate, kUpdate, kUpdateStatus, kPatch, kDelete };

  FakeKubeClient();
  ~FakeKubeClient() override;

  // --- Failure injection ---
  // The next `n` calls of `verb` (any resource) fail with `status` without effect.
  void FailNext(Verb verb, int n, absl::Status status);
  // The next `n` UpdateStatus calls (and status-subresource patches) fail with 409 Conflict.
  void ConflictNextUpdateStatus(int n);
  // Ends every open watch with Unavailable (as a broken connection would).
  void BreakWatches();
  // Forgets the event log up to now: a watch from an older resourceVersion gets 410 Gone, and
  // every open watch is ended with 410 Gone too.
  void Compact();
  // How often an idle watch sends a bookmark (default 100 ms; 0 = never).
  void SetBookmarkInterval(absl::Duration interval);

  // --- Observations ---
  int calls(Verb verb) const;
  // Calls of `verb` on resources named `resource` (e.g. "dataconnections", "leases").
  int calls(Verb verb, const std::string& resource) const;
  // Every successful write as "VERB resource ns/name[/status]", in order.
  std::vector<std::string> writes() const;
  // The stored object, or nullopt.
  std::optional<nlohmann::json> Object(const kube::Gvr& gvr, const std::string& ns,
                                       const std::string& name) const;
  // Every stored object of the resource in `ns` ("" = all namespaces), ordered by ns/name.
  std::vector<nlohmann::json> Objects(const kube::Gvr& gvr, const std::string& ns = "") const;
  // Open watches right now.
  int open_watches() const;
  int64_t resource_version() const;

  // --- KubeClient ---
  absl::StatusOr<nlohmann::json> Get(const kube::Gvr& gvr, const std::string& ns,
                                     const std::string& name) override;
  absl::StatusOr<kube::ObjectList> List(const kube::Gvr& gvr, const std::string& ns,
                                        const kube::ListOptions& options = {}) override;
  absl::Status Watch(const kube::Gvr& gvr, const std::string& ns, const kube::WatchOptions& options,
                     const std::function<bool(const kube::WatchEvent&)>& on_event,
                     const std::atomic<bool>* cancel = nullptr) override;
  absl::StatusOr<nlohmann::json> Create(const kube::Gvr& gvr, const std::string& ns,
                                        const nlohmann::json& object) override;
  absl::StatusOr<nlohmann::json> Update(const kube::Gvr& gvr, const std::string& ns,
                                        const nlohmann::json& object) override;
  absl::StatusOr<nlohmann::json> UpdateStatus(const kube::Gvr& gvr, const std::string& ns,
                                              const nlohmann::json& object) override;
  absl::StatusOr<nlohmann::json> Patch(const kube::Gvr& gvr, const std::string& ns,
                                       const std::string& name, kube::PatchType type,
                                       const std::string& body,
                                       const std::string& subresource = "") override;
  absl::Status Delete(const kube::Gvr& gvr, const std::string& ns,
                      const std::string& name) override;

 private:
  struct Event {
    int64_t rv = 0;
    std::string resource_key;  // group/resource
    std::string ns;
    kube::WatchEvent::Type type = kube::WatchEvent::Type::kAdded;
    nlohmann::json object;
  };
  enum class WriteKind { kMain, kStatus };

  static std::string ResourceKey(const kube::Gvr& gvr);
  static std::string ObjectKey(const kube::Gvr& gvr, const std::string& ns,
                               const std::string& name);
  // Counts the call and returns the injected failure, if any. Requires mu_.
  absl::Status BeginLocked(Verb verb, const kube::Gvr& gvr);
  // Stores `next` as the new state of an existing object (generation, finalizer removal,
  // events). Requires mu_.
  absl::StatusOr<nlohmann::json> ReplaceLocked(const kube::Gvr& gvr, const std::string& key,
                                               nlohmann::json next, WriteKind kind,
                                               const std::string& verb_name);
  void RecordLocked(const kube::Gvr& gvr, const std::string& ns, kube::WatchEvent::Type type,
                    const nlohmann::json& object);
  std::string NowString() const;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, nlohmann::json> objects_;               // guarded by mu_
  std::map<std::string, kube::Gvr> object_gvrs_;                // guarded by mu_
  std::deque<Event> events_;                                    // guarded by mu_
  int64_t rv_ = 100;                                            // guarded by mu_
  int64_t compacted_rv_ = 0;                                    // guarded by mu_
  int64_t uid_counter_ = 0;                                     // guarded by mu_
  uint64_t break_epoch_ = 0;                                    // guarded by mu_
  uint64_t compact_epoch_ = 0;                                  // guarded by mu_
  int open_watches_ = 0;                                        // guarded by mu_
  absl::Duration bookmark_interval_ = absl::Milliseconds(100);  // guarded by mu_
  std::map<Verb, std::deque<absl::Status>> failures_;           // guarded by mu_
  std::map<Verb, int> calls_;                                   // guarded by mu_
  std::map<std::pair<Verb, std::string>, int> resource_calls_;  // guarded by mu_
  std::vector<std::string> writes_;                             // guarded by mu_
  bool shutting_down_ = false;                                  // guarded by mu_
};

}  // namespace kustodian
