// Fault injection: rules that make matching requests fail the way ARM and networks do (429 with
// or without Retry-After, 500, 503, 504, a dropped connection, added latency) or make the
// long-running operation a write starts end as Failed (lro-fail). Rules fire with a probability
// or on each of the next N matching calls, optionally only for one method / path substring.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "src/emulator/ids.h"
#include "src/http/server.h"

namespace kustodian::emulator {

enum class FaultKind { k429, k429NoRetryAfter, k500, k503, k504, kDrop, kLatency, kLroFail };

// "429", "429-no-retry-after", "500", "503", "504", "drop", "latency", "lro-fail".
std::string_view FaultKindName(FaultKind kind);

struct FaultRule {
  int id = 0;  // assigned by FaultInjector::Add
  FaultKind kind = FaultKind::k500;
  double probability = 1.0;   // used when count == 0
  int count = 0;              // > 0: fires on each of the next `count` matching calls, then expires
  std::string method;         // "" = any method (case-insensitive)
  std::string path_contains;  // "" = any path (case-insensitive substring)
  absl::Duration latency;     // kLatency: the added delay
  int retry_after_seconds = 1;  // k429: the Retry-After value
};

// Parses a --fault spec: KIND[=ARG]:WHEN[:METHOD[:PATH]], WHEN = a probability in [0,1] or
// xN ("the next N calls"); ARG = Retry-After seconds for 429, milliseconds for latency
// (required). Examples: "503:0.1", "429=5:x3:PUT", "latency=200:1",
// "drop:x1:GET:/operationResults/". InvalidArgument saying what is wrong otherwise.
absl::StatusOr<FaultRule> ParseFaultSpec(std::string_view spec);

// Parses the admin API's JSON: one object or an array of them, each either {"spec": "..."} or
// {"kind", "probability"?, "count"?, "method"?, "path"?, "latencyMs"?, "retryAfter"?}.
absl::StatusOr<std::vector<FaultRule>> FaultRulesFromJson(const nlohmann::json& body);
nlohmann::json FaultRuleToJson(const FaultRule& rule);

struct FaultDecision {
  absl::Duration latency;          // total added delay (0 = none)
  std::optional<FaultRule> error;  // the error rule that fired, if any
};

// Not thread-safe (the Emulator guards it).
class FaultInjector {
 public:
  // Adds `rule` and returns its id.
  int Add(FaultRule rule);
  void Clear() { rules_.clear(); }
  const std::vector<FaultRule>& Rules() const { return rules_; }

  // Decides for one request: every matching latency rule that fires adds its delay; the first
  // matching 429/5xx/drop rule that fires is returned. Fired count rules are used up.
  FaultDecision Decide(std::string_view method, std::string_view path, RandomSource& rng);
  // True when a matching lro-fail rule fires for this write (used up like any rule).
  bool TakeLroFailure(std::string_view method, std::string_view path, RandomSource& rng);

 private:
  bool Fires(FaultRule& rule, std::string_view method, std::string_view path, RandomSource& rng);
  void DropExpired();

  std::vector<FaultRule> rules_;
  int next_id_ = 1;
};

// The response an error rule produces (ARM error body, Retry-After for 429, or a dropped
// connection).
ServerResponse FaultResponse(const FaultRule& rule);

}  // namespace kustodian::emulator
