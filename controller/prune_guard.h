// PruneGuard: a bound on deletions per directory pass (--max-deletes-per-pass), so a bad
// commit that empties the manifest directory deletes at most N connections before someone
// notices. Keys over budget wait for the next pass and are reported (kustodian_pending_deletes).
#pragma once

#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace kustodian {

inline constexpr int kDefaultMaxDeletesPerPass = 10;

// Thread-safe.
class PruneGuard {
 public:
  // `max_per_pass` < 0 means no limit; 0 holds every deletion.
  explicit PruneGuard(int max_per_pass = kDefaultMaxDeletesPerPass) : max_(max_per_pass) {}
  PruneGuard(const PruneGuard&) = delete;
  PruneGuard& operator=(const PruneGuard&) = delete;

  // Starts a new pass: the budget is full again. Held keys stay held until they get budget or
  // are forgotten.
  void BeginPass();
  // Returns true when `key` may be deleted in this pass: it already got budget in this pass,
  // or budget is left (which it then takes). Returns false and holds `key` otherwise.
  bool TryConsume(const std::string& key);
  // `key` no longer waits for a deletion (e.g. its manifest came back).
  void Forget(const std::string& key);
  // Keys waiting for budget, sorted.
  std::vector<std::string> Held() const;
  // Deletions granted in the current pass.
  int Used() const;
  int max_per_pass() const { return max_; }

 private:
  const int max_;
  mutable std::mutex mu_;
  std::set<std::string> granted_;  // guarded by mu_; keys with budget in this pass
  std::set<std::string> held_;     // guarded by mu_
};

}  // namespace kustodian
