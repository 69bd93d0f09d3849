#include "tests/fakes/fake_arm_client.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "src/core/status.h"

namespace kustodian {
namespace {

LiveConnection LiveFromSpec(const DataConnectionSpec& spec, std::string state) {
  LiveConnection live;
  live.id = spec.id;
  live.location = spec.location;
  live.kind_name = std::string(KindName(spec.kind));
  live.kind = spec.kind;
  live.properties = spec.properties;
  live.provisioning_state = std::move(state);
  return live;
}

absl::Status NotFound(const DataConnectionId& id) {
  absl::Status status = absl::NotFoundError(
      absl::StrCat("The resource with identifier '", id.ResponseId(), "' is not found."));
  SetArmErrorCode(status, "ResourceNotFound");
  return status;
}

}  // namespace

void FakeArmClient::SetConnection(const LiveConnection& live) {
  std::lock_guard<std::mutex> lock(mu_);
  connections_[live.id.Key()] = live;
}

void FakeArmClient::RemoveConnection(const DataConnectionId& id) {
  std::lock_guard<std::mutex> lock(mu_);
  connections_.erase(id.Key());
}

std::optional<LiveConnection> FakeArmClient::GetConnection(const DataConnectionId& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = connections_.find(id.Key());
  if (it == connections_.end()) {
    return std::nullopt;
  }
  return it->second;
}

size_t FakeArmClient::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return connections_.size();
}

void FakeArmClient::SetPutPolls(int polls) {
  std::lock_guard<std::mutex> lock(mu_);
  put_polls_ = polls;
}

void FakeArmClient::SetDeletePolls(int polls) {
  std::lock_guard<std::mutex> lock(mu_);
  delete_polls_ = polls;
}

void FakeArmClient::SetPollRetryAfter(absl::Duration wait) {
  std::lock_guard<std::mutex> lock(mu_);
  poll_retry_after_ = wait;
}

void FakeArmClient::SetNextOperationOutcome(absl::Status outcome) {
  std::lock_guard<std::mutex> lock(mu_);
  next_outcome_ = std::move(outcome);
}

void FakeArmClient::InjectError(Method method, absl::Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  injected_[method].push_back(std::move(status));
}

void FakeArmClient::InjectNextError(absl::Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  injected_any_.push_back(std::move(status));
}

void FakeArmClient::SetValidationErrors(std::vector<std::string> errors) {
  std::lock_guard<std::mutex> lock(mu_);
  validation_errors_ = std::move(errors);
}

int FakeArmClient::calls(Method method) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = calls_.find(method);
  return it == calls_.end() ? 0 : it->second;
}

int FakeArmClient::total_calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  int total = 0;
  for (const auto& [method, count] : calls_) {
    total += count;
  }
  return total;
}

std::vector<DataConnectionSpec> FakeArmClient::put_specs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return put_specs_;
}

std::vector<DataConnectionId> FakeArmClient::deleted_ids() const {
  std::lock_guard<std::mutex> lock(mu_);
  return deleted_ids_;
}

size_t FakeArmClient::pending_operations() const {
  std::lock_guard<std::mutex> lock(mu_);
  return operations_.size();
}

absl::Status FakeArmClient::BeginCall(Method method) {
  ++calls_[method];
  if (!injected_any_.empty()) {
    absl::Status status = std::move(injected_any_.front());
    injected_any_.pop_front();
    return status;
  }
  auto it = injected_.find(method);
  if (it != injected_.end() && !it->second.empty()) {
    absl::Status status = std::move(it->second.front());
    it->second.pop_front();
    return status;
  }
  return absl::OkStatus();
}

ArmOperation FakeArmClient::StartOperation(PendingOp pending) {
  ArmOperation op;
  op.verb = pending.verb;
  op.id = pending.id;
  op.async_url = absl::StrCat("https://fake-arm.invalid/operations/", next_operation_++);
  op.api_version = "fake";
  op.started = clock_ != nullptr ? clock_->Now() : absl::UnixEpoch();
  pending.outcome = next_outcome_.value_or(absl::OkStatus());
  next_outcome_.reset();
  operations_[op.async_url] = std::move(pending);
  return op;
}

absl::StatusOr<LiveConnection> FakeArmClient::Get(const DataConnectionId& id) {
  std::lock_guard<std::mutex> lock(mu_);
  KUS_RETURN_IF_ERROR(BeginCall(Method::kGet));
  auto it = connections_.find(id.Key());
  if (it == connections_.end()) {
    return NotFound(id);
  }
  return it->second;
}

absl::StatusOr<std::vector<LiveConnection>> FakeArmClient::List(const DatabaseId& db) {
  std::lock_guard<std::mutex> lock(mu_);
  KUS_RETURN_IF_ERROR(BeginCall(Method::kList));
  std::vector<LiveConnection> out;
  for (const auto& [key, live] : connections_) {
    if (live.id.Database() == db) {
      out.push_back(live);
    }
  }
  return out;
}

absl::StatusOr<WriteResult> FakeArmClient::Put(const DataConnectionSpec& spec) {
  std::lock_guard<std::mutex> lock(mu_);
  KUS_RETURN_IF_ERROR(BeginCall(Method::kPut));
  put_specs_.push_back(spec);
  WriteResult result;
  result.client_request_id = absl::StrCat("fake-put-", put_specs_.size());
  result.correlation_id = result.client_request_id;
  std::string key = spec.id.Key();
  auto existing = connections_.find(key);
  std::optional<LiveConnection> previous;
  if (existing != connections_.end()) {
    previous = existing->second;
  }
  if (put_polls_ <= 0) {
    if (next_outcome_.has_value()) {
      absl::Status outcome = std::move(*next_outcome_);
      next_outcome_.reset();
      KUS_RETURN_IF_ERROR(outcome);
    }
    LiveConnection live = LiveFromSpec(spec, "Succeeded");
    connections_[key] = live;
    result.resource = std::move(live);
    return result;
  }
  LiveConnection pending_live = LiveFromSpec(spec, previous ? "Updating" : "Creating");
  connections_[key] = pending_live;
  result.resource = pending_live;
  PendingOp pending{
      ArmOperation::Verb::kPut, spec.id, LiveFromSpec(spec, "Succeeded"), previous, put_polls_,
      absl::OkStatus()};
  result.operation = StartOperation(std::move(pending));
  result.operation->correlation_id = result.correlation_id;
  return result;
}

absl::StatusOr<WriteResult> FakeArmClient::Delete(const DataConnectionId& id) {
  std::lock_guard<std::mutex> lock(mu_);
  KUS_RETURN_IF_ERROR(BeginCall(Method::kDelete));
  deleted_ids_.push_back(id);
  WriteResult result;
  result.client_request_id = absl::StrCat("fake-delete-", deleted_ids_.size());
  result.correlation_id = result.client_request_id;
  auto it = connections_.find(id.Key());
  if (it == connections_.end()) {
    result.existed = false;
    return result;
  }
  if (delete_polls_ <= 0) {
    if (next_outcome_.has_value()) {
      absl::Status outcome = std::move(*next_outcome_);
      next_outcome_.reset();
      KUS_RETURN_IF_ERROR(outcome);
    }
    connections_.erase(it);
    return result;
  }
  PendingOp pending{
      ArmOperation::Verb::kDelete, id, std::nullopt, it->second, delete_polls_, absl::OkStatus()};
  it->second.provisioning_state = "Deleting";
  result.operation = StartOperation(std::move(pending));
  result.operation->correlation_id = result.correlation_id;
  return result;
}

absl::StatusOr<PollResult> FakeArmClient::Poll(const ArmOperation& op) {
  std::lock_guard<std::mutex> lock(mu_);
  KUS_RETURN_IF_ERROR(BeginCall(Method::kPoll));
  auto it = operations_.find(op.async_url);
  if (it == operations_.end()) {
    return absl::NotFoundError(absl::StrCat("FakeArmClient: no operation ", op.async_url));
  }
  PendingOp& pending = it->second;
  PollResult result;
  if (--pending.polls_left > 0) {
    result.done = false;
    result.retry_after = poll_retry_after_;
    return result;
  }
  result.done = true;
  result.outcome = pending.outcome;
  std::string key = pending.id.Key();
  if (!pending.outcome.ok()) {
    if (pending.previous.has_value()) {
      connections_[key] = *pending.previous;
    } else {
      connections_.erase(key);
    }
  } else if (pending.verb == ArmOperation::Verb::kPut) {
    connections_[key] = *pending.final_state;
    result.resource = pending.final_state;
  } else {
    connections_.erase(key);
  }
  operations_.erase(it);
  return result;
}

absl::StatusOr<std::vector<std::string>> FakeArmClient::Validate(const DataConnectionSpec&) {
  std::lock_guard<std::mutex> lock(mu_);
  KUS_RETURN_IF_ERROR(BeginCall(Method::kValidate));
  return validation_errors_;
}

}  // namespace kustodian
