// Every series the kustodian daemon exports, registered once on a Registry with HELP texts and
// pre-created at zero, so dashboards and alerts see each series from the first scrape. Holds
// references for the fixed label sets (controller="dataconnection", name="dataconnection").
// The controller-runtime and client-go names match what operator users already alert on.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "src/metrics/registry.h"

namespace kustodian {

// Label value of controller_runtime_* {controller} and workqueue_* {name}.
inline constexpr char kControllerName[] = "dataconnection";

// Values of the controller_runtime_reconcile_total {result} label.
inline constexpr char kResultSuccess[] = "success";
inline constexpr char kResultError[] = "error";
inline constexpr char kResultRequeue[] = "requeue";
inline constexpr char kResultRequeueAfter[] = "requeue_after";

// kustodian_managed_connections {state} values (the kstatus conditions).
inline constexpr char kStateReady[] = "ready";
inline constexpr char kStateReconciling[] = "reconciling";
inline constexpr char kStateStalled[] = "stalled";

// ARM's spelling of every data connection kind (kept equal to KindName() in src/model, which
// this module may not depend on). Drift and managed-connection series exist for each.
const std::vector<std::string>& MetricConnectionKinds();
// HTTP methods and status codes pre-created for kustodian_arm_requests_total; code "0" means a
// transport error (no HTTP response). Other codes appear when first seen.
const std::vector<std::string>& MetricArmMethods();
const std::vector<std::string>& MetricArmCodes();

// Not copyable; the references point into the Registry, which must outlive this struct.
// Thread-safety is that of the metrics themselves (all thread-safe).
struct KustodianMetrics {
  // Registers everything on `registry` and sets kustodian_build_info{version} to 1.
  explicit KustodianMetrics(Registry& registry, std::string_view version = "unknown");
  KustodianMetrics(const KustodianMetrics&) = delete;
  KustodianMetrics& operator=(const KustodianMetrics&) = delete;

  // The reconcile_total child for `result` (one of the kResult* values; others are created).
  Counter& ReconcileResult(std::string_view result) {
    return reconcile_total.WithLabels({kControllerName, std::string(result)});
  }
  // The arm_requests_total child; `code` 0 means a transport error.
  Counter& ArmRequest(std::string_view method, int code) {
    return arm_requests_total.WithLabels({std::string(method), std::to_string(code)});
  }

  // controller-runtime, {controller}.
  CounterFamily& reconcile_total;  // {controller,result}
  Counter& reconcile_errors;       // controller_runtime_reconcile_errors_total
  Histogram& reconcile_time;       // controller_runtime_reconcile_time_seconds
  Gauge& active_workers;
  Gauge& max_concurrent_reconciles;

  // client-go workqueue, {name}.
  Gauge& workqueue_depth;
  Counter& workqueue_adds;
  Counter& workqueue_retries;
  Histogram& workqueue_queue_duration;
  Histogram& workqueue_work_duration;
  Gauge& workqueue_unfinished_work;
  Gauge& workqueue_longest_running_processor;

  Gauge& leader_election_master_status;  // {name}: 1 while this replica leads

  // Kustodian's own.
  CounterFamily& arm_requests_total;      // {method,code}
  HistogramFamily& arm_request_duration;  // {method}
  Counter& arm_throttled;                 // ARM answers with 429 Too Many Requests
  CounterFamily& drift_corrections;       // {kind}
  GaugeFamily& managed_connections;       // {kind,state}
  Gauge& last_resync_timestamp;           // Unix seconds of the last full resync
  Gauge& manifest_errors;                 // manifest files that failed to load
  // {type,outcome}: type is the Event Grid eventType (e.g.
  // "Microsoft.Resources.ResourceWriteSuccess"; map unknown types to "other" to bound the
  // series), outcome one of "enqueued", "ignored", "invalid".
  CounterFamily& eventgrid_events;
  Gauge& pending_deletes;  // deletes held back by the prune guard
  Gauge& build_info;       // {version} = 1
};

}  // namespace kustodian
