// ResyncLoop with a FakeArmClient and a FakeClock: one LIST per known database per interval,
// the manifests' resyncInterval shortens it, failures back off, and every desired or managed
// key of a listed database is enqueued.
#include "controller/resync.h"

#include <chrono>
#include <set>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/arm/rate_limiter.h"
#include "src/metrics/kustodian_metrics.h"
#include "tests/fakes/fake_arm_client.h"
#include "tests/fakes/fake_clock.h"

namespace kustodian {
namespace {

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

}  // namespace
}  // namespace kustodian
