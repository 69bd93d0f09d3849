// OwnWrites / RecentSet / OwnWriteRecordingArmClient and EventCoalescer: recognising the
// daemon's own writes (also when the event outruns the write's answer) and collapsing bursts.
#include "controller/eventgrid_own_writes.h"

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "controller/eventgrid_coalescer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fakes/fake_arm_client.h"
#include "tests/fakes/fake_clock.h"

namespace kustodian {
namespace {

bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() > deadline) {
      return false;
    }
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

constexpr char kKey[] =
    "/subscriptions/s/resourcegroups/g/providers/microsoft.kusto/clusters/c/databases/d/"
    "dataconnections/n";

TEST(RecentSetTest, ForgetsAfterTheTtlAndBeyondTheSize) {
  FakeClock clock;
  RecentSet set(clock, absl::Minutes(10), 3);
  EXPECT_TRUE(set.Insert("a"));
  EXPECT_FALSE(set.Insert("a"));  // present: refreshed
  clock.Advance(absl::Minutes(9));
  EXPECT_TRUE(set.Contains("a"));
  EXPECT_TRUE(set.Insert("b"));
  clock.Advance(absl::Minutes(2));
  EXPECT_FALSE(set.Contains("a"));  // 11 minutes old
  EXPECT_TRUE(set.Contains("b"));
  EXPECT_TRUE(set.Insert("c"));
  EXPECT_TRUE(set.Insert("d"));
  EXPECT_TRUE(set.Insert("e"));  // b, c, d, e: the oldest (b) goes
  EXPECT_EQ(set.Size(), 3u);
  EXPECT_FALSE(set.Contains("b"));
  EXPECT_TRUE(set.Contains("e"));
}

TEST(RecentSetTest, RefreshingOneValueForeverStaysBounded) {
  FakeClock clock;
  RecentSet set(clock, absl::Minutes(10), 4);
  for (int i = 0; i < 10000; ++i) {
    set.Insert("same");
  }
  EXPECT_EQ(set.Size(), 1u);
  EXPECT_TRUE(set.Contains("same"));
}

TEST(OwnWritesTest, RecognisesRememberedIdsOnly) {
  FakeClock clock;
  OwnWrites own(clock);
  own.BeginWrite(kKey);
  own.EndWrite(kKey, "corr-1");
  EXPECT_TRUE(own.IsOwn("corr-1"));
  EXPECT_FALSE(own.IsOwn("corr-2"));
  EXPECT_FALSE(own.IsOwn(""));
  auto never = [](bool) { ADD_FAILURE() << "nothing is parked"; };
  EXPECT_EQ(own.Classify(kKey, "corr-1", never), OwnWrites::Verdict::kOwn);
  EXPECT_EQ(own.Classify(kKey, "corr-2", never), OwnWrites::Verdict::kForeign);
  EXPECT_EQ(own.Classify(kKey, "", never), OwnWrites::Verdict::kForeign);
  clock.Advance(absl::Minutes(11));
  EXPECT_EQ(own.Classify(kKey, "corr-1", never), OwnWrites::Verdict::kForeign);
  // A failed write remembers nothing.
  own.BeginWrite(kKey);
  own.EndWrite(kKey, "");
  EXPECT_EQ(own.InFlight(), 0);
}

TEST(OwnWritesTest, AnEventThatOutrunsItsWriteIsDecidedWhenTheWriteReturns) {
  FakeClock clock;
  OwnWrites own(clock);
  std::vector<std::pair<std::string, bool>> decided;
  own.BeginWrite(kKey);
  EXPECT_EQ(own.Classify(kKey, "ours", [&](bool o) { decided.emplace_back("ours", o); }),
            OwnWrites::Verdict::kParked);
  EXPECT_EQ(own.Classify(kKey, "theirs", [&](bool o) { decided.emplace_back("theirs", o); }),
            OwnWrites::Verdict::kParked);
  // Another key is not affected by this key's write.
  EXPECT_EQ(own.Classify("other", "x", [](bool) {}), OwnWrites::Verdict::kForeign);
  EXPECT_EQ(own.Parked(), 2);
  EXPECT_TRUE(decided.empty());
  own.EndWrite(kKey, "ours");
  EXPECT_EQ(own.Parked(), 0);
  EXPECT_THAT(decided, ::testing::ElementsAre(std::make_pair(std::string("ours"), true),
                                              std::make_pair(std::string("theirs"), false)));
}

TEST(OwnWritesTest, ParkedEventsExpireAsForeign) {
  FakeClock clock;
  OwnWritesOptions options;
  options.max_park = absl::Seconds(30);
  OwnWrites own(clock, options);
  int foreign = 0;
  own.BeginWrite(kKey);
  EXPECT_EQ(own.Classify(kKey, "x", [&](bool o) { foreign += o ? 0 : 1; }),
            OwnWrites::Verdict::kParked);
  clock.Advance(absl::Seconds(31));
  EXPECT_EQ(own.Classify("other", "y", [](bool) {}), OwnWrites::Verdict::kForeign);
  EXPECT_EQ(foreign, 1);
  EXPECT_EQ(own.Parked(), 0);
}

TEST(OwnWritesTest, RecordingClientRemembersEveryPutAndDelete) {
  FakeClock clock;
  FakeArmClient arm(&clock);
  OwnWrites own(clock);
  OwnWriteRecordingArmClient client(arm, own);
  DataConnectionSpec spec;
  spec.id = *DataConnectionId::Parse(
      "/subscriptions/s/resourceGroups/g/providers/Microsoft.Kusto/clusters/c/databases/d/"
      "dataConnections/n");
  spec.kind = ConnectionKind::kEventHub;
  spec.location = "eastus2";
  spec.properties = {{"eventHubResourceId",
                      "/subscriptions/s/resourceGroups/g/providers/Microsoft.EventHub/"
                      "namespaces/ns/eventhubs/h"},
                     {"consumerGroup", "$Default"}};
  absl::StatusOr<WriteResult> put = client.Put(spec);
  ASSERT_TRUE(put.ok()) << put.status();
  ASSERT_FALSE(put->correlation_id.empty());
  EXPECT_TRUE(own.IsOwn(put->correlation_id));
  absl::StatusOr<WriteResult> del = client.Delete(spec.id);
  ASSERT_TRUE(del.ok()) << del.status();
  EXPECT_TRUE(own.IsOwn(del->correlation_id));
  EXPECT_NE(put->correlation_id, del->correlation_id);
  EXPECT_EQ(own.InFlight(), 0);
  EXPECT_TRUE(client.Get(spec.id).status().code() == absl::StatusCode::kNotFound);
}

TEST(EventCoalescerTest, OneWindowPerBurstCappedByMaxDelay) {
  FakeClock clock;
  std::vector<std::string> fired;
  EventCoalescer c(clock, {absl::Milliseconds(30), absl::Milliseconds(100)},
                   [&](const std::string& k) { fired.push_back(k); });
  EXPECT_TRUE(c.Add("a"));
  EXPECT_FALSE(c.Add("a"));
  clock.Advance(absl::Milliseconds(29));
  EXPECT_EQ(c.FireDue(), 0);
  EXPECT_FALSE(c.Add("a"));  // pushes the window to t=59ms
  clock.Advance(absl::Milliseconds(29));
  EXPECT_EQ(c.FireDue(), 0);
  // Events every 20 ms keep extending it, but never past first + 100 ms.
  for (int i = 0; i < 3; ++i) {
    c.Add("a");
    clock.Advance(absl::Milliseconds(20));
    c.FireDue();
  }
  EXPECT_THAT(fired, ::testing::ElementsAre("a"));  // fired at t=100ms
  EXPECT_EQ(c.Pending(), 0);
  EXPECT_TRUE(c.Add("a"));  // a new window
  EXPECT_TRUE(c.Add("b"));
  clock.Advance(absl::Milliseconds(30));
  EXPECT_EQ(c.FireDue(), 2);
  EXPECT_THAT(fired, ::testing::ElementsAre("a", "a", "b"));
}

TEST(EventCoalescerTest, ZeroQuietFiresAtOnce) {
  FakeClock clock;
  int fired = 0;
  EventCoalescer c(clock, {absl::ZeroDuration(), absl::ZeroDuration()},
                   [&](const std::string&) { ++fired; });
  c.Add("a");
  c.Add("a");
  EXPECT_EQ(fired, 2);
  EXPECT_EQ(c.Pending(), 0);
}

TEST(EventCoalescerTest, TheTimerThreadFiresOnTheRealClock) {
  RealClock clock;
  std::atomic<int> fired{0};
  EventCoalescer c(clock, {absl::Milliseconds(20), absl::Milliseconds(200)},
                   [&](const std::string&) { ++fired; });
  c.Start();
  const absl::Time start = absl::Now();
  for (int i = 0; i < 100; ++i) {
    c.Add("a");
  }
  ASSERT_TRUE(WaitFor([&] { return fired.load() == 1; }, absl::Seconds(5)));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(20));
  c.Stop();
  EXPECT_EQ(fired.load(), 1);
}

}  // namespace
}  // namespace kustodian
