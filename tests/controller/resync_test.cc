// ResyncLoop with a FakeArmClient and a FakeClock: one LIST per known database per interval,
// the manifests' resyncInterval shortens it, failures back off, and every desired or managed
// key of a listed database is enqueued unless the LIST confirmed it in sync (with a Reconciler).
#include "controller/resync.h"

#include <chrono>
#include <set>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/arm/rate_limiter.h"
#include "src/metrics/kustodian_metrics.h"
#include "tests/controller/reconciler_test_util.h"
#include "tests/fakes/fake_arm_client.h"
#include "tests/fakes/fake_clock.h"

namespace kustodian {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

constexpr char kDbA[] =
    "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Kusto/clusters/c1/databases/a";
constexpr char kDbB[] =
    "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Kusto/clusters/c1/databases/b";

DataConnectionSpec SpecIn(const std::string& db, const std::string& name,
                          absl::Duration resync = absl::Minutes(5)) {
  DataConnectionSpec spec;
  spec.id = *DataConnectionId::Parse(db + "/dataConnections/" + name);
  spec.location = "eastus";
  spec.policy.resync_interval = resync;
  return spec;
}

class ResyncTest : public ::testing::Test {
 protected:
  ResyncTest() : metrics_(registry_) {}

  std::unique_ptr<ResyncLoop> MakeLoop(absl::Duration interval) {
    ResyncOptions options;
    options.interval = interval;
    return std::make_unique<ResyncLoop>(
        ResyncDeps{clock_, Logger::Null(), arm_, live_, desired_, journal_, &metrics_,
                   [this](const std::string& key) { enqueued_.insert(key); }},
        options);
  }

  FakeClock clock_;
  FakeArmClient arm_{&clock_};
  LiveCache live_{clock_};
  DesiredStore desired_;
  OwnershipJournal journal_;
  Registry registry_;
  KustodianMetrics metrics_;
  std::set<std::string> enqueued_;
};

TEST_F(ResyncTest, ListsEachKnownDatabaseOnceAndEnqueuesItsKeys) {
  DataConnectionSpec a1 = SpecIn(kDbA, "a1");
  desired_.ApplyFile("a.yaml", {a1, SpecIn(kDbA, "a2")});
  DataConnectionId b1 = *DataConnectionId::Parse(std::string(kDbB) + "/dataConnections/b1");
  OwnershipRecord record;
  record.id = b1.RequestPath();
  journal_.Add(b1.Key(), record);  // managed, manifest gone

  auto loop = MakeLoop(absl::Minutes(5));
  EXPECT_FALSE(loop->AllListed());
  EXPECT_EQ(loop->Unlisted().size(), 2u);
  EXPECT_EQ(loop->RunDue(), 2);
  EXPECT_EQ(arm_.calls(FakeArmClient::Method::kList), 2);
  EXPECT_EQ(arm_.calls(FakeArmClient::Method::kGet), 0);
  EXPECT_TRUE(loop->AllListed());
  EXPECT_THAT(enqueued_, UnorderedElementsAre(a1.id.Key(), SpecIn(kDbA, "a2").id.Key(), b1.Key()));
  EXPECT_EQ(metrics_.last_resync_timestamp.Value(), absl::ToUnixSeconds(clock_.Now()));

  EXPECT_EQ(loop->RunDue(), 0) << "not due again yet";
  clock_.Advance(absl::Minutes(4));
  EXPECT_EQ(loop->RunDue(), 0) << "jitter is at most 10%";
  clock_.Advance(absl::Seconds(91));  // 5m31s: past 5m + 10%
  EXPECT_EQ(loop->RunDue(), 2);
  EXPECT_EQ(arm_.calls(FakeArmClient::Method::kList), 4);
}

TEST_F(ResyncTest, ManifestIntervalShortensOnlyItsDatabase) {
  desired_.ApplyFile("a.yaml", {SpecIn(kDbA, "fast", absl::Minutes(1))});
  desired_.ApplyFile("b.yaml", {SpecIn(kDbB, "slow", absl::Hours(1))});
  auto loop = MakeLoop(absl::Minutes(5));
  DatabaseId a = *DatabaseId::Parse(kDbA);
  DatabaseId b = *DatabaseId::Parse(kDbB);
  EXPECT_EQ(loop->IntervalFor(a.Key()), absl::Minutes(1));
  EXPECT_EQ(loop->IntervalFor(b.Key()), absl::Minutes(5)) << "the flag is the longest interval";
  EXPECT_EQ(loop->RunDue(), 2);
  clock_.Advance(absl::Seconds(67));
  EXPECT_EQ(loop->RunDue(), 1);
  EXPECT_EQ(arm_.calls(FakeArmClient::Method::kList), 3);
}

TEST_F(ResyncTest, ZeroIntervalListsOnlyOnce) {
  desired_.ApplyFile("a.yaml", {SpecIn(kDbA, "a1")});
  auto loop = MakeLoop(absl::ZeroDuration());
  EXPECT_EQ(loop->RunDue(), 1);
  clock_.Advance(absl::Hours(24));
  EXPECT_EQ(loop->RunDue(), 0);
  // A database that appears later still gets its first LIST.
  desired_.ApplyFile("b.yaml", {SpecIn(kDbB, "b1")});
  EXPECT_EQ(loop->RunDue(), 1);
}

TEST_F(ResyncTest, FailedListBacksOffAndKeepsNotReady) {
  desired_.ApplyFile("a.yaml", {SpecIn(kDbA, "a1")});
  auto loop = MakeLoop(absl::Minutes(5));
  arm_.InjectError(FakeArmClient::Method::kList, absl::UnavailableError("throttled"));
  EXPECT_EQ(loop->RunDue(), 0);
  EXPECT_FALSE(loop->AllListed());
  EXPECT_TRUE(enqueued_.empty());
  EXPECT_EQ(loop->RunDue(), 0) << "backing off";
  EXPECT_EQ(arm_.calls(FakeArmClient::Method::kList), 1);
  clock_.Advance(absl::Seconds(6));
  EXPECT_EQ(loop->RunDue(), 1);
  EXPECT_TRUE(loop->AllListed());
}

// A LIST the ARM rate limiter held back was not sent: it goes out when the token is due, not
// after the error backoff (5 s, doubling), and a later real failure still starts at 5 s.
TEST_F(ResyncTest, ListHeldBackByTheRateLimiterRetriesWhenTheTokenIsDue) {
  desired_.ApplyFile("a.yaml", {SpecIn(kDbA, "a1")});
  auto loop = MakeLoop(absl::Minutes(5));
  arm_.InjectError(FakeArmClient::Method::kList,
                   RateLimitWaitError("no reads token", absl::Milliseconds(40)));
  arm_.InjectError(FakeArmClient::Method::kList,
                   RateLimitWaitError("no reads token", absl::Milliseconds(40)));
  EXPECT_EQ(loop->RunDue(), 0);
  clock_.Advance(absl::Milliseconds(40));
  EXPECT_EQ(loop->RunDue(), 0);
  clock_.Advance(absl::Milliseconds(40));
  arm_.InjectError(FakeArmClient::Method::kList, absl::UnavailableError("503"));
  EXPECT_EQ(loop->RunDue(), 0);
  EXPECT_EQ(arm_.calls(FakeArmClient::Method::kList), 3);
  clock_.Advance(absl::Milliseconds(4900));
  EXPECT_EQ(loop->RunDue(), 0) << "a real failure backs off 5 s (the first one)";
  clock_.Advance(absl::Milliseconds(100));
  EXPECT_EQ(loop->RunDue(), 1);
  EXPECT_TRUE(loop->AllListed());
}

TEST_F(ResyncTest, ThreadRunsUntilStopped) {
  desired_.ApplyFile("a.yaml", {SpecIn(kDbA, "a1")});
  auto loop = MakeLoop(absl::Minutes(5));
  loop->Start();
  for (int i = 0; i < 10000 && arm_.calls(FakeArmClient::Method::kList) == 0; ++i) {
    loop->Wake();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(arm_.calls(FakeArmClient::Method::kList), 1);
  loop->Stop();
  loop->Stop();
}

// Issue 6: the resync and the reconciler together. After a LIST, a key whose live entry did not
// change and that its last reconcile found in sync with the same spec is not enqueued; drift,
// spec changes, failures and removed manifests still are.
class ResyncWithReconcilerTest : public ::testing::Test {
 protected:
  ResyncWithReconcilerTest() {
    ResyncOptions options;
    options.interval = absl::Seconds(30);
    loop_ = std::make_unique<ResyncLoop>(
        ResyncDeps{h_.clock, h_.logger, h_.arm, h_.live, h_.desired, h_.journal, &h_.metrics,
                   [this](const std::string& key) { queued_.push_back(key); }, &h_.status},
        options);
  }

  // One resync: past the interval (+ jitter), one LIST, then every enqueued key reconciled
  // until it no longer waits. Returns the enqueued keys, sorted.
  std::vector<std::string> Round() {
    h_.clock.Advance(absl::Seconds(34));
    queued_.clear();
    EXPECT_EQ(loop_->RunDue(), 1);
    std::vector<std::string> keys = queued_;
    std::sort(keys.begin(), keys.end());
    for (const std::string& key : keys) {
      h_.Converge(key);
    }
    return keys;
  }
  // Creates a1 and a2 and resyncs until a round enqueues nothing (at most 4 rounds).
  void Converge() {
    h_.Apply({a1_, a2_});
    for (int i = 0; i < 4; ++i) {
      if (Round().empty()) {
        return;
      }
    }
    ADD_FAILURE() << "a resync of connections in sync still enqueues them";
  }
  int Lists() const { return h_.arm.calls(FakeArmClient::Method::kList); }

  testing_util::Harness h_;
  std::unique_ptr<ResyncLoop> loop_;
  std::vector<std::string> queued_;
  DataConnectionSpec a1_ = testing_util::MakeSpec("a1");
  DataConnectionSpec a2_ = testing_util::MakeSpec("a2");
};

TEST_F(ResyncWithReconcilerTest, ResyncOfConnectionsInSyncEnqueuesNothing) {
  h_.Apply({a1_, a2_});
  EXPECT_THAT(Round(), ElementsAre(a1_.id.Key(), a2_.id.Key())) << "created";
  EXPECT_EQ(h_.Writes(), 2);
  EXPECT_THAT(Round(), ElementsAre(a1_.id.Key(), a2_.id.Key()))
      << "not yet found in sync by a reconcile";
  EXPECT_EQ(h_.Phase(a1_), "Ready");
  const int lists = Lists();
  EXPECT_THAT(Round(), ElementsAre());
  EXPECT_THAT(Round(), ElementsAre());
  EXPECT_EQ(Lists(), lists + 2) << "still one LIST per database per resync";
  EXPECT_EQ(h_.Writes(), 2);
  // The statuses say when the LIST confirmed them.
  const std::optional<absl::Time> listed = h_.live.ListedAt(a1_.id.Database().Key());
  ASSERT_TRUE(listed.has_value());
  EXPECT_EQ(*listed, h_.clock.Now());
  for (const DataConnectionSpec* spec : {&a1_, &a2_}) {
    std::optional<ConnectionStatus> status = h_.status.Get(spec->id.Key());
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(status->phase, "Ready");
    EXPECT_EQ(status->last_sync_time, listed);
  }
}

TEST_F(ResyncWithReconcilerTest, DriftOfOneConnectionIsEnqueuedAndCorrectedInOneResync) {
  Converge();
  const int writes = h_.Writes();
  LiveConnection drifted = testing_util::LiveFrom(a1_);
  drifted.properties["consumerGroup"] = "someone-else";
  h_.arm.SetConnection(drifted);
  EXPECT_THAT(Round(), ElementsAre(a1_.id.Key())) << "only the drifted connection";
  EXPECT_EQ(h_.Writes(), writes + 1);
  absl::StatusOr<std::vector<LiveConnection>> live = h_.arm.List(a1_.id.Database());
  ASSERT_TRUE(live.ok());
  for (const LiveConnection& c : *live) {
    EXPECT_EQ(c.properties["consumerGroup"], "$Default") << c.id.name;
  }
  Round();  // the corrected key is confirmed in sync by one more reconcile
  EXPECT_THAT(Round(), ElementsAre());
  EXPECT_EQ(h_.Writes(), writes + 1);
}

TEST_F(ResyncWithReconcilerTest, ChangedSpecIsEnqueuedEvenWhenNothingElseEnqueuedIt) {
  Converge();
  DataConnectionSpec edited = a2_;
  edited.properties["tableName"] = "Other";
  h_.Apply({a1_, edited});  // no source enqueues it here: only the resync can
  EXPECT_THAT(Round(), ElementsAre(a2_.id.Key()));
  absl::StatusOr<std::vector<LiveConnection>> live = h_.arm.List(a2_.id.Database());
  ASSERT_TRUE(live.ok());
  ASSERT_EQ(live->size(), 2u);
  EXPECT_EQ((*live)[1].properties["tableName"], "Other");
}

TEST_F(ResyncWithReconcilerTest, FailedKeysAndRemovedManifestsAreEnqueuedAtEveryResync) {
  Converge();
  LiveConnection drifted = testing_util::LiveFrom(a1_);
  drifted.properties["consumerGroup"] = "someone-else";
  h_.arm.SetConnection(drifted);
  h_.arm.InjectError(FakeArmClient::Method::kPut,
                     testing_util::ArmError(absl::InvalidArgumentError("bad"), "BadRequest"));
  EXPECT_THAT(Round(), ElementsAre(a1_.id.Key()));
  EXPECT_EQ(h_.Phase(a1_), "Stalled");
  EXPECT_THAT(Round(), ElementsAre(a1_.id.Key())) << "a failed key is not known to be in sync";

  h_.Apply({a1_});  // a2's manifest is gone: deleted at the next resync
  EXPECT_THAT(Round(), ElementsAre(a1_.id.Key(), a2_.id.Key()));
  EXPECT_EQ(h_.arm.calls(FakeArmClient::Method::kDelete), 1);
}

}  // namespace
}  // namespace kustodian
