// Reconciler: create, update, no-op, LROs, adoption and observe-only.
#include "controller/reconciler.h"

#include "gtest/gtest.h"
#include "tests/controller/reconciler_test_util.h"

namespace kustodian {
namespace {

using testing_util::Harness;
using testing_util::LiveFrom;
using testing_util::MakeSpec;
using Method = FakeArmClient::Method;

TEST(ReconcilerTest, CreatesMissingConnectionThenMakesNoMoreWrites) {
  Harness h;
  DataConnectionSpec a = MakeSpec("a");
  h.Apply({a});
  ReconcileResult r = h.Reconcile(a);
  EXPECT_EQ(r.outcome, ReconcileResult::kDone);
  EXPECT_EQ(r.requeue_after, absl::Minutes(5));  // resync hint: the spec's interval
  EXPECT_EQ(h.arm.calls(Method::kList), 1);
  EXPECT_EQ(h.arm.calls(Method::kPut), 1);
  EXPECT_TRUE(h.arm.GetConnection(a.id).has_value());
  EXPECT_EQ(h.Phase(a), kPhaseReady);
  ASSERT_TRUE(h.journal.Contains(a.id.Key()));
  EXPECT_EQ(h.journal.Get(a.id.Key())->origin, OwnershipRecord::Origin::kCreated);
  EXPECT_EQ(h.journal.Get(a.id.Key())->last_applied_hash, h.desired.Get(a.id.Key())->spec_hash);

  int calls = h.arm.total_calls();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  }
  EXPECT_EQ(h.arm.total_calls(), calls);  // converged: no LIST, no PUT
  EXPECT_EQ(h.Phase(a), kPhaseReady);
}

TEST(ReconcilerTest, NoWriteWhenLiveMatchesSemantically) {
  Harness h;
  DataConnectionSpec a = MakeSpec("a");
  LiveConnection live = LiveFrom(a);        // location "East US 2" vs "eastus2"
  live.properties["compression"] = "None";  // server-filled, not in the spec
  live.properties["mappingRuleName"] = "";
  h.arm.SetConnection(live);
  h.Manage(a);
  h.Apply({a});
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  EXPECT_EQ(h.Writes(), 0);
  auto status = h.status.Get(a.id.Key());
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->phase, kPhaseReady);
  EXPECT_EQ(status->FindCondition(kConditionReady)->status, kTrue);
  EXPECT_EQ(status->provisioning_state, "Succeeded");
  EXPECT_EQ(status->arm_id, a.id.ResponseId());
  EXPECT_EQ(status->plan_action, "no-op");
  EXPECT_EQ(status->last_sync_time, h.clock.Now());
  // Found in sync: that spec counts as applied.
  EXPECT_EQ(h.journal.Get(a.id.Key())->last_applied_hash, h.desired.Get(a.id.Key())->spec_hash);
}

TEST(ReconcilerTest, UpdatesOnlyOnARealDifference) {
  Harness h;
  DataConnectionSpec a = MakeSpec("a");
  LiveConnection live = LiveFrom(a);
  live.properties["tableName"] = "OldTable";
  h.arm.SetConnection(live);
  h.Manage(a);
  h.Apply({a});
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  ASSERT_EQ(h.arm.calls(Method::kPut), 1);
  EXPECT_EQ(h.arm.put_specs()[0].properties["tableName"], "Events");
  EXPECT_EQ(h.arm.GetConnection(a.id)->properties["tableName"], "Events");
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  EXPECT_EQ(h.arm.calls(Method::kPut), 1);
  // Not a drift correction: the journal had no applied hash for this spec.
  EXPECT_EQ(h.metrics.drift_corrections.WithLabels({"EventHub"}).Value(), 0);
}

TEST(ReconcilerTest, LongRunningPutNeverBlocksAndCompletesOnLaterPasses) {
  Harness h;
  h.arm.SetPutPolls(3);
  h.arm.SetPollRetryAfter(absl::Seconds(4));
  DataConnectionSpec a = MakeSpec("a");
  h.Apply({a});
  absl::Time start = h.clock.Now();
  ReconcileResult r = h.Reconcile(a);
  EXPECT_EQ(h.clock.Now(), start);  // nothing slept
  ASSERT_EQ(r.outcome, ReconcileResult::kRequeueAfter);
  EXPECT_EQ(r.requeue_after, absl::Seconds(1));  // initial poll delay
  EXPECT_EQ(h.Phase(a), kPhaseCreating);
  auto status = h.status.Get(a.id.Key());
  EXPECT_EQ(status->pending_operation.rfind("PUT https://fake-arm.invalid/operations/", 0), 0u);
  EXPECT_EQ(status->FindCondition(kConditionReconciling)->status, kTrue);
  EXPECT_EQ(h.reconciler->PendingOperations().size(), 1u);

  r = h.Reconcile(a);  // poll 1 of 3
  EXPECT_EQ(r.outcome, ReconcileResult::kRequeueAfter);
  EXPECT_EQ(r.requeue_after, absl::Seconds(4));  // the operation's Retry-After
  r = h.Reconcile(a);                            // poll 2 of 3
  EXPECT_EQ(r.outcome, ReconcileResult::kRequeueAfter);
  EXPECT_EQ(h.arm.calls(Method::kPoll), 2);
  EXPECT_EQ(h.reconciler->PendingOperations().begin()->second.op.polls, 2);
  r = h.Reconcile(a);  // poll 3: done
  EXPECT_EQ(r.outcome, ReconcileResult::kDone);
  EXPECT_EQ(h.Phase(a), kPhaseReady);
  EXPECT_TRUE(h.reconciler->PendingOperations().empty());
  EXPECT_EQ(h.status.Get(a.id.Key())->pending_operation, "");
  EXPECT_EQ(h.arm.calls(Method::kPut), 1);
  EXPECT_EQ(h.arm.calls(Method::kPoll), 3);
  EXPECT_EQ(h.clock.Now(), start);
  EXPECT_FALSE(h.cluster_lock.Holder(ClusterKeyOf(a.id)).has_value());
  EXPECT_EQ(h.journal.Get(a.id.Key())->last_applied_hash, h.desired.Get(a.id.Key())->spec_hash);
}

TEST(ReconcilerTest, ExistingUnmanagedConnectionIsAConflictWithoutWrites) {
  Harness h;
  DataConnectionSpec a = MakeSpec("a");
  LiveConnection live = LiveFrom(a);
  live.properties["tableName"] = "TheirTable";
  h.arm.SetConnection(live);
  h.Apply({a});
  ReconcileResult r = h.Reconcile(a);
  EXPECT_EQ(r.outcome, ReconcileResult::kTerminalError);
  EXPECT_EQ(h.Writes(), 0);
  EXPECT_FALSE(h.journal.Contains(a.id.Key()));
  auto status = h.status.Get(a.id.Key());
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->phase, kPhaseConflict);
  EXPECT_EQ(status->FindCondition(kConditionStalled)->status, kTrue);
  EXPECT_EQ(status->FindCondition(kConditionStalled)->reason, "NotManaged");
  EXPECT_NE(status->FindCondition(kConditionStalled)->message.find("kustodian.io/adopt"),
            std::string::npos);
  EXPECT_EQ(h.reconciler->PlanFor(a.id.Key()).action, PlanAction::kNoop);
}

TEST(ReconcilerTest, AdoptAnnotationTakesOverAndThenUpdates) {
  Harness h;
  DataConnectionSpec a = MakeSpec("a");
  a.adopt = true;
  LiveConnection live = LiveFrom(a);
  live.properties["tableName"] = "TheirTable";
  h.arm.SetConnection(live);
  h.Apply({a});
  ASSERT_TRUE(h.live.Refresh(a.id.Database(), h.arm).ok());
  EXPECT_EQ(h.reconciler->PlanFor(a.id.Key()).action, PlanAction::kUpdate);
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  ASSERT_TRUE(h.journal.Contains(a.id.Key()));
  EXPECT_EQ(h.journal.Get(a.id.Key())->origin, OwnershipRecord::Origin::kAdopted);
  EXPECT_EQ(h.arm.calls(Method::kPut), 1);
  EXPECT_EQ(h.arm.GetConnection(a.id)->properties["tableName"], "Events");
  EXPECT_EQ(h.metrics.drift_corrections.WithLabels({"EventHub"}).Value(), 0);
  EXPECT_TRUE(h.Logged("adopted"));
}

TEST(ReconcilerTest, AdoptAllTakesOverWithoutWritingWhenEqual) {
  ReconcilerOptions options;
  options.adopt_all = true;
  Harness h(options);
  DataConnectionSpec a = MakeSpec("a");
  h.arm.SetConnection(LiveFrom(a));
  h.Apply({a});
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  EXPECT_TRUE(h.journal.Contains(a.id.Key()));
  EXPECT_EQ(h.Writes(), 0);
  EXPECT_EQ(h.Phase(a), kPhaseReady);
}

TEST(ReconcilerTest, ParseErrorKeepsDesiredStateAndNeverDeletes) {
  Harness h;
  DataConnectionSpec a = MakeSpec("a");
  h.Apply({a}, "m.yaml");
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  ASSERT_EQ(h.arm.calls(Method::kPut), 1);
  h.desired.KeepFile("m.yaml", {"m.yaml:4:3: mapping values are not allowed here"});
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  EXPECT_EQ(h.arm.calls(Method::kDelete), 0);
  EXPECT_TRUE(h.arm.GetConnection(a.id).has_value());
  EXPECT_EQ(h.Phase(a), kPhaseReady);
}

TEST(ReconcilerTest, ObserveOnlyNeverWrites) {
  Harness h;
  DataConnectionSpec a = MakeSpec("a");
  a.policy.management = ManagementPolicy::kObserveOnly;
  DataConnectionSpec b = MakeSpec("b");
  b.policy.management = ManagementPolicy::kObserveOnly;
  DataConnectionSpec c = MakeSpec("c");
  c.policy.management = ManagementPolicy::kObserveOnly;
  LiveConnection drifted = LiveFrom(a);
  drifted.properties["tableName"] = "Elsewhere";
  h.arm.SetConnection(drifted);
  h.arm.SetConnection(LiveFrom(c));
  h.Apply({a, b, c});  // b does not exist in Azure
  for (const auto& spec : {a, b, c}) {
    EXPECT_EQ(h.Reconcile(spec).outcome, ReconcileResult::kDone);
  }
  EXPECT_EQ(h.Writes(), 0);
  EXPECT_EQ(h.journal.size(), 0u);
  EXPECT_EQ(h.Phase(a), kPhaseDrifted);
  auto status = h.status.Get(a.id.Key());
  ASSERT_EQ(status->plan_changes.size(), 1u);
  EXPECT_EQ(status->plan_changes[0].path, "properties.tableName");
  EXPECT_EQ(h.Phase(b), kPhaseDrifted);
  EXPECT_EQ(h.Phase(c), kPhaseReady);
  EXPECT_EQ(h.reconciler->PlanFor(a.id.Key()).action, PlanAction::kNoop);
}

TEST(ReconcilerTest, ForeignOperationInProgressWaits) {
  Harness h;
  DataConnectionSpec a = MakeSpec("a");
  LiveConnection live = LiveFrom(a);
  live.provisioning_state = "Updating";
  live.properties["tableName"] = "Other";
  h.arm.SetConnection(live);
  h.Manage(a);
  h.Apply({a});
  ReconcileResult r = h.Reconcile(a);
  EXPECT_EQ(r.outcome, ReconcileResult::kRequeueAfter);
  EXPECT_EQ(r.requeue_after, absl::Seconds(10));
  EXPECT_EQ(h.Writes(), 0);
  auto status = h.status.Get(a.id.Key());
  EXPECT_EQ(status->FindCondition(kConditionReconciling)->status, kTrue);
}

TEST(ReconcilerTest, ConfirmRequestUsesOneGetInsteadOfTheCache) {
  Harness h;
  DataConnectionSpec a = MakeSpec("a");
  h.Apply({a});
  ASSERT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  int lists = h.arm.calls(Method::kList);
  // Someone deletes it behind our back; the cache still has it.
  h.arm.RemoveConnection(a.id);
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  EXPECT_EQ(h.arm.calls(Method::kPut), 1);  // the cache said all is well
  h.reconciler->RequestConfirm(a.id.Key());
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  EXPECT_EQ(h.arm.calls(Method::kGet), 1);
  EXPECT_EQ(h.arm.calls(Method::kList), lists);
  EXPECT_EQ(h.arm.calls(Method::kPut), 2);  // re-created
  EXPECT_TRUE(h.arm.GetConnection(a.id).has_value());
}

TEST(ReconcilerTest, FailedProvisioningStateIsReapplied) {
  Harness h;
  DataConnectionSpec a = MakeSpec("a");
  LiveConnection live = LiveFrom(a);
  live.provisioning_state = "Failed";
  h.arm.SetConnection(live);
  h.Manage(a);
  h.Apply({a});
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  EXPECT_EQ(h.arm.calls(Method::kPut), 1);
  EXPECT_EQ(h.Phase(a), kPhaseReady);
  EXPECT_EQ(h.status.Get(a.id.Key())->provisioning_state, "Succeeded");
  EXPECT_EQ(h.metrics.drift_corrections.WithLabels({"EventHub"}).Value(), 0);
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  EXPECT_EQ(h.arm.calls(Method::kPut), 1);
}

TEST(ReconcilerTest, PlanForReportsWhatReconcileWouldDo) {
  Harness h;
  DataConnectionSpec a = MakeSpec("a");
  h.Apply({a});
  ASSERT_TRUE(h.live.Refresh(a.id.Database(), h.arm).ok());
  EXPECT_EQ(h.reconciler->PlanFor(a.id.Key()).action, PlanAction::kCreate);
  EXPECT_EQ(h.arm.total_calls(), 1);  // PlanFor itself calls nothing
  h.Reconcile(a);
  EXPECT_EQ(h.reconciler->PlanFor(a.id.Key()).action, PlanAction::kNoop);
  h.Apply({});
  EXPECT_EQ(h.reconciler->PlanFor(a.id.Key()).action, PlanAction::kDelete);
}

}  // namespace
}  // namespace kustodian
