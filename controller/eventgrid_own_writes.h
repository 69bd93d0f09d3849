// Recognising the daemon's own writes when Event Grid reports them back. Every PUT and DELETE
// the ArmClient sends carries a fresh x-ms-correlation-request-id (WriteResult.correlation_id);
// ARM puts that id into data.correlationId of the resource event the write causes (§5.6).
// OwnWrites remembers those ids for a while (bounded in time and count), and
// OwnWriteRecordingArmClient records them around every write. An event that arrives while a
// write of the same key is still in flight (its id is not known yet) is parked and decided when
// the write returns, so a fast event can never be mistaken for drift.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "src/arm/arm_client.h"
#include "src/core/clock.h"

namespace kustodian {

// A set of strings, each remembered for `ttl` after its last Insert, at most `max_entries`
// (the oldest are forgotten first). Thread-safe.
class RecentSet {
 public:
  RecentSet(const Clock& clock, absl::Duration ttl, size_t max_entries);
  // Inserts `value` (refreshing its time). Returns true when it was not present.
  bool Insert(const std::string& value);
  bool Contains(const std::string& value) const;
  size_t Size() const;

 private:
  void ExpireLocked(absl::Time now) const;

  const Clock& clock_;
  const absl::Duration ttl_;
  const size_t max_entries_;
  mutable std::mutex mu_;
  // Insertion order (value, time); stale duplicates are skipped when their time is not the
  // one in `index_`.
  mutable std::deque<std::pair<std::string, absl::Time>> order_;  // guarded by mu_
  mutable std::unordered_map<std::string, absl::Time> index_;     // guarded by mu_
};

struct OwnWritesOptions {
  absl::Duration ttl = absl::Minutes(10);
  size_t max_entries = 100000;
  // A parked event is decided as "not ours" when the write it waits for has not returned after
  // this long (the resolve callback then runs from the next Classify or EndWrite).
  absl::Duration max_park = absl::Seconds(30);
};

// Thread-safe.
class OwnWrites {
 public:
  explicit OwnWrites(const Clock& clock, OwnWritesOptions options = {});

  // Before a write of `key` is sent.
  void BeginWrite(const std::string& key);
  // After it returned: `correlation_id` is the id it was sent with ("" when the write failed
  // before an answer; nothing is remembered then). Decides the events parked for `key`.
  void EndWrite(const std::string& key, const std::string& correlation_id);

  // True when `correlation_id` is one of our remembered writes.
  bool IsOwn(const std::string& correlation_id) const;

  enum class Verdict { kOwn, kForeign, kParked };
  // Classifies an event for `key` carrying `correlation_id`. kParked when the id is unknown but
  // a write of `key` is in flight: `resolve(own)` is called exactly once later (from EndWrite,
  // or after max_park), never under a lock of this class and never from within Classify for
  // this event. Events without a correlation id are kForeign.
  Verdict Classify(const std::string& key, const std::string& correlation_id,
                   std::function<void(bool own)> resolve);

  // Writes in flight and events parked (for tests and /status).
  int InFlight() const;
  int Parked() const;

 private:
  struct ParkedEvent {
    std::string correlation_id;
    absl::Time parked_at;
    std::function<void(bool own)> resolve;
  };
  // Removes parked events older than max_park into *expired.
  void ExpireParkedLocked(absl::Time now, std::vector<std::function<void(bool)>>* expired);

  const Clock& clock_;
  const OwnWritesOptions options_;
  RecentSet ids_;
  mutable std::mutex mu_;
  std::map<std::string, int> in_flight_;                    // guarded by mu_
  std::map<std::string, std::vector<ParkedEvent>> parked_;  // guarded by mu_
};

// An ArmClient that forwards every call to `inner` and records each Put and Delete in `own`.
class OwnWriteRecordingArmClient final : public ArmClient {
 public:
  OwnWriteRecordingArmClient(ArmClient& inner, OwnWrites& own) : inner_(inner), own_(own) {}

  absl::StatusOr<LiveConnection> Get(const DataConnectionId& id) override { return inner_.Get(id); }
  absl::StatusOr<std::vector<LiveConnection>> List(const DatabaseId& db) override {
    return inner_.List(db);
  }
  absl::StatusOr<WriteResult> Put(const DataConnectionSpec& spec) override;
  absl::StatusOr<WriteResult> Delete(const DataConnectionId& id) override;
  absl::StatusOr<PollResult> Poll(const ArmOperation& op) override { return inner_.Poll(op); }
  absl::StatusOr<std::vector<std::string>> Validate(const DataConnectionSpec& spec) override {
    return inner_.Validate(spec);
  }

 private:
  ArmClient& inner_;
  OwnWrites& own_;
};

}  // namespace kustodian
