// Registration of every exported series, with HELP texts, pre-created at zero.
#include "src/metrics/kustodian_metrics.h"

namespace kustodian {

namespace {

const std::vector<std::string>& EventGridTypes() {
  static const std::vector<std::string> kTypes = {
      "Microsoft.Resources.ResourceWriteSuccess", "Microsoft.Resources.ResourceDeleteSuccess",
      "Microsoft.EventGrid.SubscriptionValidationEvent", "other"};
  return kTypes;
}

const std::vector<std::string>& EventGridOutcomes() {
  static const std::vector<std::string> kOutcomes = {"enqueued", "ignored", "invalid"};
  return kOutcomes;
}

// client-go's rest_client_request_duration_seconds buckets.
std::vector<double> ArmRequestBuckets() {
  return {0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60};
}

// Short helpers for the one-label families whose only child is the controller's.
Counter& ControllerCounter(Registry& r, std::string_view name, std::string_view help,
                           const char* label) {
  return r.AddCounter(name, help, {label}).WithLabels({kControllerName});
}
Gauge& ControllerGauge(Registry& r, std::string_view name, std::string_view help,
                       const char* label) {
  return r.AddGauge(name, help, {label}).WithLabels({kControllerName});
}
Histogram& ControllerHistogram(Registry& r, std::string_view name, std::string_view help,
                               const char* label, std::vector<double> buckets) {
  return r.AddHistogram(name, help, {label}, std::move(buckets)).WithLabels({kControllerName});
}

}  // namespace

const std::vector<std::string>& MetricConnectionKinds() {
  static const std::vector<std::string> kKinds = {"EventHub",
                                                  "EventGrid",
                                                  "IotHub",
                                                  "CosmosDb",
                                                  "EventHubWithManagedIdentity",
                                                  "EventGridWithManagedIdentity"};
  return kKinds;
}

const std::vector<std::string>& MetricArmMethods() {
  static const std::vector<std::string> kMethods = {"GET", "PUT", "DELETE", "POST"};
  return kMethods;
}

const std::vector<std::string>& MetricArmCodes() {
  static const std::vector<std::string> kCodes = {"0",   "200", "201", "202", "204", "400", "401",
                                                  "403", "404", "409", "429", "500", "503"};
  return kCodes;
}

KustodianMetrics::KustodianMetrics(Registry& r, std::string_view version)
    : reconcile_total(r.AddCounter("controller_runtime_reconcile_total",
                                   "Total number of reconciliations per controller and result.",
                                   {"controller", "result"})),
      reconcile_errors(ControllerCounter(r, "controller_runtime_reconcile_errors_total",
                                         "Total number of reconciliation errors per controller.",
                                         "controller")),
      reconcile_time(ControllerHistogram(r, "controller_runtime_reconcile_time_seconds",
                                         "Length of time per reconciliation per controller.",
                                         "controller", DefaultReconcileBuckets())),
      active_workers(ControllerGauge(r, "controller_runtime_active_workers",
                                     "Number of currently used workers per controller.",
                                     "controller")),
      max_concurrent_reconciles(
          ControllerGauge(r, "controller_runtime_max_concurrent_reconciles",
                          "Maximum number of concurrent reconciles per controller.", "controller")),
      workqueue_depth(
          ControllerGauge(r, "workqueue_depth", "Current depth of the workqueue.", "name")),
      workqueue_adds(ControllerCounter(r, "workqueue_adds_total",
                                       "Total number of adds handled by the workqueue.", "name")),
      workqueue_retries(ControllerCounter(r, "workqueue_retries_total",
                                          "Total number of retries handled by the workqueue.",
                                          "name")),
      workqueue_queue_duration(ControllerHistogram(
          r, "workqueue_queue_duration_seconds",
          "How long in seconds an item stays in the workqueue before being requested.", "name",
          WorkQueueDurationBuckets())),
      workqueue_work_duration(
          ControllerHistogram(r, "workqueue_work_duration_seconds",
                              "How long in seconds processing an item from the workqueue takes.",
                              "name", WorkQueueDurationBuckets())),
      workqueue_unfinished_work(ControllerGauge(
          r, "workqueue_unfinished_work_seconds",
          "Seconds of work in progress not yet observed by work_duration; large values indicate "
          "stuck workers.",
          "name")),
      workqueue_longest_running_processor(ControllerGauge(
          r, "workqueue_longest_running_processor_seconds",
          "How many seconds the longest running processor of the workqueue has been running.",
          "name")),
      leader_election_master_status(ControllerGauge(
          r, "leader_election_master_status",
          "1 if this replica holds the leader lease named by 'name', 0 if it is a backup.",
          "name")),
      arm_requests_total(r.AddCounter("kustodian_arm_requests_total",
                                      "ARM requests sent, by HTTP method and status code (code "
                                      "0: transport error, no response).",
                                      {"method", "code"})),
      arm_request_duration(r.AddHistogram("kustodian_arm_request_duration_seconds",
                                          "Latency of ARM requests, by HTTP method.", {"method"},
                                          ArmRequestBuckets())),
      arm_throttled(r.AddCounter("kustodian_arm_throttled_total",
                                 "ARM requests answered with 429 Too Many Requests.")),
      drift_corrections(r.AddCounter(
          "kustodian_drift_corrections_total",
          "Data connections changed back to the manifest after drifting, by kind.", {"kind"})),
      managed_connections(r.AddGauge("kustodian_managed_connections",
                                     "Data connections under management, by kind and state.",
                                     {"kind", "state"})),
      last_resync_timestamp(r.AddGauge("kustodian_last_resync_timestamp_seconds",
                                       "Unix time of the last completed full resync against ARM.")),
      manifest_errors(
          r.AddGauge("kustodian_manifest_errors", "Manifest files that currently fail to load.")),
      eventgrid_events(r.AddCounter("kustodian_eventgrid_events_total",
                                    "Event Grid events received, by event type and outcome.",
                                    {"type", "outcome"})),
      pending_deletes(r.AddGauge("kustodian_pending_deletes",
                                 "Deletes of unmanaged data connections held back by the prune "
                                 "guard.")),
      build_info(r.AddGauge("kustodian_build_info", "Build information; the value is always 1.",
                            {"version"})
                     .WithLabels({std::string(version)})) {
  for (const char* result : {kResultSuccess, kResultError, kResultRequeue, kResultRequeueAfter}) {
    ReconcileResult(result);
  }
  leader_election_master_status.Set(0);
  for (const std::string& method : MetricArmMethods()) {
    arm_request_duration.WithLabels({method});
    for (const std::string& code : MetricArmCodes()) {
      arm_requests_total.WithLabels({method, code});
    }
  }
  for (const std::string& kind : MetricConnectionKinds()) {
    drift_corrections.WithLabels({kind});
    for (const char* state : {kStateReady, kStateReconciling, kStateStalled}) {
      managed_connections.WithLabels({kind, state});
    }
  }
  for (const std::string& type : EventGridTypes()) {
    for (const std::string& outcome : EventGridOutcomes()) {
      eventgrid_events.WithLabels({type, outcome});
    }
  }
  build_info.Set(1);
}

}  // namespace kustodian
