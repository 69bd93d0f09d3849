// Kubernetes mode end to end inside one process: a Manager with --source=kubernetes over a
// FakeKubeClient (the API server) and a FakeArmClient (Azure). Resources become connections with
// the finalizer added before the create PUT; status follows kstatus with observedGeneration;
// deletion honours the finalizer and the deletion policy; invalid specs and ARM 400s are Stalled
// and not retried until the generation moves; conflicts, broken watches and 410 Gone recover.
#include "controller/kube_controller.h"

#include <atomic>
#include <thread>

#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/controller/kube_test_util.h"

namespace kustodian {
namespace {

using ::testing::HasSubstr;
using namespace kubetest;  // NOLINT(google-build-using-namespace): test helpers

class KubeControllerTest : public ::testing::Test {
 protected:
  void Start(DaemonOptions options = KubeDaemonOptions()) {
    replica_ = std::make_unique<Replica>(api_, azure_, clock_, options);
    absl::Status st = replica_->Start();
    ASSERT_TRUE(st.ok()) << st;
  }
  void TearDown() override { replica_.reset(); }

  std::optional<json> Obj(const std::string& name, const std::string& ns = "team-a") {
    return api_.Object(kube::DataConnectionGvr(), ns, name);
  }
  void Apply(const json& object) {
    const std::string ns = object["metadata"]["namespace"];
    const std::string name = object["metadata"]["name"];
    std::optional<json> current = Obj(name, ns);
    if (!current) {
      ASSERT_TRUE(api_.Create(kube::DataConnectionGvr(), ns, object).ok());
      return;
    }
    // Like kubectl apply: a 409 (the controller wrote the status meanwhile) is read again.
    for (int attempt = 0;; ++attempt) {
      json next = *current;
      next["spec"] = object["spec"];
      absl::StatusOr<json> updated = api_.Update(kube::DataConnectionGvr(), ns, next);
      if (updated.ok()) {
        return;
      }
      ASSERT_TRUE(kube::IsConflict(updated.status()) && attempt < 5) << updated.status();
      current = Obj(name, ns);
      ASSERT_TRUE(current.has_value());
    }
  }
  bool ReadyAt(const std::string& name, int64_t generation) {
    return ConditionIs(Obj(name), "Ready", "True", generation);
  }
  std::vector<std::string> EventReasons(const std::string& name) {
    std::vector<std::string> out;
    for (const json& e : api_.Objects(kube::EventGvr(), "team-a")) {
      if (e.contains("regarding") && e["regarding"].value("name", "") == name) {
        out.push_back(e.value("reason", ""));
      }
    }
    return out;
  }

  RealClock clock_;
  FakeKubeClient api_;
  FakeArmClient azure_{&clock_};
  std::unique_ptr<Replica> replica_;
};

TEST_F(KubeControllerTest, CreateAddsFinalizerBeforePutAndReportsReady) {
  std::atomic<int> puts_without_finalizer{0};
  DaemonOptions options = KubeDaemonOptions();
  replica_ = std::make_unique<Replica>(api_, azure_, clock_, options);
  replica_->arm().before_put = [&](const DataConnectionSpec& spec) {
    std::optional<json> o = Obj(spec.source.name);
    if (!o || !kube::HasFinalizer(*o, kube::kFinalizer)) ++puts_without_finalizer;
  };
  ASSERT_TRUE(replica_->Start().ok());
  Apply(DataConnection("team-a", "events"));

  ASSERT_TRUE(WaitUntil([&] { return ReadyAt("events", 1); })) << Obj("events")->dump(2);
  EXPECT_EQ(puts_without_finalizer.load(), 0);
  EXPECT_EQ(azure_.put_specs().size(), 1u);
  std::optional<json> o = Obj("events");
  EXPECT_TRUE(kube::HasFinalizer(*o, kube::kFinalizer));
  const json& status = (*o)["status"];
  EXPECT_EQ(status.value("observedGeneration", 0), 1);
  EXPECT_EQ(status.value("phase", ""), "Ready");
  EXPECT_THAT(status.value("armId", ""), HasSubstr("/DataConnections/events"));
  EXPECT_EQ(status.value("provisioningState", ""), "Succeeded");
  EXPECT_TRUE(ConditionIs(o, "Stalled", "False"));
  EXPECT_TRUE(ConditionIs(o, "Reconciling", "False"));
  EXPECT_FALSE(ConditionOf(o, "Ready").value("lastTransitionTime", "").empty());
  EXPECT_EQ(ConditionOf(o, "Ready").value("observedGeneration", 0), 1);
  EXPECT_TRUE(WaitUntil([&] { return replica_->manager().Ready(); }));
  EXPECT_TRUE(WaitUntil([&] {
    std::vector<std::string> reasons = EventReasons("events");
    return std::find(reasons.begin(), reasons.end(), "Created") != reasons.end();
  }));
}

TEST_F(KubeControllerTest, SpecEditMovesGenerationCausesOnePutAndObservedGenerationFollows) {
  Start();
  Apply(DataConnection("team-a", "events"));
  ASSERT_TRUE(WaitUntil([&] { return ReadyAt("events", 1); }));
  ASSERT_EQ(azure_.put_specs().size(), 1u);

  Apply(DataConnection("team-a", "events", "OtherTable"));
  ASSERT_EQ(kube::GenerationOf(*Obj("events")), 2);
  ASSERT_TRUE(WaitUntil([&] { return ReadyAt("events", 2); })) << Obj("events")->dump(2);
  EXPECT_EQ(azure_.put_specs().size(), 2u);
  EXPECT_EQ(azure_.put_specs().back().properties.value("tableName", ""), "OtherTable");

  // A metadata-only change moves no generation and writes nothing.
  json o = *Obj("events");
  o["metadata"]["labels"] = {{"team", "a"}};
  ASSERT_TRUE(api_.Update(kube::DataConnectionGvr(), "team-a", o).ok());
  const int status_writes = api_.calls(FakeKubeClient::Verb::kUpdateStatus);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // nothing may happen meanwhile
  EXPECT_EQ(azure_.put_specs().size(), 2u);
  EXPECT_EQ(api_.calls(FakeKubeClient::Verb::kUpdateStatus), status_writes) << "no write storm";
  EXPECT_EQ(kube::GenerationOf(*Obj("events")), 2);
}

TEST_F(KubeControllerTest, DeleteWaitsForTheAzureDeleteThenRemovesTheFinalizer) {
  // The first poll answers "still running, ask again in 800 ms" and the second one completes
  // the delete, so the check below sees the delete still running however fast the machine.
  // (This test once failed because each of our own status writes during the delete woke the
  // key, which polled at once, ignoring the Retry-After: the operation was done within ms.)
  azure_.SetDeletePolls(2);
  azure_.SetPollRetryAfter(absl::Milliseconds(800));
  std::atomic<int> deletes_after_object_gone{0};
  replica_ = std::make_unique<Replica>(api_, azure_, clock_, KubeDaemonOptions());
  replica_->arm().before_delete = [&](const DataConnectionId& id) {
    if (!Obj(id.name)) ++deletes_after_object_gone;
  };
  ASSERT_TRUE(replica_->Start().ok());
  Apply(DataConnection("team-a", "events"));
  ASSERT_TRUE(WaitUntil([&] { return ReadyAt("events", 1); }));

  ASSERT_TRUE(api_.Delete(kube::DataConnectionGvr(), "team-a", "events").ok());
  ASSERT_TRUE(WaitUntil([&] { return azure_.deleted_ids().size() == 1; }));
  // The Azure delete is still running: the object waits with its finalizer.
  std::optional<json> waiting = Obj("events");
  ASSERT_TRUE(waiting.has_value())
      << "gone after " << azure_.calls(FakeArmClient::Method::kPoll) << " poll(s); writes:\n"
      << absl::StrJoin(api_.writes(), "\n");
  EXPECT_TRUE(kube::IsBeingDeleted(*waiting));
  EXPECT_TRUE(kube::HasFinalizer(*waiting, kube::kFinalizer));
  EXPECT_LE(azure_.calls(FakeArmClient::Method::kPoll), 1) << "polls honour the Retry-After";

  ASSERT_TRUE(WaitUntil([&] { return !Obj("events").has_value(); }));
  EXPECT_EQ(deletes_after_object_gone.load(), 0);
  EXPECT_FALSE(azure_.GetConnection(IdOf("events")).has_value());
  EXPECT_EQ(azure_.deleted_ids().size(), 1u);
}

TEST_F(KubeControllerTest, OrphanPolicyRemovesTheFinalizerWithoutTouchingAzure) {
  Start();
  json dc = DataConnection("team-a", "events");
  dc["spec"]["policy"] = {{"deletion", "Orphan"}};
  Apply(dc);
  ASSERT_TRUE(WaitUntil([&] { return ReadyAt("events", 1); }));

  ASSERT_TRUE(api_.Delete(kube::DataConnectionGvr(), "team-a", "events").ok());
  ASSERT_TRUE(WaitUntil([&] { return !Obj("events").has_value(); }));
  EXPECT_TRUE(azure_.deleted_ids().empty());
  EXPECT_TRUE(azure_.GetConnection(IdOf("events")).has_value());
}

TEST_F(KubeControllerTest, OrphanChosenRightBeforeDeletionIsHonoured) {
  Start();
  Apply(DataConnection("team-a", "events"));
  ASSERT_TRUE(WaitUntil([&] { return ReadyAt("events", 1); }));
  // The policy is changed right before the delete (the reconciler may not have seen it yet).
  json dc = DataConnection("team-a", "events");
  dc["spec"]["policy"] = {{"deletion", "Orphan"}};
  Apply(dc);
  ASSERT_TRUE(api_.Delete(kube::DataConnectionGvr(), "team-a", "events").ok());
  ASSERT_TRUE(WaitUntil([&] { return !Obj("events").has_value(); }));
  EXPECT_TRUE(azure_.deleted_ids().empty());
}

TEST_F(KubeControllerTest, ObjectRemovedWithoutTheFinalizerDeletesNothingInAzure) {
  Start();
  Apply(DataConnection("team-a", "events"));
  ASSERT_TRUE(WaitUntil([&] { return ReadyAt("events", 1); }));
  // Someone strips the finalizer, then deletes: the object goes at once.
  ASSERT_TRUE(api_.Patch(kube::DataConnectionGvr(), "team-a", "events", kube::PatchType::kMerge,
                         R"({"metadata":{"finalizers":null}})")
                  .ok());
  ASSERT_TRUE(api_.Delete(kube::DataConnectionGvr(), "team-a", "events").ok());
  ASSERT_FALSE(Obj("events").has_value());
  ASSERT_TRUE(
      WaitUntil([&] { return replica_->manager().status().Get(KeyOf("events")) == std::nullopt; }));
  EXPECT_TRUE(azure_.deleted_ids().empty());
  EXPECT_TRUE(azure_.GetConnection(IdOf("events")).has_value());
}

TEST_F(KubeControllerTest, InvalidSpecIsStalledNamingTheFieldAndNeverAPut) {
  Start();
  json dc = DataConnection("team-a", "events");
  dc["spec"]["kind"] = "IotHubb";
  Apply(dc);
  ASSERT_TRUE(WaitUntil([&] { return ConditionIs(Obj("events"), "Stalled", "True", 1); }));
  json stalled = ConditionOf(Obj("events"), "Stalled");
  EXPECT_EQ(stalled.value("reason", ""), "InvalidSpec");
  EXPECT_THAT(stalled.value("message", ""), HasSubstr("spec.kind"));
  EXPECT_TRUE(ConditionIs(Obj("events"), "Ready", "False"));
  EXPECT_EQ(azure_.put_specs().size(), 0u);
  EXPECT_FALSE(kube::HasFinalizer(*Obj("events"), kube::kFinalizer));
  EXPECT_TRUE(WaitUntil([&] {
    std::vector<std::string> reasons = EventReasons("events");
    return std::find(reasons.begin(), reasons.end(), "InvalidSpec") != reasons.end();
  }));

  Apply(DataConnection("team-a", "events"));  // fixed: generation 2
  ASSERT_TRUE(WaitUntil([&] { return ReadyAt("events", 2); })) << Obj("events")->dump(2);
  EXPECT_EQ(azure_.put_specs().size(), 1u);
}

TEST_F(KubeControllerTest, InvalidEditKeepsTheLastGoodStateAndIsNeverADeletion) {
  Start();
  Apply(DataConnection("team-a", "events"));
  ASSERT_TRUE(WaitUntil([&] { return ReadyAt("events", 1); }));
  json dc = DataConnection("team-a", "events");
  dc["spec"]["target"].erase("database");
  Apply(dc);
  ASSERT_TRUE(WaitUntil([&] { return ConditionIs(Obj("events"), "Stalled", "True", 2); }));
  EXPECT_THAT(ConditionOf(Obj("events"), "Stalled").value("message", ""),
              HasSubstr("spec.target.database"));
  EXPECT_TRUE(azure_.deleted_ids().empty());
  EXPECT_TRUE(azure_.GetConnection(IdOf("events")).has_value());
  EXPECT_TRUE(replica_->manager().desired().Get(KeyOf("events")).has_value());
}

TEST_F(KubeControllerTest, ArmRejectionIsStalledAndNotRetriedUntilTheGenerationMoves) {
  Start();
  azure_.InjectError(FakeArmClient::Method::kPut,
                     absl::InvalidArgumentError("consumer group $Default is not allowed"));
  Apply(DataConnection("team-a", "events"));
  ASSERT_TRUE(WaitUntil([&] { return ConditionIs(Obj("events"), "Stalled", "True", 1); }));
  EXPECT_EQ(ConditionOf(Obj("events"), "Stalled").value("reason", ""), "ArmRejected");
  ASSERT_EQ(azure_.calls(FakeArmClient::Method::kPut), 1);

  // More passes for the same spec (resyncs, other events) write nothing.
  const double before = replica_->metrics().ReconcileResult(kResultSuccess).Value();
  for (int i = 0; i < 3; ++i) {
    replica_->manager().queue().Add(KeyOf("events"));
    ASSERT_TRUE(WaitUntil([&] {
      return replica_->metrics().ReconcileResult(kResultSuccess).Value() >= before + i + 1;
    }));
  }
  EXPECT_EQ(azure_.calls(FakeArmClient::Method::kPut), 1);

  Apply(DataConnection("team-a", "events", "Fixed"));
  ASSERT_TRUE(WaitUntil([&] { return ReadyAt("events", 2); }));
  EXPECT_EQ(azure_.calls(FakeArmClient::Method::kPut), 2);
}

TEST_F(KubeControllerTest, StatusConflictsAreRetriedWithAFreshRead) {
  Start();
  api_.ConflictNextUpdateStatus(3);
  Apply(DataConnection("team-a", "events"));
  ASSERT_TRUE(WaitUntil([&] { return ReadyAt("events", 1); }));
  EXPECT_GE(api_.calls(FakeKubeClient::Verb::kUpdateStatus), 4);
}

TEST_F(KubeControllerTest, BrokenWatchAndGoneAreRecovered) {
  Start();
  Apply(DataConnection("team-a", "events"));
  ASSERT_TRUE(WaitUntil([&] { return ReadyAt("events", 1); }));
  KubeSource& source = replica_->manager().kube()->source();
  const int64_t lists = source.lists();

  api_.BreakWatches();
  Apply(DataConnection("team-a", "events", "AfterBreak"));
  ASSERT_TRUE(WaitUntil([&] { return ReadyAt("events", 2); }));

  api_.Compact();  // the open watch ends with 410 and older versions are gone: relist
  Apply(DataConnection("team-a", "events", "AfterGone"));
  ASSERT_TRUE(WaitUntil([&] { return ReadyAt("events", 3); }));
  EXPECT_GT(source.lists(), lists);
  EXPECT_EQ(azure_.put_specs().size(), 3u);

  // A resource deleted while no watch is open is noticed through the relist.
  api_.Compact();
  ASSERT_TRUE(api_.Delete(kube::DataConnectionGvr(), "team-a", "events").ok());
  ASSERT_TRUE(WaitUntil([&] { return !Obj("events").has_value(); }));
  EXPECT_EQ(azure_.deleted_ids().size(), 1u);
}

TEST_F(KubeControllerTest, TwoResourcesForOneTargetConflictWithoutDeleting) {
  Start();
  Apply(DataConnection("team-a", "events"));
  ASSERT_TRUE(WaitUntil([&] { return ReadyAt("events", 1); }));
  json twin = DataConnection("team-a", "events-twin");
  twin["spec"]["target"]["name"] = "events";  // same Azure connection
  Apply(twin);
  ASSERT_TRUE(WaitUntil([&] { return ConditionIs(Obj("events-twin"), "Stalled", "True", 1); }));
  EXPECT_TRUE(ReadyAt("events", 1));
  EXPECT_EQ(azure_.put_specs().size(), 1u);
  EXPECT_FALSE(kube::HasFinalizer(*Obj("events-twin"), kube::kFinalizer));

  // Deleting the twin (never owner) leaves the connection alone.
  ASSERT_TRUE(api_.Delete(kube::DataConnectionGvr(), "team-a", "events-twin").ok());
  ASSERT_FALSE(Obj("events-twin").has_value());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_TRUE(azure_.deleted_ids().empty());
  EXPECT_TRUE(ReadyAt("events", 1));
}

TEST_F(KubeControllerTest, RestartTrustsTheFinalizerAsOwnership) {
  Start();
  Apply(DataConnection("team-a", "events"));
  ASSERT_TRUE(WaitUntil([&] { return ReadyAt("events", 1); }));
  replica_.reset();  // the in-memory journal is gone

  Start();
  ASSERT_TRUE(WaitUntil([&] { return replica_->manager().Ready(); }));
  ASSERT_TRUE(api_.Delete(kube::DataConnectionGvr(), "team-a", "events").ok());
  ASSERT_TRUE(WaitUntil([&] { return !Obj("events").has_value(); }));
  EXPECT_EQ(azure_.deleted_ids().size(), 1u);
}

TEST_F(KubeControllerTest, WatchNamespacesLimitWhatIsManaged) {
  DaemonOptions options = KubeDaemonOptions();
  options.kube.watch_namespaces = {"team-a"};
  Start(options);
  Apply(DataConnection("team-a", "events"));
  json other = DataConnection("team-b", "other");
  Apply(other);
  ASSERT_TRUE(WaitUntil([&] { return ReadyAt("events", 1); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(Obj("other", "team-b")->contains("status"));
  EXPECT_EQ(azure_.put_specs().size(), 1u);
}

TEST(KubeStatusTest, StatusJsonFollowsKstatus) {
  ConnectionStatus s;
  s.arm_id = "/subscriptions/x/dataConnections/y";
  s.observed_generation = 4;
  s.provisioning_state = "Succeeded";
  s.last_error = "BadRequest: Authorization: Bearer abc.def";
  SetPhase(s, kPhaseStalled, "ArmRejected", "ARM rejected the PUT", absl::FromUnixSeconds(100));
  json j = KubeStatusJson(s, 9);
  EXPECT_EQ(j["observedGeneration"], 4);
  EXPECT_EQ(j["phase"], "Stalled");
  ASSERT_EQ(j["conditions"].size(), 3u);
  EXPECT_EQ(j["conditions"][2]["type"], "Stalled");
  EXPECT_EQ(j["conditions"][2]["status"], "True");
  EXPECT_EQ(j["conditions"][2]["observedGeneration"], 4);
  EXPECT_EQ(j["conditions"][0]["lastTransitionTime"], "1970-01-01T00:01:40Z");
  EXPECT_THAT(j["lastError"].get<std::string>(), ::testing::Not(HasSubstr("abc.def")));

  json older = j;
  older["conditions"][0]["lastTransitionTime"] = "2020-01-01T00:00:00Z";
  older["lastSyncTime"] = "2020-01-01T00:00:00Z";
  json kept = KeepTransitionTimes(j, older);
  EXPECT_EQ(kept["conditions"][0]["lastTransitionTime"], "2020-01-01T00:00:00Z");
  EXPECT_TRUE(SameKubeStatus(kept, older));
  older["phase"] = "Ready";
  EXPECT_FALSE(SameKubeStatus(kept, older));
}

}  // namespace
}  // namespace kustodian
