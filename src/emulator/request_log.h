// The emulator's request log and counters, read through the admin endpoint
// (GET /_admin/requests, GET /_admin/stats) so tests and benchmarks can see exactly what a
// client sent: how many PUTs, polls and LISTs, which faults fired, what was throttled.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace kustodian::emulator {

struct RequestRecord {
  int64_t seq = 0;  // assigned by RequestLog::Add, from 1
  std::string method;
  std::string path;
  std::string api_version;
  std::string route;  // "PUT dataConnection", ...
  int status = 0;     // 0 = connection dropped
  absl::Time time;
  std::string client_request_id;
  std::string correlation_id;
  std::string fault;  // injected fault kind, "" = none
  bool throttled = false;
  // Who called: for ARM calls the authenticated caller (the token's oid, else its appid; "dev"
  // for the dev token; "anonymous" without auth or when it failed); for a token request the
  // client_id of its form; "anonymous" otherwise.
  std::string principal;
};

// Not thread-safe (the Emulator guards it). Keeps the last `capacity` records.
class RequestLog {
 public:
  explicit RequestLog(size_t capacity = 10000) : capacity_(capacity) {}

  // Records `record` (seq assigned) and counts it. Returns the seq.
  int64_t Add(RequestRecord record);
  // {"requests":[...records with seq > since...], "lastSeq": N}.
  nlohmann::ordered_json RequestsSince(int64_t since) const;
  // {"total", "byMethod", "byRoute", "byStatus", "faultsInjected": {kind: n}, "faultsTotal",
  //  "throttled"} since the last ResetStats.
  nlohmann::ordered_json Stats() const;
  void ResetStats();

 private:
  size_t capacity_;
  std::deque<RequestRecord> records_;
  int64_t next_seq_ = 1;
  int64_t total_ = 0;
  std::map<std::string, int64_t> by_method_;
  std::map<std::string, int64_t> by_route_;
  std::map<std::string, int64_t> by_status_;
  std::map<std::string, int64_t> faults_;
  int64_t faults_total_ = 0;
  int64_t throttled_ = 0;
};

}  // namespace kustodian::emulator
