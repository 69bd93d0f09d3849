// EventRecorder: writes events.k8s.io/v1 Events about an object, the way kubectl describe shows
// them. A repeat of the same (object, type, reason, note) within 10 minutes updates the existing
// Event's series (count, lastObservedTime) instead of creating another. Recording never blocks
// the caller for long and never fails it: errors are logged and dropped.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/kube/kube_client.h"

namespace kustodian::kube {

struct EventRecorderOptions {
  std::string reporting_controller = "kustodian.io/controller";
  std::string reporting_instance;  // the replica's identity
};

class EventRecorder {
 public:
  EventRecorder(KubeClient& client, Clock& clock, Logger& logger, EventRecorderOptions options);
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // `regarding` is the object (apiVersion, kind, metadata.name/namespace/uid/resourceVersion
  // are used). `type` "Normal" or "Warning"; `reason` CamelCase (Created, Updated,
  // DriftCorrected, Deleted, Failed, ...); `action` what was done (Create, Update, Delete,
  // Reconcile); `note` the human message (at most 1 KiB, secrets must not be passed).
  void Record(const nlohmann::json& regarding, const std::string& type, const std::string& reason,
              const std::string& action, const std::string& note);

 private:
  struct Seen {
    std::string event_name;
    int32_t count = 1;
    absl::Time last = absl::UnixEpoch();
  };

  KubeClient& client_;
  Clock& clock_;
  Logger& logger_;
  const EventRecorderOptions options_;
  std::mutex mu_;
  std::map<std::string, Seen> seen_;  // guarded by mu_; dedup key -> event
};

}  // namespace kustodian::kube
