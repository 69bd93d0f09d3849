// Reconciler: a spec whose target (subscription, resource group, cluster or database) does not
// exist. ARM answers the database's LIST with 404; the resource must end Stalled with reason
// ParentNotFound and a message that says to fix spec.target, write nothing, and be tried again
// on a later pass (the parent may be created). Other LIST errors stay retryable ReadFailed.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "controller/reconciler.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/core/status.h"
#include "tests/controller/reconciler_test_util.h"

namespace kustodian {
namespace {

using ::testing::HasSubstr;
using testing_util::ArmError;
using testing_util::Harness;
using testing_util::MakeSpec;
using Method = FakeArmClient::Method;

// Records the reconciler's events (as the Kubernetes mode turns them into Events).
class RecordingObserver : public ReconcileObserver {
 public:
  absl::Status BeforeOwn(const std::string&) override { return absl::OkStatus(); }
  bool AllowRemoval(const std::string&) override { return true; }
  void OnEvent(const std::string& key, ReconcileEvent event, std::string_view message) override {
    events.push_back({key, std::string(ReconcileEventName(event)), std::string(message)});
  }
  struct Event {
    std::string key;
    std::string name;
    std::string message;
  };
  std::vector<Event> events;
};

// A Harness whose reconciler also reports to a RecordingObserver.
struct ObservedHarness : Harness {
  ObservedHarness() {
    reconciler = std::make_unique<Reconciler>(
        ReconcilerDeps{clock, logger, arm, desired, live, journal, status, cluster_lock, prune,
                       &metrics, &observer},
        ReconcilerOptions{});
  }
  RecordingObserver observer;
};

absl::Status ParentMissing(std::string_view code, const std::string& what) {
  return ArmError(absl::NotFoundError(absl::StrCat("The Resource '", what,
                                                   "' under resource group 'rg' was not found.")),
                  code);
}

TEST(ReconcilerParentTest, NotFoundOnListStallsWithParentNotFoundAndWritesNothing) {
  ObservedHarness h;
  DataConnectionSpec a = MakeSpec("a", "ghostcluster", "db1");
  h.Apply({a});
  h.arm.InjectError(Method::kList,
                    ParentMissing("ResourceNotFound", "Microsoft.Kusto/clusters/ghostcluster"));

  ReconcileResult r = h.Reconcile(a);
  EXPECT_EQ(r.outcome, ReconcileResult::kTerminalError);
  EXPECT_TRUE(absl::IsNotFound(r.error)) << r.error;

  std::optional<ConnectionStatus> status = h.status.Get(a.id.Key());
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->phase, kPhaseStalled);
  const Condition* stalled = status->FindCondition(kConditionStalled);
  ASSERT_NE(stalled, nullptr);
  EXPECT_EQ(stalled->status, kTrue);
  EXPECT_EQ(stalled->reason, "ParentNotFound");
  EXPECT_THAT(stalled->message, HasSubstr("ghostcluster"));  // ARM's words are kept
  EXPECT_THAT(stalled->message, HasSubstr("spec.target"));   // and what to fix
  EXPECT_EQ(status->FindCondition(kConditionReady)->status, kFalse);
  EXPECT_EQ(status->FindCondition(kConditionReconciling)->status, kFalse);
  EXPECT_THAT(status->last_error, HasSubstr("ResourceNotFound"));

  // Nothing written, no ownership taken, no cluster lock left behind.
  EXPECT_EQ(h.Writes(), 0);
  EXPECT_EQ(h.arm.calls(Method::kList), 1);
  EXPECT_FALSE(h.journal.Contains(a.id.Key()));
  EXPECT_FALSE(h.cluster_lock.Holder(ClusterKeyOf(a.id)).has_value());
  EXPECT_TRUE(h.reconciler->PendingOperations().empty());

  // Users hear about it once, as a failure naming the target.
  ASSERT_EQ(h.observer.events.size(), 1u);
  EXPECT_EQ(h.observer.events[0].key, a.id.Key());
  EXPECT_EQ(h.observer.events[0].name, "Failed");
  EXPECT_THAT(h.observer.events[0].message, HasSubstr("spec.target"));
}

// Every 404 ARM gives for a missing parent ends the same way.
TEST(ReconcilerParentTest, EveryParentNotFoundCodeStalls) {
  struct Case {
    const char* code;
    const char* what;
  };
  for (const Case& c :
       {Case{"ResourceNotFound", "Microsoft.Kusto/clusters/c1/databases/nodb"},
        Case{"ParentResourceNotFound", "Microsoft.Kusto/clusters/c1"},
        Case{"ResourceGroupNotFound", "rg"}, Case{"SubscriptionNotFound", testing_util::kSub}}) {
    SCOPED_TRACE(c.code);
    Harness h;
    DataConnectionSpec a = MakeSpec("a", "c1", "nodb");
    h.Apply({a});
    h.arm.InjectError(Method::kList, ParentMissing(c.code, c.what));
    EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kTerminalError);
    EXPECT_EQ(h.Phase(a), kPhaseStalled);
    EXPECT_EQ(h.status.Get(a.id.Key())->FindCondition(kConditionStalled)->reason, "ParentNotFound");
    EXPECT_EQ(h.Writes(), 0);
  }
}

// Not remembered: each pass reads again, and once the parent exists the connection is created.
TEST(ReconcilerParentTest, ParentCreatedLaterIsPickedUpOnTheNextPass) {
  Harness h;
  DataConnectionSpec a = MakeSpec("a", "c1", "later");
  h.Apply({a});
  for (int i = 0; i < 2; ++i) {
    h.arm.InjectError(Method::kList, ParentMissing("ResourceNotFound", "databases/later"));
    EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kTerminalError);
    EXPECT_EQ(h.Phase(a), kPhaseStalled);
  }
  EXPECT_EQ(h.arm.calls(Method::kList), 2) << "a failed LIST must not be cached";
  EXPECT_EQ(h.Writes(), 0);

  // The database now exists (the fake answers the LIST).
  EXPECT_EQ(h.Reconcile(a).outcome, ReconcileResult::kDone);
  EXPECT_EQ(h.arm.calls(Method::kList), 3);
  EXPECT_EQ(h.arm.calls(Method::kPut), 1);
  EXPECT_EQ(h.Phase(a), kPhaseReady);
  EXPECT_TRUE(h.arm.GetConnection(a.id).has_value());
  std::optional<ConnectionStatus> status = h.status.Get(a.id.Key());
  EXPECT_EQ(status->FindCondition(kConditionStalled)->status, kFalse);
  EXPECT_EQ(status->last_error, "");
}

// The same database, other errors: not the parent's fault, so retryable, not Stalled.
TEST(ReconcilerParentTest, OtherListErrorsAreRetryableReadFailures) {
  for (absl::Status error :
       {ArmError(absl::PermissionDeniedError("no read access"), "AuthorizationFailed"),
        ArmError(absl::UnavailableError("Service Unavailable"), "ServiceUnavailable"),
        ArmError(absl::InternalError("Internal Server Error"), "InternalServerError")}) {
    SCOPED_TRACE(error.ToString());
    Harness h;
    DataConnectionSpec a = MakeSpec("a");
    h.Apply({a});
    h.arm.InjectError(Method::kList, error);
    ReconcileResult r = h.Reconcile(a);
    EXPECT_EQ(r.outcome, ReconcileResult::kRetryableError);
    EXPECT_EQ(h.Phase(a), kPhaseError);
    EXPECT_NE(h.status.Get(a.id.Key())->FindCondition(kConditionReady)->reason, "ParentNotFound");
    EXPECT_EQ(h.Writes(), 0);
  }
}

// An owned connection with no manifest whose database is gone is gone too: it is forgotten
// (nothing deleted in Azure), so a DataConnection's finalizer is not held forever.
TEST(ReconcilerParentTest, OwnedWithoutManifestAndDatabaseGoneIsForgotten) {
  Harness h;
  DataConnectionSpec a = MakeSpec("a", "ghostcluster", "db1");
  h.Manage(a);
  h.arm.InjectError(Method::kList,
                    ParentMissing("ResourceNotFound", "Microsoft.Kusto/clusters/ghostcluster"));
  ReconcileResult r = h.Reconcile(a);
  EXPECT_EQ(r.outcome, ReconcileResult::kDone) << r.error;
  EXPECT_FALSE(h.journal.Contains(a.id.Key()));
  EXPECT_FALSE(h.status.Get(a.id.Key()).has_value());
  EXPECT_EQ(h.arm.calls(Method::kDelete), 0);
}

// A SubscriptionNotFound may be the wrong tenant: the record is kept and the read retried.
TEST(ReconcilerParentTest, OwnedWithoutManifestAndSubscriptionNotFoundIsKept) {
  Harness h;
  DataConnectionSpec a = MakeSpec("a", "c1", "db1");
  h.Manage(a);
  h.arm.InjectError(Method::kList, ParentMissing("SubscriptionNotFound", "sub"));
  ReconcileResult r = h.Reconcile(a);
  EXPECT_EQ(r.outcome, ReconcileResult::kRetryableError);
  EXPECT_TRUE(h.journal.Contains(a.id.Key()));
  EXPECT_EQ(h.arm.calls(Method::kDelete), 0);
}

}  // namespace
}  // namespace kustodian
