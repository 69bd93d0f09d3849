// Reflector: keeps a local view of one resource type in sync with the API server, the
// client-go way: LIST, then WATCH from the list's resourceVersion with bookmarks; on 410 Gone
// it relists (and reports the full set again through OnReplace); when the watch breaks it
// reconnects from the last seen resourceVersion with capped exponential backoff and jitter.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/kube/kube_client.h"

namespace kustodian::kube {

// Called from the reflector's own thread, one call at a time.
struct ReflectorHandler {
  // A complete list (first list and every relist): the handler replaces its view with `items`
  // (objects it knew that are not in `items` were deleted meanwhile).
  std::function<void(const std::vector<nlohmann::json>& items)> on_replace;
  std::function<void(const nlohmann::json& object)> on_upsert;  // ADDED or MODIFIED
  std::function<void(const nlohmann::json& object)> on_delete;  // DELETED (last state)
};

struct ReflectorOptions {
  Gvr gvr;
  std::string ns;  // "" = all namespaces
  std::string label_selector;
  absl::Duration watch_timeout = absl::Minutes(5);  // server-side timeoutSeconds per watch
  absl::Duration min_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(30);
};

class Reflector {
 public:
  Reflector(KubeClient& client, Clock& clock, Logger& logger, ReflectorOptions options,
            ReflectorHandler handler);
  ~Reflector();  // Stop()s
  Reflector(const Reflector&) = delete;
  Reflector& operator=(const Reflector&) = delete;

  // Starts the list/watch thread. Call once.
  void Start();
  // Stops the thread (the current watch is cancelled). Idempotent.
  void Stop();
  // True once the first list has been delivered through on_replace.
  bool Synced() const { return synced_.load(); }
  // The last resourceVersion seen (list, event or bookmark).
  std::string LastResourceVersion() const;
  // Counters, for metrics and tests.
  int64_t lists() const { return lists_.load(); }
  int64_t watches() const { return watches_.load(); }

 private:
  void Run();

  KubeClient& client_;
  Clock& clock_;
  Logger& logger_;
  const ReflectorOptions options_;
  ReflectorHandler handler_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> synced_{false};
  std::atomic<int64_t> lists_{0};
  std::atomic<int64_t> watches_{0};
  mutable std::mutex mu_;
  std::string last_rv_;  // guarded by mu_
};

}  // namespace kustodian::kube
