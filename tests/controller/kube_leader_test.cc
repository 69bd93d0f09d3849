// Leader election in kubernetes mode: of two replicas only the leader reconciles and writes; the
// standby keeps its cache synced and is ready; when the leader stops (and releases its Lease) the
// standby takes over and carries on.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/controller/kube_test_util.h"

namespace kustodian {
namespace {

using namespace kubetest;  // NOLINT(google-build-using-namespace): test helpers

DaemonOptions LeaderOptions(const std::string& identity) {
  DaemonOptions o = KubeDaemonOptions();
  o.kube.leader_elect = true;
  o.kube.identity = identity;
  o.kube.lease_duration = absl::Milliseconds(1500);
  o.kube.renew_deadline = absl::Milliseconds(1000);
  o.kube.retry_period = absl::Milliseconds(100);
  return o;
}

bool Leads(Replica& r) { return r.metrics().leader_election_master_status.Value() == 1; }

TEST(KubeLeaderTest, OnlyTheLeaderWritesAndTheStandbyTakesOver) {
  RealClock clock;
  FakeKubeClient api;
  FakeArmClient azure(&clock);
  auto a = std::make_unique<Replica>(api, azure, clock, LeaderOptions("replica-a"));
  auto b = std::make_unique<Replica>(api, azure, clock, LeaderOptions("replica-b"));
  ASSERT_TRUE(a->Start().ok());
  ASSERT_TRUE(WaitUntil([&] { return Leads(*a); }));
  ASSERT_TRUE(b->Start().ok());

  ASSERT_TRUE(
      api.Create(kube::DataConnectionGvr(), "team-a", DataConnection("team-a", "events")).ok());
  auto ready_at = [&](int64_t gen) {
    return ConditionIs(api.Object(kube::DataConnectionGvr(), "team-a", "events"), "Ready", "True",
                       gen);
  };
  ASSERT_TRUE(WaitUntil([&] { return ready_at(1); }));
  ASSERT_TRUE(WaitUntil([&] { return b->manager().Ready(); })) << "a synced standby is ready";
  EXPECT_FALSE(Leads(*b));
  EXPECT_GT(a->kube_writes(), 0);
  EXPECT_EQ(b->kube_writes(), 0);
  EXPECT_EQ(b->arm_writes(), 0);
  std::optional<json> lease = api.Object(kube::LeaseGvr(), "kustodian-system", "kustodian");
  ASSERT_TRUE(lease.has_value());
  EXPECT_EQ((*lease)["spec"].value("holderIdentity", ""), "replica-a");

  a->Stop();  // releases the Lease
  ASSERT_TRUE(WaitUntil([&] { return Leads(*b); }, 5));
  EXPECT_EQ(b->lost_leadership(), 0);
  json o = *api.Object(kube::DataConnectionGvr(), "team-a", "events");
  o["spec"]["properties"]["tableName"] = "AfterFailover";
  ASSERT_TRUE(api.Update(kube::DataConnectionGvr(), "team-a", o).ok());
  ASSERT_TRUE(WaitUntil([&] { return ready_at(2); }))
      << api.Object(kube::DataConnectionGvr(), "team-a", "events")->dump(2) << "\n"
      << (b->manager().status().Get(KeyOf("events"))
              ? b->manager().status().Get(KeyOf("events"))->ToJson().dump(2)
              : std::string("no status in the new leader"));
  EXPECT_GT(b->kube_writes(), 0);
  EXPECT_GT(b->arm_writes(), 0);
  EXPECT_EQ(azure.put_specs().size(), 2u);
}

}  // namespace
}  // namespace kustodian
