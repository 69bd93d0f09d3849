// ARM's request throttling as a token bucket model (arm-kusto-api.md §3.4): one bucket per
// (subscription, principal, operation type) and a global bucket per (subscription, operation
// type) that is `global_multiplier` times larger. Each request takes one token from both.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <tuple>

#include "absl/time/time.h"

namespace kustodian::emulator {

enum class OpType { kRead, kWrite, kDelete };

// "reads", "writes" or "deletes", as used in the x-ms-ratelimit-* header names.
std::string_view OpTypeHeaderName(OpType type);

struct BucketLimit {
  double capacity = 0;           // tokens
  double refill_per_second = 0;  // tokens per second
};

struct ThrottleOptions {
  bool enabled = true;
  BucketLimit reads{250, 25};
  BucketLimit writes{200, 10};
  BucketLimit deletes{200, 10};
  double global_multiplier = 15;  // applies to capacity and refill (refill is an assumption)
  double refill_scale = 1.0;      // multiplies every refill rate (benchmarks)
};

struct ThrottleDecision {
  bool allowed = true;
  int remaining = 0;            // principal bucket, after this request
  int global_remaining = 0;     // subscription-wide bucket, after this request
  absl::Duration retry_after;   // when throttled: whole seconds, at least 1
  bool global_limited = false;  // when throttled: the global bucket was the empty one
};

// Not thread-safe (the Emulator guards it).
class Throttler {
 public:
  explicit Throttler(ThrottleOptions options) : options_(options) {}

  // Takes a token for one request at `now`. When disabled, nothing is taken and the decision
  // reports full buckets minus one. A throttled request takes no token.
  ThrottleDecision Take(std::string_view subscription, std::string_view principal, OpType type,
                        absl::Time now);
  // Forgets every bucket (all become full).
  void Reset() { buckets_.clear(); }

 private:
  struct Bucket {
    double tokens = 0;
    absl::Time last;
  };
  BucketLimit Limit(OpType type, bool global) const;
  Bucket& Get(const std::string& key, const BucketLimit& limit, absl::Time now);

  ThrottleOptions options_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace kustodian::emulator
