#include "src/emulator/request_log.h"

#include "src/emulator/time_format.h"

namespace kustodian::emulator {

int64_t RequestLog::Add(RequestRecord record) {
  record.seq = next_seq_++;
  ++total_;
  ++by_method_[record.method];
  ++by_route_[record.route];
  ++by_status_[std::to_string(record.status)];
  if (!record.fault.empty()) {
    ++faults_[record.fault];
    ++faults_total_;
  }
  if (record.throttled) {
    ++throttled_;
  }
  int64_t seq = record.seq;
  records_.push_back(std::move(record));
  while (records_.size() > capacity_) {
    records_.pop_front();
  }
  return seq;
}

nlohmann::ordered_json RequestLog::RequestsSince(int64_t since) const {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const RequestRecord& r : records_) {
    if (r.seq <= since) {
      continue;
    }
    nlohmann::ordered_json item = {{"seq", r.seq},
                                   {"method", r.method},
                                   {"path", r.path},
                                   {"apiVersion", r.api_version},
                                   {"route", r.route},
                                   {"status", r.status},
                                   {"time", FormatArmTime(r.time)},
                                   {"clientRequestId", r.client_request_id},
                                   {"correlationId", r.correlation_id},
                                   {"fault", r.fault},
                                   {"throttled", r.throttled},
                                   {"principal", r.principal}};
    list.push_back(std::move(item));
  }
  nlohmann::ordered_json out;
  out["requests"] = std::move(list);
  out["lastSeq"] = next_seq_ - 1;
  return out;
}

nlohmann::ordered_json RequestLog::Stats() const {
  nlohmann::ordered_json out;
  out["total"] = total_;
  out["byMethod"] = by_method_;
  out["byRoute"] = by_route_;
  out["byStatus"] = by_status_;
  out["faultsInjected"] = faults_;
  out["faultsTotal"] = faults_total_;
  out["throttled"] = throttled_;
  return out;
}

void RequestLog::ResetStats() {
  total_ = 0;
  by_method_.clear();
  by_route_.clear();
  by_status_.clear();
  faults_.clear();
  faults_total_ = 0;
  throttled_ = 0;
}

}  // namespace kustodian::emulator
