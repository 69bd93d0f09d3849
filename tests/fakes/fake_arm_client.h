// FakeArmClient: an in-memory ArmClient for controller tests. Connections are stored by key;
// Put/Delete complete synchronously or return an operation that completes after N polls;
// calls are counted per method; a status can be injected for the next call.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "src/arm/arm_client.h"
#include "src/core/clock.h"

namespace kustodian {

// Thread-safe.
class FakeArmClient final : public ArmClient {
 public:
  enum class Method { kGet, kList, kPut, kDelete, kPoll, kValidate };

  // `clock` (optional) stamps ArmOperation::started; pass the clock the code under test uses.
  explicit FakeArmClient(const Clock* clock = nullptr) : clock_(clock) {}

  // --- World state ---
  // Adds or replaces a connection (keyed by live.id.Key()).
  void SetConnection(const LiveConnection& live);
  void RemoveConnection(const DataConnectionId& id);
  std::optional<LiveConnection> GetConnection(const DataConnectionId& id) const;
  size_t size() const;  // NOLINT(readability-identifier-naming): accessor, used by tests

  // --- Behaviour ---
  // 0 (default): Put completes synchronously (provisioningState Succeeded). N > 0: Put returns
  // an operation; the stored connection shows "Creating"/"Updating" until the N-th Poll.
  void SetPutPolls(int polls);
  // Same for Delete: the connection shows "Deleting" and disappears on the N-th Poll.
  void SetDeletePolls(int polls);
  // PollResult.retry_after while an operation runs (default 1 s).
  void SetPollRetryAfter(absl::Duration wait);
  // The outcome of the next operation started (or of the next synchronous Put/Delete, which
  // then returns it as its error). The stored state is not changed by a failed operation.
  void SetNextOperationOutcome(absl::Status outcome);
  // The next call of `method` returns `status` (queued; one per call).
  void InjectError(Method method, absl::Status status);
  // The next call of any method returns `status` (checked before the per-method queue).
  void InjectNextError(absl::Status status);
  // What Validate returns.
  void SetValidationErrors(std::vector<std::string> errors);

  // --- Observations (accessor-style names, already used by the controller tests) ---
  // NOLINTBEGIN(readability-identifier-naming)
  int calls(Method method) const;
  int total_calls() const;
  // Every spec passed to Put, in order.
  std::vector<DataConnectionSpec> put_specs() const;
  // Every id passed to Delete, in order.
  std::vector<DataConnectionId> deleted_ids() const;
  // Operations started and not yet finished.
  size_t pending_operations() const;
  // NOLINTEND(readability-identifier-naming)

  // --- ArmClient ---
  absl::StatusOr<LiveConnection> Get(const DataConnectionId& id) override;
  absl::StatusOr<std::vector<LiveConnection>> List(const DatabaseId& db) override;
  absl::StatusOr<WriteResult> Put(const DataConnectionSpec& spec) override;
  absl::StatusOr<WriteResult> Delete(const DataConnectionId& id) override;
  // NotFound for an operation this fake did not start (or that already finished).
  absl::StatusOr<PollResult> Poll(const ArmOperation& op) override;
  absl::StatusOr<std::vector<std::string>> Validate(const DataConnectionSpec& spec) override;

 private:
  struct PendingOp {
    ArmOperation::Verb verb;
    DataConnectionId id;
    std::optional<LiveConnection> final_state;  // PUT: the connection once done
    std::optional<LiveConnection> previous;     // restored when the operation fails
    int polls_left = 0;
    absl::Status outcome;
  };
  // The injected error for the call, or OK. Counts the call. Requires mu_.
  absl::Status BeginCall(Method method);
  ArmOperation StartOperation(PendingOp pending);  // requires mu_

  const Clock* const clock_;
  mutable std::mutex mu_;
  std::map<std::string, LiveConnection> connections_;    // guarded by mu_
  std::map<std::string, PendingOp> operations_;          // by async_url; guarded by mu_
  std::map<Method, int> calls_;                          // guarded by mu_
  std::map<Method, std::deque<absl::Status>> injected_;  // guarded by mu_
  std::deque<absl::Status> injected_any_;                // guarded by mu_
  std::optional<absl::Status> next_outcome_;             // guarded by mu_
  std::vector<DataConnectionSpec> put_specs_;            // guarded by mu_
  std::vector<DataConnectionId> deleted_ids_;            // guarded by mu_
  std::vector<std::string> validation_errors_;           // guarded by mu_
  int put_polls_ = 0;                                    // guarded by mu_
  int delete_polls_ = 0;                                 // guarded by mu_
  absl::Duration poll_retry_after_ = absl::Seconds(1);   // guarded by mu_
  int next_operation_ = 1;                               // guarded by mu_
};

}  // namespace kustodian
