// KubeSource without threads: the reflector handlers fed by hand. Resources become desired
// state under "k8s:<ns>/<name>", invalid specs keep the last good state with errors naming the
// field, the finalizer seeds ownership on first sight only, a resource gone without the
// finalizer takes its ownership with it, and other shards' resources are ignored.
#include "controller/kube_source.h"

#include "controller/kube_shard.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/controller/kube_test_util.h"
#include "tests/fakes/fake_clock.h"

namespace kustodian {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace kubetest;  // NOLINT(google-build-using-namespace): test helpers

class KubeSourceTest : public ::testing::Test {
 protected:
  KubeSourceTest()
      : source_(KubeSourceDeps{api_, clock_, Logger::Null(), desired_, journal_,
                               [this](const std::string& k) { enqueued_.push_back(k); }},
                KubeSourceOptions{}) {}

  json Versioned(json o, int rv, int gen = 1) {
    o["metadata"]["uid"] = "uid-1";
    o["metadata"]["resourceVersion"] = std::to_string(rv);
    o["metadata"]["generation"] = gen;
    return o;
  }

  FakeClock clock_;
  FakeKubeClient api_;
  DesiredStore desired_;
  OwnershipJournal journal_;
  std::vector<std::string> enqueued_;
  KubeSource source_;
};

TEST_F(KubeSourceTest, ResourceBecomesDesiredStateWithItsGeneration) {
  source_.OnReplace("", {Versioned(DataConnection("team-a", "events"), 10, 3)});
  std::optional<DesiredEntry> entry = desired_.Get(KeyOf("events"));
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->file, "k8s:team-a/events");
  EXPECT_EQ(entry->spec.source.generation, 3);
  EXPECT_EQ(entry->spec.source.namespace_, "team-a");
  EXPECT_THAT(enqueued_, ::testing::Contains(KeyOf("events")));
  EXPECT_THAT(enqueued_, ::testing::Contains("k8s:team-a/events"));
  EXPECT_EQ(source_.OwnerOf(KeyOf("events")), "k8s:team-a/events");
  EXPECT_TRUE(source_.Claimed(KeyOf("events")));
  EXPECT_FALSE(journal_.Contains(KeyOf("events"))) << "no finalizer: not owned";
}

TEST_F(KubeSourceTest, InvalidSpecKeepsTheLastGoodStateAndNamesTheField) {
  source_.OnUpsert(Versioned(DataConnection("team-a", "events"), 10));
  json bad = DataConnection("team-a", "events");
  bad["spec"]["properties"]["consumerGroup"] = json::array();
  source_.OnUpsert(Versioned(bad, 11, 2));
  std::optional<KubeObjectState> state = source_.Object("k8s:team-a/events");
  ASSERT_TRUE(state.has_value());
  ASSERT_EQ(state->errors.size(), 1u);
  EXPECT_THAT(state->errors[0], HasSubstr("spec.properties.consumerGroup"));
  std::optional<DesiredEntry> entry = desired_.Get(KeyOf("events"));
  ASSERT_TRUE(entry.has_value()) << "an invalid spec is never a deletion";
  EXPECT_EQ(entry->spec.source.generation, 1);
}

TEST_F(KubeSourceTest, CredentialRefIsReadAndNamesTheSecretOfTheTarget) {
  json dc = DataConnection("team-a", "events");
  dc["spec"]["credentialRef"] = {{"name", "events-sp"}};
  std::vector<std::string> errors;
  DataConnectionSpec spec = ReadKubeSpec(dc, "k8s:team-a/events", &errors);
  EXPECT_EQ(spec.credential_ref, "events-sp");
  EXPECT_TRUE(errors.empty());
  EXPECT_FALSE(source_.CredentialRefOf(KeyOf("events")).has_value());
  source_.OnUpsert(Versioned(dc, 10, 1));
  std::optional<SecretRef> secret = source_.CredentialRefOf(KeyOf("events"));
  ASSERT_TRUE(secret.has_value());
  EXPECT_EQ(secret->Describe(), "team-a/events-sp");
  dc["spec"]["credentialRef"] = {{"nam", "x"}};
  errors.clear();
  ReadKubeSpec(dc, "k8s:team-a/events", &errors);
  EXPECT_THAT(errors, ::testing::Contains(HasSubstr("spec.credentialRef")));
}

TEST_F(KubeSourceTest, StaleEventsAreIgnored) {
  source_.OnUpsert(Versioned(DataConnection("team-a", "events", "New"), 20, 2));
  source_.OnUpsert(Versioned(DataConnection("team-a", "events", "Old"), 15, 1));
  EXPECT_EQ(desired_.Get(KeyOf("events"))->spec.properties.value("tableName", ""), "New");
}

TEST_F(KubeSourceTest, FinalizerSeedsOwnershipOnFirstSightOnly) {
  json owned = Versioned(DataConnection("team-a", "events"), 10);
  owned["metadata"]["finalizers"] = {kube::kFinalizer};
  source_.OnReplace("", {owned});
  ASSERT_TRUE(journal_.Contains(KeyOf("events")));
  EXPECT_EQ(journal_.Get(KeyOf("events"))->file, "k8s:team-a/events");

  // A later retarget is not ownership of the new target (it may already exist unowned).
  json moved = Versioned(DataConnection("team-a", "events"), 11, 2);
  moved["metadata"]["finalizers"] = {kube::kFinalizer};
  moved["spec"]["target"]["name"] = "elsewhere";
  source_.OnUpsert(moved);
  EXPECT_FALSE(journal_.Contains(KeyOf("elsewhere")));
  EXPECT_TRUE(journal_.Contains(KeyOf("events"))) << "the old target is still owned";
  EXPECT_FALSE(source_.Claimed(KeyOf("events"))) << "so it may be deleted";
  EXPECT_THAT(source_.RefsForKey(KeyOf("events")), ElementsAre("k8s:team-a/events"));
}

TEST_F(KubeSourceTest, DeletionTimestampRemovesDesiredStateAndTakesThePolicy) {
  json owned = Versioned(DataConnection("team-a", "events"), 10);
  owned["metadata"]["finalizers"] = {kube::kFinalizer};
  source_.OnReplace("", {owned});
  ASSERT_EQ(journal_.Get(KeyOf("events"))->deletion, DeletionPolicy::kDelete);
  json deleting = Versioned(DataConnection("team-a", "events"), 11, 2);
  deleting["metadata"]["finalizers"] = {kube::kFinalizer};
  deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  deleting["spec"]["policy"] = {{"deletion", "Orphan"}};
  source_.OnUpsert(deleting);
  EXPECT_FALSE(desired_.Get(KeyOf("events")).has_value());
  EXPECT_EQ(journal_.Get(KeyOf("events"))->deletion, DeletionPolicy::kOrphan);
  EXPECT_FALSE(source_.Claimed(KeyOf("events")));
}

TEST_F(KubeSourceTest, ReleasedTargetOfADeletingResourceIsNotTakenBackFromItsStatus) {
  json owned = Versioned(DataConnection("team-a", "events"), 10);
  owned["metadata"]["finalizers"] = {kube::kFinalizer};
  owned["status"] = {{"phase", "Ready"}, {"armId", IdOf("events").RequestPath()}};
  source_.OnReplace("", {owned});
  json deleting = owned;
  deleting["metadata"]["resourceVersion"] = "11";
  deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  source_.OnUpsert(deleting);
  ASSERT_TRUE(journal_.Contains(KeyOf("events")));

  // The reconciler releases the target (Orphan, or the Azure delete finished); the object keeps
  // its finalizer and its "managed" status until the finalizer goes. A later version of it (our
  // own status write coming back) must not make the target owned again, or the finalizer stays.
  journal_.Remove(KeyOf("events"));
  json later = deleting;
  later["metadata"]["resourceVersion"] = "12";
  later["status"]["lastSyncTime"] = "2026-01-01T00:00:01Z";
  source_.OnUpsert(later);
  EXPECT_FALSE(journal_.Contains(KeyOf("events")));

  // Seen for the first time while deleting (a restart): the finalizer is ownership again, so the
  // deletion is carried out.
  KubeSource restarted(
      KubeSourceDeps{api_, clock_, Logger::Null(), desired_, journal_, [](const std::string&) {}},
      KubeSourceOptions{});
  restarted.OnReplace("", {later});
  EXPECT_TRUE(journal_.Contains(KeyOf("events")));
}

TEST_F(KubeSourceTest, GoneWithoutTheFinalizerDropsOwnership) {
  json owned = Versioned(DataConnection("team-a", "events"), 10);
  owned["metadata"]["finalizers"] = {kube::kFinalizer};
  source_.OnReplace("", {owned});
  ASSERT_TRUE(journal_.Contains(KeyOf("events")));
  source_.OnDelete(Versioned(DataConnection("team-a", "events"), 12));
  EXPECT_FALSE(journal_.Contains(KeyOf("events")));
  EXPECT_FALSE(desired_.Get(KeyOf("events")).has_value());
  EXPECT_EQ(source_.size(), 0u);

  // A relist that no longer has a resource is the same as its DELETED event.
  source_.OnReplace("", {owned});
  ASSERT_TRUE(journal_.Contains(KeyOf("events")));
  source_.OnReplace("", {});
  EXPECT_FALSE(journal_.Contains(KeyOf("events")));
}

TEST_F(KubeSourceTest, OtherShardsAreIgnored) {
  KubeSource shard(
      KubeSourceDeps{api_, clock_, Logger::Null(), desired_, journal_, [](const std::string&) {}},
      KubeSourceOptions{{}, 2, 0});
  int mine = 0;
  for (int i = 0; i < 8; ++i) {
    std::string name = absl::StrCat("c", i);
    json o = DataConnection("team-a", name);
    o["metadata"]["uid"] = name;
    shard.OnUpsert(o);
    mine += ShardOf("team-a", name, 2) == 0 ? 1 : 0;
  }
  EXPECT_EQ(shard.size(), static_cast<size_t>(mine));
  EXPECT_EQ(desired_.size(), static_cast<size_t>(mine));
}

}  // namespace
}  // namespace kustodian
