// LeaderElector loop, after client-go's leaderelection: tryAcquireOrRenew reads the Lease,
// judges expiry by the time this candidate last saw the record change (observedTime), and writes
// with the read resourceVersion as a precondition, so at most one candidate wins each round.
#include "src/kube/leader_election.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "src/kube/backoff.h"
#include "src/kube/kube_time.h"

namespace kustodian::kube {
namespace {

int64_t LeaseSeconds(absl::Duration d) {
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(d))));
}

std::string SpecString(const nlohmann::json& spec, const char* field) {
  auto it = spec.find(field);
  return it != spec.end() && it->is_string() ? it->get<std::string>() : "";
}

int64_t SpecInt(const nlohmann::json& spec, const char* field) {
  auto it = spec.find(field);
  return it != spec.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

}  // namespace

LeaderElector::LeaderElector(KubeClient& client, Clock& clock, Logger& logger,
                             LeaderElectionConfig config, LeaderCallbacks callbacks)
    : client_(client),
      clock_(clock),
      logger_(logger),
      config_(std::move(config)),
      callbacks_(std::move(callbacks)) {}

LeaderElector::~LeaderElector() { Stop(); }

void LeaderElector::Start() {
  if (thread_.joinable()) {
    return;
  }
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void LeaderElector::Stop() {
  stop_ = true;
  if (thread_.joinable()) {
    thread_.join();
  }
}

std::string LeaderElector::CurrentHolder() const {
  std::lock_guard<std::mutex> lock(mu_);
  return holder_;
}

void LeaderElector::ObserveHolder(const std::string& holder) {
  bool changed = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    changed = holder != holder_;
    holder_ = holder;
  }
  if (changed && !holder.empty()) {
    logger_.Info("lease holder", {{"lease", LeaseKey()}, {"holder", holder}});
    if (callbacks_.on_new_leader) {
      callbacks_.on_new_leader(holder);
    }
  }
}

std::string LeaderElector::LeaseKey() const {
  return absl::StrCat(config_.lease_namespace, "/", config_.lease_name);
}

bool LeaderElector::TryAcquireOrRenew() {
  const absl::Time now = clock_.Now();
  const std::string now_text = FormatMicroTime(now);
  absl::StatusOr<nlohmann::json> lease =
      client_.Get(LeaseGvr(), config_.lease_namespace, config_.lease_name);
  if (kube::IsNotFound(lease.status())) {
    nlohmann::json object = {
        {"apiVersion", "coordination.k8s.io/v1"},
        {"kind", "Lease"},
        {"metadata", {{"name", config_.lease_name}, {"namespace", config_.lease_namespace}}},
        {"spec",
         {{"holderIdentity", config_.identity},
          {"leaseDurationSeconds", LeaseSeconds(config_.lease_duration)},
          {"acquireTime", now_text},
          {"renewTime", now_text},
          {"leaseTransitions", 0}}}};
    absl::StatusOr<nlohmann::json> created =
        client_.Create(LeaseGvr(), config_.lease_namespace, object);
    if (!created.ok()) {
      if (!kube::IsAlreadyExists(created.status())) {
        logger_.Warn("cannot create the lease",
                     {{"lease", LeaseKey()}, {"error", std::string(created.status().message())}});
      }
      return false;  // someone else created it first: look again next round
    }
    observed_spec_ = (*created)["spec"];
    observed_time_ = now;
    ObserveHolder(config_.identity);
    return true;
  }
  if (!lease.ok()) {
    logger_.Warn("cannot read the lease",
                 {{"lease", LeaseKey()}, {"error", std::string(lease.status().message())}});
    return false;
  }
  nlohmann::json spec = lease->value("spec", nlohmann::json::object());
  if (!spec.is_object()) {
    spec = nlohmann::json::object();
  }
  if (spec != observed_spec_) {
    observed_spec_ = spec;
    observed_time_ = now;
  }
  const std::string holder = SpecString(spec, "holderIdentity");
  ObserveHolder(holder);
  const absl::Duration duration = absl::Seconds(SpecInt(spec, "leaseDurationSeconds"));
  const bool mine = holder == config_.identity;
  if (!holder.empty() && !mine && observed_time_ + duration > now) {
    return false;  // held by someone who renewed within its lease duration, as far as we saw
  }
  nlohmann::json next = spec;
  next["holderIdentity"] = config_.identity;
  next["leaseDurationSeconds"] = LeaseSeconds(config_.lease_duration);
  next["renewTime"] = now_text;
  if (!mine || SpecString(spec, "acquireTime").empty()) {
    next["acquireTime"] = now_text;
  }
  next["leaseTransitions"] = SpecInt(spec, "leaseTransitions") + (mine ? 0 : 1);
  nlohmann::json updated_object = *lease;
  updated_object["spec"] = next;
  absl::StatusOr<nlohmann::json> updated =
      client_.Update(LeaseGvr(), config_.lease_namespace, updated_object);
  if (!updated.ok()) {
    if (!IsConflict(updated.status())) {
      logger_.Warn("cannot update the lease",
                   {{"lease", LeaseKey()}, {"error", std::string(updated.status().message())}});
    }
    return false;
  }
  observed_spec_ = updated->value("spec", next);
  observed_time_ = now;
  ObserveHolder(config_.identity);
  return true;
}

void LeaderElector::Release() {
  absl::StatusOr<nlohmann::json> lease =
      client_.Get(LeaseGvr(), config_.lease_namespace, config_.lease_name);
  if (!lease.ok()) {
    logger_.Warn("cannot read the lease to release it",
                 {{"lease", LeaseKey()}, {"error", std::string(lease.status().message())}});
    return;
  }
  nlohmann::json object = *lease;
  nlohmann::json& spec = object["spec"];
  if (!spec.is_object() || SpecString(spec, "holderIdentity") != config_.identity) {
    return;  // no longer ours
  }
  const std::string now_text = FormatMicroTime(clock_.Now());
  spec["holderIdentity"] = "";
  spec["leaseDurationSeconds"] = 1;
  spec["renewTime"] = now_text;
  spec["acquireTime"] = now_text;
  absl::Status status = client_.Update(LeaseGvr(), config_.lease_namespace, object).status();
  if (!status.ok()) {
    logger_.Warn("cannot release the lease",
                 {{"lease", LeaseKey()}, {"error", std::string(status.message())}});
    return;
  }
  ObserveHolder("");
  logger_.Info("released the lease", {{"lease", LeaseKey()}});
}

void LeaderElector::Run() {
  while (!stop_.load()) {
    // Candidate: try every retry_period until the lease is ours.
    bool acquired = false;
    while (!stop_.load()) {
      if (TryAcquireOrRenew()) {
        acquired = true;
        break;
      }
      SleepUnlessStopped(clock_, stop_, config_.retry_period);
    }
    if (!acquired) {
      break;
    }
    leader_ = true;
    logger_.Info("became the leader", {{"lease", LeaseKey()}, {"identity", config_.identity}});
    if (callbacks_.on_started_leading) {
      callbacks_.on_started_leading();
    }
    // Leader: renew every retry_period; give up when no renewal succeeded for renew_deadline.
    absl::Time last_renew = clock_.Now();
    while (SleepUnlessStopped(clock_, stop_, config_.retry_period)) {
      if (TryAcquireOrRenew()) {
        last_renew = clock_.Now();
        continue;
      }
      if (clock_.Now() - last_renew >= config_.renew_deadline) {
        break;
      }
    }
    if (stop_.load()) {
      Release();
    } else {
      logger_.Warn("lost the leadership: the lease was not renewed within the renew deadline",
                   {{"lease", LeaseKey()}, {"identity", config_.identity}});
    }
    leader_ = false;
    if (callbacks_.on_stopped_leading) {
      callbacks_.on_stopped_leading();
    }
  }
}

}  // namespace kustodian::kube
