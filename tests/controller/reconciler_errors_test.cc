// Reconciler: ARM errors, the cluster lock, drift accounting, journal ordering, status files.
#include <filesystem>
#include <fstream>

#include "controller/reconciler.h"
#include "gtest/gtest.h"
#include "src/core/status.h"
#include "tests/controller/reconciler_test_util.h"

namespace kustodian {
namespace {

using testing_util::ArmError;
using testing_util::Harness;
using testing_util::LiveFrom;
using testing_util::MakeSpec;
using testing_util::ScopedDir;
using Method = FakeArmClient::Method;

TEST(ReconcilerErrorsTest, BadRequestStallsAndIsNotRetriedUntilTheSpecChanges) {
  Harness h;
  DataConnectionSpec a = MakeSpec("a");
  h.Apply({a});
  h.arm.InjectError(Method::kPut,
                    ArmError(absl::InvalidArgumentError("[BadRequest] table does not exist"),
                             "EventHubValidationErorFound"));
  ReconcileResult r = h.Reconcile(a);
  EXPECT_EQ(r.outcome, ReconcileResult::kTerminalError);
  EXPECT_TRUE(absl::IsInvalidArgument(r.error));
  auto status = h.status.Get(a.id.Key());
  EXPECT_EQ(status->phase, kPhaseStalled);
  EXPECT_EQ(status->FindCondition(kConditionStalled)->status, kTrue);
  EXPECT_EQ(status->last_error, "EventHubValidationErorFound: [BadRequest] table does not exist");
  EXPECT_FALSE(h.cluster_lock.Holder(ClusterKeyOf(a.id)).has_value());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  }
  EXPECT_EQ(h.arm.calls(Method::kPut), 1);
  EXPECT_EQ(h.Phase(a), kPhaseStalled);
  // A changed spec is tried again.
  a.properties["tableName"] = "Existing";
  h.Apply({a});
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  EXPECT_EQ(h.arm.calls(Method::kPut), 2);
  EXPECT_EQ(h.Phase(a), kPhaseReady);
  EXPECT_EQ(h.status.Get(a.id.Key())->last_error, "");
}

TEST(ReconcilerErrorsTest, FailedOperationWithBadRequestStalls) {
  Harness h;
  h.arm.SetPutPolls(1);
  h.arm.SetNextOperationOutcome(ArmError(
      absl::InvalidArgumentError("[BadRequest] consumer group already used"), "BadRequest"));
  DataConnectionSpec a = MakeSpec("a");
  h.Apply({a});
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kRequeueAfter);
  ReconcileResult r = h.Reconcile(a);
  EXPECT_EQ(r.outcome, ReconcileResult::kTerminalError);
  EXPECT_EQ(h.Phase(a), kPhaseStalled);
  EXPECT_TRUE(h.reconciler->PendingOperations().empty());
  EXPECT_FALSE(h.cluster_lock.Holder(ClusterKeyOf(a.id)).has_value());
  h.Reconcile(a);
  h.Reconcile(a);
  EXPECT_EQ(h.arm.calls(Method::kPut), 1);
}

TEST(ReconcilerErrorsTest, ServiceUnavailableIsRetryableWithRetryAfter) {
  Harness h;
  DataConnectionSpec a = MakeSpec("a");
  h.Apply({a});
  absl::Status unavailable =
      ArmError(absl::UnavailableError("Service Unavailable"), "ServiceUnavailable");
  SetRetryAfter(unavailable, absl::Seconds(30));
  h.arm.InjectError(Method::kPut, unavailable);
  ReconcileResult r = h.Reconcile(a);
  EXPECT_EQ(r.outcome, ReconcileResult::kRetryableError);
  EXPECT_EQ(r.requeue_after, absl::Seconds(30));
  auto status = h.status.Get(a.id.Key());
  EXPECT_EQ(status->phase, kPhaseError);
  EXPECT_EQ(status->FindCondition(kConditionReconciling)->status, kTrue);
  EXPECT_EQ(status->last_error, "ServiceUnavailable: Service Unavailable");
  EXPECT_FALSE(h.cluster_lock.Holder(ClusterKeyOf(a.id)).has_value());
  // The journal recorded ownership before the PUT; the retry creates it.
  EXPECT_TRUE(h.journal.Contains(a.id.Key()));
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  EXPECT_EQ(h.arm.calls(Method::kPut), 2);
}

TEST(ReconcilerErrorsTest, ConflictAndAuthErrorsAreRetryable) {
  Harness h;
  DataConnectionSpec a = MakeSpec("a");
  h.Apply({a});
  h.arm.InjectError(Method::kPut, ArmError(absl::AbortedError("conflict"), "Conflict"));
  ReconcileResult r = h.Reconcile(a);
  EXPECT_EQ(r.outcome, ReconcileResult::kRetryableError);
  EXPECT_EQ(r.requeue_after, absl::ZeroDuration());  // no Retry-After: the queue backs off
  EXPECT_EQ(h.status.Get(a.id.Key())->FindCondition(kConditionReady)->reason, "Conflict");
  h.arm.InjectError(Method::kPut, ArmError(absl::PermissionDeniedError("no write access"),
                                           "AuthorizationFailed"));
  r = h.Reconcile(a);
  EXPECT_EQ(r.outcome, ReconcileResult::kRetryableError);
  EXPECT_EQ(h.status.Get(a.id.Key())->FindCondition(kConditionReady)->reason, "PermissionDenied");
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
}

TEST(ReconcilerErrorsTest, NotFoundOnPutMeansTheParentIsMissing) {
  Harness h;
  DataConnectionSpec a = MakeSpec("a");
  h.Apply({a});
  h.arm.InjectError(Method::kPut,
                    ArmError(absl::NotFoundError("database db1 not found"), "ResourceNotFound"));
  ReconcileResult r = h.Reconcile(a);
  EXPECT_EQ(r.outcome, ReconcileResult::kTerminalError);
  auto status = h.status.Get(a.id.Key());
  EXPECT_EQ(status->phase, kPhaseStalled);
  EXPECT_EQ(status->FindCondition(kConditionStalled)->reason, "ParentNotFound");
  EXPECT_NE(status->FindCondition(kConditionStalled)->message.find("database db1 not found"),
            std::string::npos);
  // Not remembered: the parent may appear, so the next pass tries again.
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  EXPECT_EQ(h.arm.calls(Method::kPut), 2);
}

TEST(ReconcilerErrorsTest, ListErrorIsRetryableAndWritesNothing) {
  Harness h;
  DataConnectionSpec a = MakeSpec("a");
  h.Apply({a});
  h.arm.InjectError(Method::kList, absl::UnavailableError("503"));
  ReconcileResult r = h.Reconcile(a);
  EXPECT_EQ(r.outcome, ReconcileResult::kRetryableError);
  EXPECT_EQ(h.Writes(), 0);
  EXPECT_EQ(h.Phase(a), kPhaseError);
}

TEST(ReconcilerErrorsTest, InvalidSpecStallsBeforeAnyWrite) {
  Harness h;
  DataConnectionSpec a = MakeSpec("a");
  a.properties.erase("consumerGroup");
  h.Apply({a});
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kTerminalError);
  EXPECT_EQ(h.Writes(), 0);
  EXPECT_EQ(h.status.Get(a.id.Key())->FindCondition(kConditionStalled)->reason, "InvalidSpec");
}

TEST(ReconcilerErrorsTest, ClusterLockSerializesWritesInOneCluster) {
  Harness h;
  h.arm.SetPutPolls(2);
  DataConnectionSpec a = MakeSpec("a", "c1", "db1");
  DataConnectionSpec b = MakeSpec("b", "c1", "db2");  // same cluster, other database
  DataConnectionSpec c = MakeSpec("c", "c2", "db1");  // other cluster
  h.Apply({a, b, c});
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kRequeueAfter);
  EXPECT_EQ(h.cluster_lock.Holder(ClusterKeyOf(a.id)), a.id.Key());
  ReconcileResult rb = h.Reconcile(b);
  EXPECT_EQ(rb.outcome, ReconcileResult::kRequeueAfter);
  EXPECT_EQ(rb.requeue_after, absl::Seconds(2));  // lock_retry
  EXPECT_EQ(h.arm.calls(Method::kPut), 1);
  auto status = h.status.Get(b.id.Key());
  EXPECT_EQ(status->FindCondition(kConditionReconciling)->reason, "WaitingForClusterLock");
  EXPECT_EQ(h.Reconcile(c).outcome, ReconcileResult::kRequeueAfter);
  EXPECT_EQ(h.arm.calls(Method::kPut), 2);  // c's cluster was free

  EXPECT_EQ(h.Converge(a.id.Key()).outcome, ReconcileResult::kDone);
  EXPECT_FALSE(h.cluster_lock.Holder(ClusterKeyOf(a.id)).has_value());
  EXPECT_EQ(h.Converge(b.id.Key()).outcome, ReconcileResult::kDone);
  EXPECT_EQ(h.arm.calls(Method::kPut), 3);
  EXPECT_EQ(h.Phase(b), kPhaseReady);
}

// Waiters of a busy cluster are woken when its lock is released (not on a fixed timer), and
// their status names no holder: it is written once however often the holder changes.
TEST(ReconcilerErrorsTest, LockWaitersAreWokenOnReleaseAndTheirStatusIsWrittenOnce) {
  ScopedDir status_dir;
  Harness h({}, kDefaultMaxDeletesPerPass, status_dir.path());
  std::vector<std::string> woken;
  h.cluster_lock.SetWaker([&woken](const std::string& key) { woken.push_back(key); });
  h.arm.SetPutPolls(1);
  DataConnectionSpec a = MakeSpec("a");
  DataConnectionSpec b = MakeSpec("b");
  DataConnectionSpec c = MakeSpec("c");
  DataConnectionSpec d = MakeSpec("d");
  h.Apply({a, b, c, d});
  ASSERT_EQ(h.Reconcile(a).outcome, ReconcileResult::kRequeueAfter);  // a's PUT runs
  for (const DataConnectionSpec* s : {&b, &c, &d}) {
    ReconcileResult r = h.Reconcile(*s);
    ASSERT_EQ(r.outcome, ReconcileResult::kRequeueAfter);
    EXPECT_EQ(r.requeue_after, absl::Seconds(30));  // a safety net only: the waker wakes it
  }
  const std::string c_file =
      (std::filesystem::path(status_dir.path()) / StatusStore::FileNameFor(c.id.Key())).string();
  auto c_mtime = std::filesystem::last_write_time(c_file);
  int64_t writes = h.status.FileWrites();
  std::string c_message = h.status.Get(c.id.Key())->conditions[0].message;
  EXPECT_EQ(c_message.find(a.id.Key()), std::string::npos) << c_message;  // no holder named

  h.clock.Advance(absl::Seconds(1));
  ASSERT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);  // a's operation is done
  EXPECT_THAT(woken, ::testing::ElementsAre(b.id.Key()));
  ASSERT_EQ(h.Reconcile(b).outcome, ReconcileResult::kRequeueAfter);  // b writes now
  EXPECT_EQ(h.cluster_lock.Holder(ClusterKeyOf(b.id)), b.id.Key());
  // c and d look again (a resync): the holder changed, their status did not.
  EXPECT_EQ(h.Reconcile(c).outcome, ReconcileResult::kRequeueAfter);
  EXPECT_EQ(h.Reconcile(d).outcome, ReconcileResult::kRequeueAfter);
  EXPECT_EQ(h.status.Get(c.id.Key())->conditions[0].message, c_message);
  EXPECT_EQ(std::filesystem::last_write_time(c_file), c_mtime);
  // Writes since: a (Ready) and b (Creating) only.
  EXPECT_EQ(h.status.FileWrites() - writes, 2);

  h.clock.Advance(absl::Seconds(1));
  ASSERT_EQ(h.Reconcile(b).outcome, ReconcileResult::kDone);
  EXPECT_THAT(woken, ::testing::ElementsAre(b.id.Key(), c.id.Key()));
  EXPECT_EQ(h.arm.calls(Method::kPut), 2);
}

TEST(ReconcilerErrorsTest, DriftCorrectionIsCounted) {
  Harness h;
  DataConnectionSpec a = MakeSpec("a");
  h.Apply({a});
  ASSERT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  Counter& drift = h.metrics.drift_corrections.WithLabels({"EventHub"});
  EXPECT_EQ(drift.Value(), 0);
  // Someone edits it in the portal; the next LIST shows it.
  LiveConnection edited = *h.arm.GetConnection(a.id);
  edited.properties["tableName"] = "PortalEdit";
  h.arm.SetConnection(edited);
  ASSERT_TRUE(h.live.Refresh(a.id.Database(), h.arm).ok());
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  EXPECT_EQ(h.arm.calls(Method::kPut), 2);
  EXPECT_EQ(drift.Value(), 1);
  EXPECT_TRUE(h.Logged("drift corrected"));
  EXPECT_TRUE(h.Logged("properties.tableName"));
  // A manifest change is an update, not a drift correction.
  a.properties["tableName"] = "NewTable";
  h.Apply({a});
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  EXPECT_EQ(h.arm.calls(Method::kPut), 3);
  EXPECT_EQ(drift.Value(), 1);
}

TEST(ReconcilerErrorsTest, OwnershipIsOnDiskBeforeTheCreatingPut) {
  ScopedDir state;
  Harness h(ReconcilerOptions{}, kDefaultMaxDeletesPerPass, "", state.path());
  DataConnectionSpec a = MakeSpec("a");
  h.Apply({a});
  // The PUT fails: whatever is on disk now was written before it.
  h.arm.InjectError(Method::kPut, absl::UnavailableError("timeout"));
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kRetryableError);
  auto on_disk = OwnershipJournal::Open(state.path());
  ASSERT_TRUE(on_disk.ok());
  ASSERT_TRUE((*on_disk)->Contains(a.id.Key()));
  EXPECT_EQ((*on_disk)->Get(a.id.Key())->id, a.id.RequestPath());
  EXPECT_EQ((*on_disk)->Get(a.id.Key())->origin, OwnershipRecord::Origin::kCreated);
}

TEST(ReconcilerErrorsTest, JournalWriteFailurePreventsTheCreate) {
  ScopedDir state;
  Harness h(ReconcilerOptions{}, kDefaultMaxDeletesPerPass, "", state.path() + "/sub");
  DataConnectionSpec a = MakeSpec("a");
  h.Apply({a});
  std::filesystem::remove_all(state.path() + "/sub");  // the state dir vanished
  ReconcileResult r = h.Reconcile(a);
  EXPECT_EQ(r.outcome, ReconcileResult::kRetryableError);
  EXPECT_EQ(h.arm.calls(Method::kPut), 0);
  EXPECT_EQ(h.status.Get(a.id.Key())->FindCondition(kConditionReady)->reason, "JournalWriteFailed");
  EXPECT_FALSE(h.cluster_lock.Holder(ClusterKeyOf(a.id)).has_value());
}

TEST(ReconcilerErrorsTest, StatusFilesAreWrittenAndRemoved) {
  ScopedDir dir;
  Harness h(ReconcilerOptions{}, kDefaultMaxDeletesPerPass, dir.path());
  DataConnectionSpec a = MakeSpec("a");
  h.Apply({a});
  ASSERT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  std::string file = dir.path() + "/" + StatusStore::FileNameFor(a.id.Key());
  ASSERT_TRUE(std::filesystem::exists(file));
  std::ifstream in(file);
  nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_EQ(j["phase"], "Ready");
  EXPECT_EQ(j["file"], "m.yaml");
  EXPECT_EQ(j["conditions"][0]["status"], "True");
  h.Apply({});
  ASSERT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  EXPECT_FALSE(std::filesystem::exists(file));
  EXPECT_EQ(dir.Names(), std::vector<std::string>{"_summary.json"});
}

TEST(ReconcilerErrorsTest, LostOperationFallsBackToAGet) {
  Harness h;
  h.arm.SetPutPolls(5);
  DataConnectionSpec a = MakeSpec("a");
  h.Apply({a});
  ASSERT_EQ(h.Reconcile(a).outcome, ReconcileResult::kRequeueAfter);
  h.arm.InjectError(Method::kPoll, absl::NotFoundError("operation expired"));
  // The fake still shows "Creating", so the GET sees someone's operation running.
  ReconcileResult r = h.Reconcile(a);
  EXPECT_EQ(r.outcome, ReconcileResult::kRequeueAfter);
  EXPECT_EQ(h.arm.calls(Method::kGet), 1);
  EXPECT_TRUE(h.reconciler->PendingOperations().empty());
  EXPECT_FALSE(h.cluster_lock.Holder(ClusterKeyOf(a.id)).has_value());
}

}  // namespace
}  // namespace kustodian
