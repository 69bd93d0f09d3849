// Long-running operations: each PUT/PATCH/DELETE of a data connection starts one that finishes
// `lro_duration` after it began (checked lazily against the injected Clock), and the status
// monitor reports it the way Kusto does (status Running -> Succeeded/Failed, operationState
// InProgress -> Completed).
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "src/emulator/eventgrid_events.h"
#include "src/emulator/http_util.h"

namespace kustodian::emulator {

enum class OpKind { kCreate, kUpdate, kDelete };

struct Operation {
  std::string id;
  OpKind kind = OpKind::kCreate;
  std::string connection_key;
  std::string cluster_key;
  std::string subscription;
  std::string location;  // the cluster's display name
  std::string api_version;
  std::string resource_id;  // the connection's response id
  absl::Time start;
  absl::Time due;  // when it completes
  std::optional<absl::Time> end;
  std::string status = "Running";  // "Succeeded" / "Failed" once terminal
  bool will_fail = false;
  std::string error_code;  // when Failed
  std::string error_message;
  ChangeContext change;  // describes the change in its Event Grid event when it completes

  bool Running() const { return status == "Running"; }
};

// Kusto's operationKind, e.g. "DataConnectionCreate".
std::string_view OperationKindName(OpKind kind);

// Not thread-safe (the Emulator guards it). Keeps every running operation and the most recent
// `max_finished` finished ones (older ones are forgotten; polling them then gives 404).
class OperationTable {
 public:
  explicit OperationTable(size_t max_finished = 10000) : max_finished_(max_finished) {}

  // Records a new running operation; returns it.
  Operation& Start(Operation op);
  // The operation with `id` (case-insensitive), or nullptr.
  const Operation* Find(std::string_view id) const;
  // Marks every running operation whose due time is <= now as terminal (Succeeded, or Failed when
  // will_fail) and returns copies, in due order, so the caller can apply their effects.
  // O(completed) per call.
  std::vector<Operation> CompleteDue(absl::Time now);
  // True when an operation on the cluster (ClusterKey) is running.
  bool ClusterBusy(const std::string& cluster_key) const;
  // Every remembered operation, oldest start first.
  std::vector<const Operation*> All() const;

 private:
  size_t max_finished_;
  uint64_t next_seq_ = 0;
  std::map<std::string, Operation> ops_;                   // lower-case id ->
  std::map<uint64_t, std::string> by_start_;               // start order -> id key
  std::multimap<absl::Time, std::string> running_by_due_;  // due -> id key (running only)
  std::map<std::string, int> running_per_cluster_;         // cluster key -> running count
  std::deque<std::string> finished_;                       // id keys, completion order
  std::map<std::string, uint64_t> seq_of_;                 // id key -> start seq
};

// The status monitor body: {id, name, status, startTime, endTime, percentComplete, properties
// [, error]}. `location_in_path` is the location segment the client polled.
OrderedJson OperationStatusBody(const Operation& op, std::string_view location_in_path,
                                absl::Time now);

}  // namespace kustodian::emulator
