// EventRecorder: writes events.k8s.io/v1 Events about an object, the way kubectl describe shows
// them. A repeat of the same (object, type, reason, note) within 10 minutes updates the existing
// Event's series (count, lastObservedTime) instead of creating another. Recording never blocks
// the caller for long and never fails it: Record() only queues (bounded, the oldest dropped when
// full); a background thread writes, and errors are logged and dropped.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/kube/kube_client.h"

namespace kustodian::kube {

struct EventRecorderOptions {
  std::string reporting_controller = "kustodian.io/controller";
  std::string reporting_instance;  // the replica's identity ("" = the host name)
  size_t max_queue = 1000;         // events waiting to be written; the oldest is dropped beyond
};

class EventRecorder {
 public:
  EventRecorder(KubeClient& client, Clock& clock, Logger& logger, EventRecorderOptions options);
  ~EventRecorder();  // writes what is queued (bounded by the client's timeouts), then stops
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // `regarding` is the object (apiVersion, kind, metadata.name/namespace/uid/resourceVersion
  // are used). `type` "Normal" or "Warning"; `reason` CamelCase (Created, Updated,
  // DriftCorrected, Deleted, Failed, ...); `action` what was done (Create, Update, Delete,
  // Reconcile); `note` the human message (at most 1 KiB, secrets must not be passed).
  void Record(const nlohmann::json& regarding, const std::string& type, const std::string& reason,
              const std::string& action, const std::string& note);

  // Blocks until every event recorded before the call has been written (or dropped).
  void Flush();

 private:
  struct Pending {
    nlohmann::json regarding;
    std::string type, reason, action, note;
    absl::Time at;
  };
  struct Seen {
    std::string event_name;
    int32_t count = 1;
    absl::Time last = absl::UnixEpoch();
  };

  KubeClient& client_;
  Clock& clock_;
  Logger& logger_;
  const EventRecorderOptions options_;
  void Run();
  void Write(const Pending& event);  // the writer thread only

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;         // guarded by mu_
  int64_t enqueued_ = 0;              // guarded by mu_
  int64_t done_ = 0;                  // guarded by mu_: written or dropped
  bool stop_ = false;                 // guarded by mu_
  std::map<std::string, Seen> seen_;  // writer thread only; dedup key -> event
  std::thread thread_;                // last: starts once the members above exist
};

}  // namespace kustodian::kube
