#include "src/emulator/lro.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "src/core/strings.h"
#include "src/emulator/time_format.h"

namespace kustodian::emulator {

std::string_view OperationKindName(OpKind kind) {
  switch (kind) {
    case OpKind::kUpdate:
      return "DataConnectionUpdate";
    case OpKind::kDelete:
      return "DataConnectionDelete";
    case OpKind::kCreate:
      break;
  }
  return "DataConnectionCreate";
}

Operation& OperationTable::Start(Operation op) {
  std::string key = absl::AsciiStrToLower(op.id);
  uint64_t seq = next_seq_++;
  by_start_[seq] = key;
  seq_of_[key] = seq;
  running_by_due_.emplace(op.due, key);
  ++running_per_cluster_[op.cluster_key];
  Operation& slot = ops_[key];
  slot = std::move(op);
  return slot;
}

const Operation* OperationTable::Find(std::string_view id) const {
  auto it = ops_.find(absl::AsciiStrToLower(Av(id)));
  return it == ops_.end() ? nullptr : &it->second;
}

std::vector<Operation> OperationTable::CompleteDue(absl::Time now) {
  std::vector<Operation> done;
  while (!running_by_due_.empty() && running_by_due_.begin()->first <= now) {
    std::string key = running_by_due_.begin()->second;
    running_by_due_.erase(running_by_due_.begin());
    Operation& op = ops_.at(key);
    op.end = std::max(op.due, op.start);
    if (op.will_fail) {
      op.status = "Failed";
      if (op.error_code.empty()) {
        op.error_code = "EventHubValidationErorFound";
        op.error_message =
            "[BadRequest] Validation Errors found: the operation failed (injected fault).";
      }
    } else {
      op.status = "Succeeded";
    }
    if (--running_per_cluster_[op.cluster_key] == 0) {
      running_per_cluster_.erase(op.cluster_key);
    }
    done.push_back(op);
    finished_.push_back(key);
  }
  while (finished_.size() > max_finished_) {
    const std::string& old = finished_.front();
    by_start_.erase(seq_of_[old]);
    seq_of_.erase(old);
    ops_.erase(old);
    finished_.pop_front();
  }
  return done;
}

bool OperationTable::ClusterBusy(const std::string& cluster_key) const {
  return running_per_cluster_.count(cluster_key) > 0;
}

std::vector<const Operation*> OperationTable::All() const {
  std::vector<const Operation*> out;
  for (const auto& [seq, key] : by_start_) {
    out.push_back(&ops_.at(key));
  }
  return out;
}

OrderedJson OperationStatusBody(const Operation& op, std::string_view location_in_path,
                                absl::Time now) {
  OrderedJson body;
  body["id"] = absl::StrCat("/subscriptions/", op.subscription, "/providers/Microsoft.Kusto/",
                            "locations/", Av(location_in_path), "/operationresults/", op.id);
  body["name"] = op.id;
  body["status"] = op.status;
  body["startTime"] = FormatArmTime(op.start);
  if (op.end.has_value()) {
    body["endTime"] = FormatArmTime(*op.end);
  } else {
    body["endTime"] = nullptr;
  }
  double percent = 100.0;
  if (op.Running()) {
    absl::Duration total = op.due - op.start;
    percent = total <= absl::ZeroDuration()
                  ? 0.0
                  : std::clamp(100.0 * absl::FDivDuration(now - op.start, total), 0.0, 99.0);
  }
  body["percentComplete"] = percent;
  OrderedJson properties = OrderedJson::object();
  if (op.kind != OpKind::kDelete) {
    properties["operationKind"] = std::string(OperationKindName(op.kind));
    properties["provisioningState"] = op.Running() ? "Running" : op.status;
    properties["operationState"] = op.Running()            ? "InProgress"
                                   : op.status == "Failed" ? "BadInput"
                                                           : "Completed";
  }
  body["properties"] = properties;
  if (op.status == "Failed") {
    body["error"] = {{"code", op.error_code}, {"message", op.error_message}};
  }
  return body;
}

}  // namespace kustodian::emulator
