#include "src/emulator/throttle.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "src/core/strings.h"

namespace kustodian::emulator {

std::string_view OpTypeHeaderName(OpType type) {
  switch (type) {
    case OpType::kWrite:
      return "writes";
    case OpType::kDelete:
      return "deletes";
    case OpType::kRead:
      break;
  }
  return "reads";
}

BucketLimit Throttler::Limit(OpType type, bool global) const {
  BucketLimit limit = type == OpType::kRead    ? options_.reads
                      : type == OpType::kWrite ? options_.writes
                                               : options_.deletes;
  limit.refill_per_second *= options_.refill_scale;
  if (global) {
    limit.capacity *= options_.global_multiplier;
    limit.refill_per_second *= options_.global_multiplier;
  }
  return limit;
}

Throttler::Bucket& Throttler::Get(const std::string& key, const BucketLimit& limit,
                                  absl::Time now) {
  auto [it, inserted] = buckets_.try_emplace(key);
  Bucket& bucket = it->second;
  if (inserted) {
    bucket.tokens = limit.capacity;
    bucket.last = now;
  } else if (now > bucket.last) {
    double elapsed = absl::ToDoubleSeconds(now - bucket.last);
    bucket.tokens = std::min(limit.capacity, bucket.tokens + elapsed * limit.refill_per_second);
    bucket.last = now;
  }
  return bucket;
}

namespace {

absl::Duration WaitForOneToken(double tokens, double refill_per_second) {
  if (refill_per_second <= 0) {
    return absl::Seconds(3600);
  }
  double seconds = std::ceil((1.0 - tokens) / refill_per_second);
  return absl::Seconds(std::max(1.0, seconds));
}

}  // namespace

ThrottleDecision Throttler::Take(std::string_view subscription, std::string_view principal,
                                 OpType type, absl::Time now) {
  BucketLimit own_limit = Limit(type, false);
  BucketLimit global_limit = Limit(type, true);
  ThrottleDecision decision;
  if (!options_.enabled) {
    decision.remaining = static_cast<int>(own_limit.capacity) - 1;
    decision.global_remaining = static_cast<int>(global_limit.capacity) - 1;
    return decision;
  }
  std::string sub = absl::AsciiStrToLower(Av(subscription));
  std::string type_name(OpTypeHeaderName(type));
  Bucket& own = Get(absl::StrCat(sub, "|", Av(principal), "|", type_name), own_limit, now);
  Bucket& global = Get(absl::StrCat(sub, "|*|", type_name), global_limit, now);
  if (own.tokens < 1.0 || global.tokens < 1.0) {
    decision.allowed = false;
    absl::Duration own_wait = own.tokens < 1.0
                                  ? WaitForOneToken(own.tokens, own_limit.refill_per_second)
                                  : absl::ZeroDuration();
    absl::Duration global_wait =
        global.tokens < 1.0 ? WaitForOneToken(global.tokens, global_limit.refill_per_second)
                            : absl::ZeroDuration();
    decision.retry_after = std::max(own_wait, global_wait);
    decision.global_limited = global.tokens < 1.0;
  } else {
    own.tokens -= 1.0;
    global.tokens -= 1.0;
  }
  decision.remaining = static_cast<int>(std::floor(own.tokens));
  decision.global_remaining = static_cast<int>(std::floor(global.tokens));
  return decision;
}

}  // namespace kustodian::emulator
