#include "controller/resync.h"

#include <algorithm>
#include <iterator>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "src/arm/rate_limiter.h"
#include "src/core/status.h"
#include "src/metrics/kustodian_metrics.h"

namespace kustodian {
namespace {

constexpr absl::Duration kMaxErrorBackoffWhenOff = absl::Minutes(5);

}  // namespace

ResyncLoop::ResyncLoop(ResyncDeps deps, ResyncOptions options)
    : deps_(std::move(deps)), options_(options) {}

ResyncLoop::~ResyncLoop() { Stop(); }

std::map<std::string, DatabaseId> ResyncLoop::KnownDatabases() const {
  // From the stores' database indexes: copying the whole journal here (every loop round and
  // every resync) cost O(connections) per database.
  std::map<std::string, DatabaseId> out;
  for (auto& [db_key, db] : deps_.desired.DatabasesByKey()) {
    out.emplace(std::move(db_key), std::move(db));
  }
  for (auto& [db_key, db] : deps_.journal.Databases()) {
    out.emplace(db_key, std::move(db));
  }
  return out;
}

std::vector<std::string> ResyncLoop::KeysOf(const std::string& db_key) const {
  std::vector<std::string> keys = deps_.desired.ForDatabase(db_key);
  std::vector<std::string> managed = deps_.journal.KeysOfDatabase(db_key);
  keys.insert(keys.end(), std::make_move_iterator(managed.begin()),
              std::make_move_iterator(managed.end()));
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

absl::Duration ResyncLoop::IntervalFor(const std::string& db_key) const {
  if (options_.interval <= absl::ZeroDuration()) {
    return absl::ZeroDuration();
  }
  const absl::Duration shortest = deps_.desired.MinResyncInterval(db_key);  // copies no spec
  return shortest > absl::ZeroDuration() ? std::min(options_.interval, shortest)
                                         : options_.interval;
}

absl::Duration ResyncLoop::Jittered(absl::Duration d) {
  std::lock_guard<std::mutex> lock(mu_);
  double factor = absl::Uniform(rng_, 1.0 - options_.jitter, 1.0 + options_.jitter);
  return d * factor;
}

int ResyncLoop::RunDue() {
  std::lock_guard<std::mutex> run_lock(run_mu_);
  const std::map<std::string, DatabaseId> known = KnownDatabases();
  std::vector<std::pair<std::string, DatabaseId>> due;
  {
    const absl::Time now = deps_.clock.Now();
    std::unique_lock<std::mutex> lock(mu_);
    for (auto it = schedule_.begin(); it != schedule_.end();) {
      it = known.count(it->first) == 0 ? schedule_.erase(it) : std::next(it);
    }
    for (const auto& [db_key, db] : known) {
      auto it = schedule_.find(db_key);
      if (it == schedule_.end()) {
        // First sight: due now unless someone (a worker) listed it already.
        std::optional<absl::Time> listed = deps_.live.ListedAt(db_key);
        absl::Duration interval = IntervalFor(db_key);
        absl::Time next = now;
        if (listed) {
          lock.unlock();
          next = interval > absl::ZeroDuration() ? *listed + Jittered(interval)
                                                 : absl::InfiniteFuture();
          lock.lock();
        }
        it = schedule_.emplace(db_key, Schedule{next, 0}).first;
      }
      if (now >= it->second.next_due) {
        due.emplace_back(db_key, db);
      }
    }
  }

  int listed = 0;
  for (const auto& [db_key, db] : due) {
    LiveCache::RefreshResult refreshed;
    absl::Status status = deps_.live.Refresh(db, deps_.arm, &refreshed);
    const absl::Time now = deps_.clock.Now();
    const absl::Duration interval = IntervalFor(db_key);
    if (status.ok()) {
      ++listed;
      absl::Time next =
          interval > absl::ZeroDuration() ? now + Jittered(interval) : absl::InfiniteFuture();
      {
        std::lock_guard<std::mutex> lock(mu_);
        schedule_[db_key] = Schedule{next, 0};
      }
      if (deps_.metrics != nullptr) {
        deps_.metrics->last_resync_timestamp.SetToCurrentTime(deps_.clock);
      }
      EnqueueUnconfirmed(db_key, db, refreshed);
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    Schedule& s = schedule_[db_key];
    if (IsRateLimitWait(status)) {
      // Not sent (the read bucket is empty or a 429 paused reads): list again when a read may
      // go out, neither as a failure (no error backoff) nor as a warning.
      s.next_due = now + GetRetryAfter(status).value_or(absl::Milliseconds(100));
      deps_.logger.Debug("resync LIST waits for ARM's rate limit",
                         {{"database", db.ResponseId()}, {"error", std::string(status.message())}});
      continue;
    }
    ++s.failures;
    absl::Duration cap = interval > absl::ZeroDuration() ? interval : kMaxErrorBackoffWhenOff;
    absl::Duration wait = options_.error_backoff;
    for (int i = 1; i < s.failures && wait < cap; ++i) {
      wait *= 2;
    }
    wait = std::min(wait, cap);
    if (std::optional<absl::Duration> retry_after = GetRetryAfter(status)) {
      wait = std::max(wait, *retry_after);
    }
    s.next_due = now + wait;
    deps_.logger.Warn("resync LIST failed; will retry", {{"database", db.ResponseId()},
                                                         {"error", std::string(status.message())},
                                                         {"retry_in", absl::FormatDuration(wait)}});
  }
  return listed;
}

void ResyncLoop::EnqueueUnconfirmed(const std::string& db_key, const DatabaseId& db,
                                    const LiveCache::RefreshResult& refreshed) {
  std::vector<std::string> keys = KeysOf(db_key);
  std::vector<std::string> confirmed;
  int enqueued = 0;
  for (const std::string& key : keys) {
    // In sync with its current spec at its last reconcile, and this LIST did not change its
    // entry (a change drops the mark): nothing to correct. Managed keys without a manifest, and
    // keys whose last pass ended any other way (failed, pending, waiting, stalled, drifted),
    // are reconciled as always.
    std::optional<std::string> spec_hash = deps_.desired.SpecHash(key);
    if (spec_hash.has_value() && deps_.live.InSyncWith(key, *spec_hash)) {
      confirmed.push_back(key);
      continue;
    }
    ++enqueued;
    if (deps_.enqueue) {
      deps_.enqueue(key);
    }
  }
  if (deps_.status != nullptr && !confirmed.empty()) {
    if (std::optional<absl::Time> listed_at = deps_.live.ListedAt(db_key)) {
      deps_.status->AdvanceSyncTime(confirmed, *listed_at);
    }
  }
  deps_.logger.Debug("resync", {{"database", db.ResponseId()},
                                {"keys", std::to_string(keys.size())},
                                {"enqueued", std::to_string(enqueued)},
                                {"list_unchanged", refreshed.unchanged ? "true" : "false"},
                                {"changed", std::to_string(refreshed.changed.size())}});
}

bool ResyncLoop::AllListed() const { return Unlisted().empty(); }

std::vector<std::string> ResyncLoop::Unlisted() const {
  std::vector<std::string> out;
  for (const auto& [db_key, db] : KnownDatabases()) {
    if (!deps_.live.HasListed(db_key)) {
      out.push_back(db_key);
    }
  }
  return out;
}

void ResyncLoop::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) {
    return;
  }
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void ResyncLoop::Wake() {
  std::lock_guard<std::mutex> lock(mu_);
  wake_ = true;
  wake_cv_.notify_all();
}

int ResyncLoop::ListSoon(const std::string& scope) {
  int matched = 0;
  const std::map<std::string, DatabaseId> known = KnownDatabases();
  {
    std::lock_guard<std::mutex> lock(mu_);
    const absl::Time now = deps_.clock.Now();
    for (const auto& [db_key, db] : known) {
      if (db_key == scope || absl::StartsWith(db_key, absl::StrCat(scope, "/"))) {
        schedule_[db_key].next_due = now;
        ++matched;
      }
    }
  }
  if (matched > 0) {
    Wake();
  }
  return matched;
}

void ResyncLoop::Stop() {
  std::thread thread;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    wake_cv_.notify_all();
    thread = std::move(thread_);
  }
  if (thread.joinable()) {
    thread.join();
  }
}

void ResyncLoop::Loop() {
  for (;;) {
    RunDue();
    std::unique_lock<std::mutex> lock(mu_);
    if (stopping_) {
      return;
    }
    // Sleep until the earliest due time (on the Clock), in real-time slices of at most max_wait
    // so that a FakeClock advance is noticed too.
    absl::Duration wait = options_.max_wait;
    const absl::Time now = deps_.clock.Now();
    for (const auto& [db_key, s] : schedule_) {
      wait = std::min(wait, s.next_due - now);
    }
    wait = std::max(wait, absl::Milliseconds(1));
    wake_cv_.wait_for(lock, absl::ToChronoMilliseconds(wait),
                      [this] { return stopping_ || wake_; });
    wake_ = false;
    if (stopping_) {
      return;
    }
  }
}

}  // namespace kustodian
