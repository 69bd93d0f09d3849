#include "controller/kube_controller.h"

#include <unistd.h>

#include <fstream>
#include <random>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "controller/kube_shard.h"
#include "src/metrics/kustodian_metrics.h"

namespace kustodian {
namespace {

using nlohmann::json;

constexpr int kMaxConflictRetries = 5;

json ConditionJson(const Condition& c, int64_t generation) {
  return {{"type", c.type},
          {"status", c.status},
          {"reason", c.reason.empty() ? std::string("Unknown") : c.reason},
          {"message", Redact(c.message)},
          {"lastTransitionTime", FormatStatusTime(c.last_transition_time)},
          {"observedGeneration", generation}};
}

json WithoutSyncTime(json status) {
  if (status.is_object()) {
    status.erase("lastSyncTime");
  }
  return status;
}

const char* EventAction(ReconcileEvent event) {
  switch (event) {
    case ReconcileEvent::kCreated:
      return "Create";
    case ReconcileEvent::kUpdated:
    case ReconcileEvent::kDriftCorrected:
      return "Update";
    case ReconcileEvent::kDeleted:
      return "Delete";
    case ReconcileEvent::kOrphaned:
    case ReconcileEvent::kAdopted:
    case ReconcileEvent::kFailed:
    case ReconcileEvent::kInvalidSpec:
      return "Reconcile";
  }
  return "Reconcile";
}

// The credentialRef error code a status.last_error ("<code>: <message>") starts with, or "".
std::string CredentialCodeOf(const std::string& last_error) {
  const size_t colon = last_error.find(':');
  if (colon == std::string::npos) {
    return "";
  }
  std::string code = last_error.substr(0, colon);
  return IsCredentialErrorCode(code) ? code : "";
}

}  // namespace

std::string DefaultIdentity() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
    std::snprintf(host, sizeof(host), "kustodian");
  }
  std::random_device rd;
  std::uniform_int_distribution<int> digit(0, 35);
  std::string suffix;
  for (int i = 0; i < 6; ++i) {
    int d = digit(rd);
    suffix.push_back(static_cast<char>(d < 10 ? '0' + d : 'a' + d - 10));
  }
  return absl::StrCat(host, "_", suffix);
}

std::string DefaultLeaseNamespace(const std::string& sa_dir) {
  std::ifstream in(sa_dir + "/namespace");
  std::string ns;
  if (in && std::getline(in, ns)) {
    ns = std::string(absl::StripAsciiWhitespace(ns));
    if (!ns.empty()) {
      return ns;
    }
  }
  return "kustodian-system";
}

json KubeStatusJson(const ConnectionStatus& status, int64_t generation) {
  const int64_t gen = status.observed_generation > 0 ? status.observed_generation : generation;
  json conds = json::array();
  for (const Condition& c : status.conditions) {
    conds.push_back(ConditionJson(c, gen));
  }
  json j = {{"observedGeneration", gen}, {"phase", status.phase}, {"conditions", conds}};
  if (!status.arm_id.empty()) {
    j["armId"] = status.arm_id;
  }
  if (!status.provisioning_state.empty()) {
    j["provisioningState"] = status.provisioning_state;
  }
  if (status.last_sync_time) {
    j["lastSyncTime"] = FormatStatusTime(*status.last_sync_time);
  }
  if (!status.last_error.empty()) {
    j["lastError"] = Redact(status.last_error);
  }
  // A spec.credentialRef failure: the reason says which (the reconciler only knows "ArmError").
  if (const std::string code = CredentialCodeOf(status.last_error);
      !code.empty() && status.phase != kPhaseReady) {
    for (json& c : j["conditions"]) {
      c["reason"] = code;
    }
  }
  return j;
}

json KubeStalledStatus(const std::string& reason, const std::string& message, int64_t generation,
                       absl::Time now) {
  ConnectionStatus s;
  s.observed_generation = generation;
  SetPhase(s, kPhaseStalled, reason, message, now);
  s.last_error = message;
  return KubeStatusJson(s, generation);
}

json KeepTransitionTimes(json desired, const json& current) {
  if (!desired.contains("conditions") || !current.is_object() || !current.contains("conditions") ||
      !current["conditions"].is_array()) {
    return desired;
  }
  for (json& c : desired["conditions"]) {
    for (const json& old : current["conditions"]) {
      if (old.is_object() && old.value("type", "") == c.value("type", "") &&
          old.value("status", "") == c.value("status", "") && old.contains("lastTransitionTime")) {
        c["lastTransitionTime"] = old["lastTransitionTime"];
      }
    }
  }
  return desired;
}

bool SameKubeStatus(const json& a, const json& b) {
  return WithoutSyncTime(a) == WithoutSyncTime(b);
}

KubeController::KubeController(KubeControllerDeps deps, KubeControllerOptions options)
    : deps_(std::move(deps)),
      options_(std::move(options)),
      lease_name_(ShardLeaseName(options_.kube.leader_election_id, options_.kube.shard_count,
                                 options_.kube.shard_index)),
      source_(KubeSourceDeps{deps_.client, deps_.clock, deps_.logger, deps_.desired, deps_.journal,
                             deps_.enqueue, deps_.on_desired_changed},
              KubeSourceOptions{options_.kube.watch_namespaces, options_.kube.shard_count,
                                options_.kube.shard_index, options_.watch_timeout,
                                options_.min_backoff, options_.max_backoff}),
      recorder_(deps_.client, deps_.clock, deps_.logger,
                kube::EventRecorderOptions{"kustodian.io/controller", options_.identity}),
      credentials_(deps_.client, deps_.clock, deps_.logger, options_.credentials) {
  if (deps_.arm != nullptr) {
    arm_ = std::make_unique<CredentialRefArmClient>(CredentialRefArmClientDeps{
        *deps_.arm, deps_.principals, credentials_,
        [this](const std::string& key) { return source_.CredentialRefOf(key); }, deps_.logger,
        deps_.decorate_principal_client});
  }
}

KubeController::~KubeController() { Stop(); }

void KubeController::SetLeading(bool leading) {
  leading_ = leading;
  if (deps_.metrics != nullptr) {
    deps_.metrics->leader_election_master_status.Set(leading ? 1 : 0);
  }
}

void KubeController::Start(KubeLeaderCallbacks callbacks) {
  source_.Start();
  if (!options_.kube.leader_elect) {
    SetLeading(true);
    if (callbacks.on_started_leading) {
      callbacks.on_started_leading();
    }
    return;
  }
  kube::LeaderElectionConfig config;
  config.lease_namespace = options_.lease_namespace;
  config.lease_name = lease_name_;
  config.identity = options_.identity;
  config.lease_duration = options_.kube.lease_duration;
  config.renew_deadline = options_.kube.renew_deadline;
  config.retry_period = options_.kube.retry_period;
  kube::LeaderCallbacks lc;
  lc.on_started_leading = [this, cb = callbacks.on_started_leading] {
    deps_.logger.Info("became the leader", {{"lease", lease_name_},
                                            {"namespace", options_.lease_namespace},
                                            {"identity", options_.identity}});
    SetLeading(true);
    if (cb) cb();
  };
  lc.on_stopped_leading = [this, cb = callbacks.on_stopped_leading] {
    const bool was = leading_.exchange(false);
    SetLeading(false);
    if (was && !stopped_.load() && cb) cb();
  };
  lc.on_new_leader = [this](const std::string& holder) {
    if (holder != options_.identity) {
      deps_.logger.Info("standby: another replica leads",
                        {{"lease", lease_name_}, {"leader", holder}});
    }
  };
  elector_ = std::make_unique<kube::LeaderElector>(deps_.client, deps_.clock, deps_.logger,
                                                   std::move(config), std::move(lc));
  elector_->Start();
}

void KubeController::Stop() {
  stopped_ = true;
  if (elector_) {
    elector_->Stop();
  }
  source_.Stop();
  SetLeading(false);
}

std::optional<json> KubeController::DesiredStatus(const KubeObjectState& state) const {
  const absl::Time now = deps_.clock.Now();
  if (!state.errors.empty()) {
    return KubeStalledStatus(
        "InvalidSpec",
        absl::StrCat("the spec is invalid (not applied; the last valid spec stays in effect): ",
                     absl::StrJoin(state.errors, "; ")),
        state.generation, now);
  }
  if (!state.deleting) {
    std::optional<DesiredEntry> entry = deps_.desired.Get(state.key);
    std::map<std::string, std::vector<std::string>> file_errors = deps_.desired.FileErrors();
    if (auto it = file_errors.find(state.ref);
        it != file_errors.end() && !it->second.empty() && !(entry && entry->file == state.ref)) {
      // A duplicate target: the resource whose entry is in effect keeps its status; the other
      // one is Stalled until one of them changes its target.
      return KubeStalledStatus("Conflict", absl::StrJoin(it->second, "; "), state.generation, now);
    }
    if (entry && entry->file != state.ref) {
      return KubeStalledStatus(
          "DuplicateTarget",
          absl::StrCat("DataConnection ", entry->file.substr(std::string(kKubeRefPrefix).size()),
                       " already manages the same Azure data connection; change spec.target"),
          state.generation, now);
    }
  }
  if (state.key.empty()) {
    return std::nullopt;
  }
  std::optional<ConnectionStatus> cs = deps_.status.Get(state.key);
  if (!cs) {
    return std::nullopt;
  }
  if (!state.deleting && (cs->file != state.ref || (cs->observed_generation != 0 &&
                                                    cs->observed_generation != state.generation))) {
    return std::nullopt;  // the reconciler has not seen this generation yet
  }
  return KubeStatusJson(*cs, state.generation);
}

absl::Status KubeController::WriteStatus(json object, const json& status) {
  const kube::Gvr gvr = kube::DataConnectionGvr();
  for (int attempt = 0; attempt <= kMaxConflictRetries; ++attempt) {
    const json current = object.contains("status") ? object["status"] : json();
    json next = KeepTransitionTimes(status, current);
    if (SameKubeStatus(next, current)) {
      return absl::OkStatus();
    }
    json body = object;
    body["status"] = next;
    absl::StatusOr<json> written = deps_.client.UpdateStatus(gvr, kube::NamespaceOf(object), body);
    if (written.ok()) {
      source_.Observe(*written);
      return absl::OkStatus();
    }
    if (kube::IsNotFound(written.status())) {
      return absl::OkStatus();  // gone meanwhile
    }
    if (!kube::IsConflict(written.status())) {
      return written.status();
    }
    absl::StatusOr<json> fresh =
        deps_.client.Get(gvr, kube::NamespaceOf(object), kube::NameOf(object));
    if (!fresh.ok()) {
      return kube::IsNotFound(fresh.status()) ? absl::OkStatus() : fresh.status();
    }
    source_.Observe(*fresh);
    object = *std::move(fresh);
  }
  return absl::AbortedError("status update kept conflicting; will retry");
}

absl::Status KubeController::SetFinalizer(json object, bool add) {
  const kube::Gvr gvr = kube::DataConnectionGvr();
  for (int attempt = 0; attempt <= kMaxConflictRetries; ++attempt) {
    if (kube::HasFinalizer(object, kube::kFinalizer) == add) {
      return absl::OkStatus();
    }
    if (add && kube::IsBeingDeleted(object)) {
      return absl::FailedPreconditionError("the DataConnection is being deleted");
    }
    json finalizers = json::array();
    if (auto m = object.find("metadata");
        m != object.end() && m->contains("finalizers") && (*m)["finalizers"].is_array()) {
      for (const json& f : (*m)["finalizers"]) {
        if (!(f.is_string() && f.get<std::string>() == kube::kFinalizer)) {
          finalizers.push_back(f);
        }
      }
    }
    if (add) {
      finalizers.push_back(kube::kFinalizer);
    }
    json patch = {
        {"metadata",
         {{"finalizers", finalizers}, {"resourceVersion", kube::ResourceVersionOf(object)}}}};
    absl::StatusOr<json> patched =
        deps_.client.Patch(gvr, kube::NamespaceOf(object), kube::NameOf(object),
                           kube::PatchType::kMerge, patch.dump());
    if (patched.ok()) {
      source_.Observe(*patched);
      deps_.logger.Info(
          add ? "added finalizer" : "removed finalizer",
          {{"resource", KubeSource::RefOf(kube::NamespaceOf(object), kube::NameOf(object))},
           {"finalizer", kube::kFinalizer}});
      return absl::OkStatus();
    }
    if (kube::IsNotFound(patched.status())) {
      return add ? patched.status() : absl::OkStatus();
    }
    if (!kube::IsConflict(patched.status())) {
      return patched.status();
    }
    absl::StatusOr<json> fresh =
        deps_.client.Get(gvr, kube::NamespaceOf(object), kube::NameOf(object));
    if (!fresh.ok()) {
      return kube::IsNotFound(fresh.status()) && !add ? absl::OkStatus() : fresh.status();
    }
    source_.Observe(*fresh);
    object = *std::move(fresh);
  }
  return absl::AbortedError("finalizer update kept conflicting; will retry");
}

ReconcileResult KubeController::SyncObject(const std::string& ref) {
  std::optional<KubeObjectState> state = source_.Object(ref);
  if (!state) {
    return ReconcileResult::Done();
  }
  if (!leading_.load()) {
    return ReconcileResult::Done();  // a standby never writes
  }
  if (state->deleting) {
    if (!state->has_finalizer) {
      return ReconcileResult::Done();
    }
    std::vector<std::string> remaining;
    for (const std::string& key : state->keys) {
      if (deps_.journal.Contains(key)) {
        remaining.push_back(key);
      }
    }
    if (remaining.empty()) {
      if (absl::Status st = SetFinalizer(state->object, /*add=*/false); !st.ok()) {
        return ReconcileResult::Retryable(st);
      }
      return ReconcileResult::Done();
    }
  }
  std::optional<json> status = DesiredStatus(*state);
  if (!status) {
    return ReconcileResult::Done();
  }
  const bool newly_invalid =
      !state->errors.empty() &&
      !SameKubeStatus(KeepTransitionTimes(*status, state->object.value("status", json())),
                      state->object.value("status", json()));
  if (absl::Status st = WriteStatus(state->object, *status); !st.ok()) {
    deps_.logger.Warn("cannot write the DataConnection status; will retry",
                      {{"resource", ref}, {"error", std::string(st.message())}});
    return ReconcileResult::Retryable(st);
  }
  if (newly_invalid) {
    recorder_.Record(state->object, "Warning", "InvalidSpec", "Reconcile",
                     Redact(absl::StrJoin(state->errors, "; ")));
  }
  return ReconcileResult::Done();
}

std::vector<std::string> KubeController::AfterReconcile(const std::string& key) {
  std::vector<std::string> failed;
  for (const std::string& ref : source_.RefsForKey(key)) {
    ReconcileResult r = SyncObject(ref);
    if (r.outcome == ReconcileResult::kRetryableError) {
      failed.push_back(ref);
    }
  }
  return failed;
}

absl::Status KubeController::BeforeOwn(const std::string& key) {
  if (!leading_.load()) {
    return absl::UnavailableError("not the leader");
  }
  std::optional<std::string> ref = source_.OwnerOf(key);
  std::optional<KubeObjectState> state = ref ? source_.Object(*ref) : std::nullopt;
  if (!state) {
    return absl::FailedPreconditionError(absl::StrCat("no DataConnection resource claims ", key));
  }
  return SetFinalizer(state->object, /*add=*/true);
}

bool KubeController::AllowRemoval(const std::string& key) { return !source_.Claimed(key); }

std::optional<DeletionPolicy> KubeController::DeletionPolicyAtRemoval(const std::string& key) {
  return source_.DeletionPolicyOfDeleted(key);
}

void KubeController::OnEvent(const std::string& key, ReconcileEvent event,
                             std::string_view message) {
  std::optional<std::string> ref = source_.OwnerOf(key);
  std::optional<KubeObjectState> state = ref ? source_.Object(*ref) : std::nullopt;
  if (!state) {
    return;
  }
  const bool warning = event == ReconcileEvent::kFailed || event == ReconcileEvent::kInvalidSpec;
  recorder_.Record(state->object, warning ? "Warning" : "Normal",
                   std::string(ReconcileEventName(event)), EventAction(event), Redact(message));
}

}  // namespace kustodian
