// Shared pieces of the Kubernetes-mode controller tests: DataConnection objects, a Manager
// replica in kubernetes mode over a FakeKubeClient (one "API server" shared by replicas) and a
// FakeArmClient (one "Azure"), decorators that attribute writes to a replica, and waiting.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "controller/manager.h"
#include "nlohmann/json.hpp"
#include "src/core/clock.h"
#include "src/metrics/kustodian_metrics.h"
#include "src/metrics/registry.h"
#include "tests/fakes/fake_arm_client.h"
#include "tests/fakes/fake_kube_client.h"

namespace kustodian::kubetest {

using nlohmann::json;

inline constexpr char kSub[] = "00000000-0000-0000-0000-000000000001";

inline bool WaitUntil(const std::function<bool()>& pred, int seconds = 20) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// An IotHub DataConnection resource named `name` in `ns` targeting connection `name` in
// mykustocluster/telemetry.
inline json DataConnection(const std::string& ns, const std::string& name,
                           const std::string& table = "Telemetry") {
  return json::parse(
      absl::StrCat(R"({
    "apiVersion": "kustodian.io/v1alpha1",
    "kind": "DataConnection",
    "metadata": {"name": ")",
                   name, R"(", "namespace": ")", ns, R"("},
    "spec": {
      "target": {"subscriptionId": ")",
                   kSub, R"(", "resourceGroup": "testrg",
                 "cluster": "mykustocluster", "database": "telemetry"},
      "location": "eastus2",
      "kind": "IotHub",
      "properties": {
        "iotHubResourceId": "/subscriptions/)",
                   kSub, R"(/resourceGroups/testrg/providers/Microsoft.Devices/IotHubs/devicehub",
        "consumerGroup": "$Default",
        "sharedAccessPolicyName": "registryRead",
        "tableName": ")",
                   table, R"("
      }
    }
  })"));
}

// DataConnectionId::Key() of the connection `name` the resource above targets.
inline std::string KeyOf(const std::string& name) {
  return absl::StrCat("/subscriptions/", kSub,
                      "/resourcegroups/testrg/providers/microsoft.kusto/clusters/mykustocluster/"
                      "databases/telemetry/dataconnections/",
                      name);
}

inline DataConnectionId IdOf(const std::string& name) {
  return *DataConnectionId::Parse(KeyOf(name));
}

// The condition `type` of a resource's status, or null json.
inline json ConditionOf(const std::optional<json>& object, const std::string& type) {
  if (!object || !object->contains("status") || !(*object)["status"].contains("conditions")) {
    return json();
  }
  for (const json& c : (*object)["status"]["conditions"]) {
    if (c.value("type", "") == type) {
      return c;
    }
  }
  return json();
}

inline bool ConditionIs(const std::optional<json>& object, const std::string& type,
                        const std::string& status, int64_t generation = -1) {
  json c = ConditionOf(object, type);
  if (c.is_null() || c.value("status", "") != status) {
    return false;
  }
  return generation < 0 ||
         (*object)["status"].value("observedGeneration", int64_t{-1}) == generation;
}

// Forwards to a shared client and counts this replica's writes to dataconnections.
class CountingKubeClient final : public kube::KubeClient {
 public:
  explicit CountingKubeClient(kube::KubeClient& target) : t_(target) {}
  int dataconnection_writes() const { return writes_.load(); }

  absl::StatusOr<json> Get(const kube::Gvr& g, const std::string& ns,
                           const std::string& n) override {
    return t_.Get(g, ns, n);
  }
  absl::StatusOr<kube::ObjectList> List(const kube::Gvr& g, const std::string& ns,
                                        const kube::ListOptions& o = {}) override {
    return t_.List(g, ns, o);
  }
  absl::Status Watch(const kube::Gvr& g, const std::string& ns, const kube::WatchOptions& o,
                     const std::function<bool(const kube::WatchEvent&)>& f,
                     const std::atomic<bool>* cancel = nullptr) override {
    return t_.Watch(g, ns, o, f, cancel);
  }
  absl::StatusOr<json> Create(const kube::Gvr& g, const std::string& ns, const json& o) override {
    Count(g);
    return t_.Create(g, ns, o);
  }
  absl::StatusOr<json> Update(const kube::Gvr& g, const std::string& ns, const json& o) override {
    Count(g);
    return t_.Update(g, ns, o);
  }
  absl::StatusOr<json> UpdateStatus(const kube::Gvr& g, const std::string& ns,
                                    const json& o) override {
    Count(g);
    return t_.UpdateStatus(g, ns, o);
  }
  absl::StatusOr<json> Patch(const kube::Gvr& g, const std::string& ns, const std::string& n,
                             kube::PatchType type, const std::string& body,
                             const std::string& sub = "") override {
    Count(g);
    return t_.Patch(g, ns, n, type, body, sub);
  }
  absl::Status Delete(const kube::Gvr& g, const std::string& ns, const std::string& n) override {
    Count(g);
    return t_.Delete(g, ns, n);
  }

 private:
  void Count(const kube::Gvr& g) {
    if (g.resource == "dataconnections") ++writes_;
  }
  kube::KubeClient& t_;
  std::atomic<int> writes_{0};
};

// Forwards to a shared ArmClient, counts this replica's writes and runs a hook before each.
class HookedArmClient final : public ArmClient {
 public:
  explicit HookedArmClient(ArmClient& target) : t_(target) {}
  std::function<void(const DataConnectionSpec&)> before_put;
  std::function<void(const DataConnectionId&)> before_delete;
  int writes() const { return writes_.load(); }

  absl::StatusOr<LiveConnection> Get(const DataConnectionId& id) override { return t_.Get(id); }
  absl::StatusOr<std::vector<LiveConnection>> List(const DatabaseId& db) override {
    return t_.List(db);
  }
  absl::StatusOr<WriteResult> Put(const DataConnectionSpec& spec) override {
    ++writes_;
    if (before_put) before_put(spec);
    return t_.Put(spec);
  }
  absl::StatusOr<WriteResult> Delete(const DataConnectionId& id) override {
    ++writes_;
    if (before_delete) before_delete(id);
    return t_.Delete(id);
  }
  absl::StatusOr<PollResult> Poll(const ArmOperation& op) override { return t_.Poll(op); }
  absl::StatusOr<std::vector<std::string>> Validate(const DataConnectionSpec& spec) override {
    return t_.Validate(spec);
  }

 private:
  ArmClient& t_;
  std::atomic<int> writes_{0};
};

// One daemon replica in kubernetes mode.
// Silent, unless KUSTODIAN_TEST_LOG is set (debug lines on stderr, to follow a failing test).
inline Logger& TestLogger() {
  static RealClock clock;
  static Logger* logger = std::getenv("KUSTODIAN_TEST_LOG") != nullptr
                              ? new Logger(LogLevel::kDebug, LogFormat::kText, clock)
                              : &Logger::Null();
  return *logger;
}

class Replica {
 public:
  Replica(kube::KubeClient& kube, ArmClient& arm, Clock& clock, DaemonOptions options)
      : kube_(kube), arm_(arm), metrics_(registry_, "test"), options_(std::move(options)) {
    ManagerDeps deps{clock, TestLogger(), arm_, registry_, metrics_};
    deps.kube = &kube_;
    deps.on_lost_leadership = [this] { ++lost_leadership_; };
    manager_ = std::make_unique<Manager>(options_, deps);
  }
  ~Replica() { manager_.reset(); }

  absl::Status Start() { return manager_->Start(); }
  void Stop() { manager_->Stop(); }
  Manager& manager() { return *manager_; }
  KustodianMetrics& metrics() { return metrics_; }
  int kube_writes() const { return kube_.dataconnection_writes(); }
  int arm_writes() const { return arm_.writes(); }
  HookedArmClient& arm() { return arm_; }
  int lost_leadership() const { return lost_leadership_.load(); }

 private:
  CountingKubeClient kube_;
  HookedArmClient arm_;
  Registry registry_;
  KustodianMetrics metrics_;
  DaemonOptions options_;
  std::atomic<int> lost_leadership_{0};
  std::unique_ptr<Manager> manager_;
};

inline DaemonOptions KubeDaemonOptions() {
  DaemonOptions o;
  o.source = SourceKind::kKubernetes;
  o.metrics_bind_address = "0";
  o.workers = 2;
  o.kube.identity = "test-replica";
  o.kube.leader_election_namespace = "kustodian-system";
  return o;
}

}  // namespace kustodian::kubetest
