// Reconciler: deletion of managed connections, Orphan, the prune guard, immutable changes.
#include "controller/reconciler.h"
#include "gtest/gtest.h"
#include "tests/controller/reconciler_test_util.h"

namespace kustodian {
namespace {

using testing_util::Harness;
using testing_util::LiveFrom;
using testing_util::MakeSpec;
using Method = FakeArmClient::Method;

TEST(ReconcilerDeleteTest, DeletesManagedConnectionWhoseManifestIsGone) {
  Harness h;
  DataConnectionSpec a = MakeSpec("a");
  h.Apply({a});
  ASSERT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  ASSERT_TRUE(h.status.Get(a.id.Key()).has_value());
  h.Apply({});
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  EXPECT_EQ(h.arm.calls(Method::kDelete), 1);
  EXPECT_FALSE(h.arm.GetConnection(a.id).has_value());
  EXPECT_FALSE(h.journal.Contains(a.id.Key()));
  EXPECT_FALSE(h.status.Get(a.id.Key()).has_value());
  EXPECT_FALSE(h.live.Get(a.id.Key()).has_value());
  // Nothing left to do.
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  EXPECT_EQ(h.arm.calls(Method::kDelete), 1);
}

TEST(ReconcilerDeleteTest, LongRunningDeleteIsPolledOnLaterPasses) {
  Harness h;
  h.arm.SetDeletePolls(2);
  DataConnectionSpec a = MakeSpec("a");
  h.arm.SetConnection(LiveFrom(a));
  h.Manage(a);
  ReconcileResult r = h.Reconcile(a);
  ASSERT_EQ(r.outcome, ReconcileResult::kRequeueAfter);
  EXPECT_EQ(h.Phase(a), kPhaseDeleting);
  EXPECT_TRUE(h.journal.Contains(a.id.Key()));
  EXPECT_EQ(h.cluster_lock.Holder(ClusterKeyOf(a.id)), a.id.Key());
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kRequeueAfter);
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  EXPECT_FALSE(h.journal.Contains(a.id.Key()));
  EXPECT_FALSE(h.status.Get(a.id.Key()).has_value());
  EXPECT_FALSE(h.arm.GetConnection(a.id).has_value());
  EXPECT_FALSE(h.cluster_lock.Holder(ClusterKeyOf(a.id)).has_value());
  EXPECT_EQ(h.arm.calls(Method::kDelete), 1);
}

TEST(ReconcilerDeleteTest, OrphanPolicyForgetsWithoutDeleting) {
  Harness h;
  DataConnectionSpec a = MakeSpec("a");
  h.arm.SetConnection(LiveFrom(a));
  h.Manage(a, DeletionPolicy::kOrphan);
  EXPECT_EQ(h.reconciler->PlanFor(a.id.Key()).action, PlanAction::kNoop);
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  EXPECT_EQ(h.Writes(), 0);
  EXPECT_TRUE(h.arm.GetConnection(a.id).has_value());
  EXPECT_FALSE(h.journal.Contains(a.id.Key()));
  EXPECT_TRUE(h.Logged("Orphan"));
}

TEST(ReconcilerDeleteTest, OrphanPolicyFromTheManifestIsJournaled) {
  Harness h;
  DataConnectionSpec a = MakeSpec("a");
  a.policy.deletion = DeletionPolicy::kOrphan;
  h.Apply({a});
  ASSERT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);  // created
  EXPECT_EQ(h.journal.Get(a.id.Key())->deletion, DeletionPolicy::kOrphan);
  h.Apply({});
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  EXPECT_EQ(h.arm.calls(Method::kDelete), 0);
  EXPECT_TRUE(h.arm.GetConnection(a.id).has_value());
}

TEST(ReconcilerDeleteTest, UnmanagedConnectionWithoutManifestIsLeftAlone) {
  Harness h;
  DataConnectionSpec a = MakeSpec("a");
  h.arm.SetConnection(LiveFrom(a));
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  EXPECT_EQ(h.Writes(), 0);
  EXPECT_FALSE(h.status.Get(a.id.Key()).has_value());
}

TEST(ReconcilerDeleteTest, ManagedButAlreadyGoneIsForgotten) {
  Harness h;
  DataConnectionSpec a = MakeSpec("a");
  h.Manage(a);
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  EXPECT_EQ(h.Writes(), 0);
  EXPECT_FALSE(h.journal.Contains(a.id.Key()));
}

TEST(ReconcilerDeleteTest, PruneGuardHoldsTheEleventhDeleteOfAPass) {
  Harness h;  // default: 10 per pass
  std::vector<DataConnectionSpec> specs;
  for (int i = 0; i < 11; ++i) {
    // Different clusters, so the cluster lock does not get in the way.
    DataConnectionSpec s = MakeSpec(absl::StrCat("c", i), absl::StrCat("cluster", i));
    h.arm.SetConnection(LiveFrom(s));
    h.Manage(s);
    specs.push_back(s);
  }
  h.prune.BeginPass();
  int done = 0;
  for (const auto& s : specs) {
    ReconcileResult r = h.Reconcile(s);
    if (r.outcome == ReconcileResult::kDone) {
      ++done;
    } else {
      EXPECT_EQ(r.outcome, ReconcileResult::kRequeueAfter);
      EXPECT_EQ(r.requeue_after, absl::Seconds(30));
      EXPECT_EQ(h.Phase(s), kPhaseWaitingForPruneGuard);
      auto status = h.status.Get(s.id.Key());
      EXPECT_EQ(status->FindCondition(kConditionReady)->message,
                "10 deletions already made in this pass (max 10); will continue next pass");
    }
  }
  EXPECT_EQ(done, 10);
  EXPECT_EQ(h.arm.calls(Method::kDelete), 10);
  ASSERT_EQ(h.prune.Held().size(), 1u);
  EXPECT_EQ(h.prune.Held()[0], specs[10].id.Key());
  EXPECT_TRUE(h.journal.Contains(specs[10].id.Key()));
  // Still the same pass: still held.
  EXPECT_EQ(h.Reconcile(specs[10]).outcome, ReconcileResult::kRequeueAfter);
  h.prune.BeginPass();
  EXPECT_EQ(h.Reconcile(specs[10]).outcome, ReconcileResult::kDone);
  EXPECT_EQ(h.arm.calls(Method::kDelete), 11);
  EXPECT_TRUE(h.prune.Held().empty());
}

TEST(ReconcilerDeleteTest, ManifestReturningReleasesAHeldDelete) {
  Harness h(ReconcilerOptions{}, /*max_deletes=*/0);
  DataConnectionSpec a = MakeSpec("a");
  h.arm.SetConnection(LiveFrom(a));
  h.Manage(a);
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kRequeueAfter);
  EXPECT_EQ(h.prune.Held().size(), 1u);
  h.Apply({a});
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  EXPECT_TRUE(h.prune.Held().empty());
  EXPECT_EQ(h.Writes(), 0);
}

TEST(ReconcilerDeleteTest, ImmutableChangeUnderFailStallsWithoutRetry) {
  Harness h;
  DataConnectionSpec a = MakeSpec("a");
  LiveConnection live = LiveFrom(a);
  live.location = "West US";
  h.arm.SetConnection(live);
  h.Manage(a);
  h.Apply({a});
  ReconcileResult r = h.Reconcile(a);
  EXPECT_EQ(r.outcome, ReconcileResult::kTerminalError);
  EXPECT_EQ(h.Writes(), 0);
  auto status = h.status.Get(a.id.Key());
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->phase, kPhaseStalled);
  const Condition* stalled = status->FindCondition(kConditionStalled);
  EXPECT_EQ(stalled->status, kTrue);
  EXPECT_EQ(stalled->reason, "ImmutableFieldChanged");
  EXPECT_NE(stalled->message.find("immutableChange: Recreate"), std::string::npos);
  EXPECT_EQ(status->FindCondition(kConditionReady)->status, kFalse);
  for (int i = 0; i < 3; ++i) {
    h.Reconcile(a);
  }
  EXPECT_EQ(h.Writes(), 0);
  EXPECT_EQ(h.reconciler->PlanFor(a.id.Key()).action, PlanAction::kNoop);
}

TEST(ReconcilerDeleteTest, RecreateDeletesThenCreates) {
  Harness h;
  h.arm.SetDeletePolls(2);
  h.arm.SetPutPolls(2);
  DataConnectionSpec a = MakeSpec("a");
  a.policy.immutable_change = ImmutableChangePolicy::kRecreate;
  LiveConnection live = LiveFrom(a);
  live.location = "West US";
  h.arm.SetConnection(live);
  h.Manage(a);
  h.Apply({a});
  ASSERT_TRUE(h.live.Refresh(a.id.Database(), h.arm).ok());
  EXPECT_EQ(h.reconciler->PlanFor(a.id.Key()).action, PlanAction::kRecreate);
  ReconcileResult r = h.Reconcile(a);
  ASSERT_EQ(r.outcome, ReconcileResult::kRequeueAfter);
  EXPECT_EQ(h.Phase(a), kPhaseDeleting);
  auto pending = h.reconciler->PendingOperations();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_TRUE(pending.begin()->second.recreate);
  EXPECT_EQ(h.arm.calls(Method::kPut), 0);
  r = h.Converge(a.id.Key());
  EXPECT_EQ(r.outcome, ReconcileResult::kDone);
  EXPECT_EQ(h.arm.calls(Method::kDelete), 1);
  EXPECT_EQ(h.arm.calls(Method::kPut), 1);
  ASSERT_TRUE(h.arm.GetConnection(a.id).has_value());
  EXPECT_EQ(h.arm.GetConnection(a.id)->location, "eastus2");
  EXPECT_EQ(h.Phase(a), kPhaseReady);
  EXPECT_TRUE(h.journal.Contains(a.id.Key()));  // ownership kept across the re-creation
}

TEST(ReconcilerDeleteTest, SynchronousRecreateRequeuesAtOnce) {
  Harness h;
  DataConnectionSpec a = MakeSpec("a");
  a.policy.immutable_change = ImmutableChangePolicy::kRecreate;
  LiveConnection live = LiveFrom(a);
  live.location = "West US";
  h.arm.SetConnection(live);
  h.Manage(a);
  h.Apply({a});
  ReconcileResult r = h.Reconcile(a);
  EXPECT_EQ(r.outcome, ReconcileResult::kRequeueAfter);
  EXPECT_EQ(r.requeue_after, absl::ZeroDuration());
  EXPECT_FALSE(h.arm.GetConnection(a.id).has_value());
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  EXPECT_EQ(h.arm.GetConnection(a.id)->location, "eastus2");
}

}  // namespace
}  // namespace kustodian
