#include "controller/cluster_lock.h"

#include "controller/prune_guard.h"
#include "gtest/gtest.h"
#include "tests/controller/reconciler_test_util.h"

namespace kustodian {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing_util::MakeSpec;

TEST(ClusterLockTest, OneOwnerPerCluster) {
  ClusterLock lock;
  EXPECT_TRUE(lock.TryAcquire("c1", "k1"));
  EXPECT_TRUE(lock.TryAcquire("c1", "k1"));  // re-entrant for the holder
  EXPECT_FALSE(lock.TryAcquire("c1", "k2"));
  EXPECT_TRUE(lock.TryAcquire("c2", "k2"));  // other clusters are independent
  EXPECT_EQ(lock.Holder("c1"), "k1");
  EXPECT_FALSE(lock.Release("c1", "k2"));  // not the holder
  EXPECT_EQ(lock.Holder("c1"), "k1");
  EXPECT_TRUE(lock.Release("c1", "k1"));
  EXPECT_FALSE(lock.Holder("c1").has_value());
  EXPECT_TRUE(lock.TryAcquire("c1", "k2"));
  EXPECT_EQ(lock.HeldCount(), 2u);
}

TEST(ClusterLockTest, ReleaseWakesTheFirstWaiterOnce) {
  ClusterLock lock;
  std::vector<std::string> woken;
  lock.SetWaker([&woken](const std::string& key) { woken.push_back(key); });
  ASSERT_TRUE(lock.HasWaker());
  ASSERT_TRUE(lock.TryAcquire("c1", "a"));
  EXPECT_FALSE(lock.TryAcquire("c1", "b"));
  EXPECT_FALSE(lock.TryAcquire("c1", "c"));
  EXPECT_FALSE(lock.TryAcquire("c1", "b"));  // still one entry, first place kept
  EXPECT_THAT(lock.Waiters("c1"), ElementsAre("b", "c"));
  EXPECT_TRUE(lock.Release("c1", "a"));
  EXPECT_THAT(woken, ElementsAre("b"));  // only the first: no herd
  // A pass of another waiter that finds the lock free but does not take it wakes nobody new.
  EXPECT_FALSE(lock.Release("c1", "c"));
  EXPECT_THAT(woken, ElementsAre("b"));
  EXPECT_THAT(lock.Waiters("c1"), ElementsAre("b"));
  EXPECT_TRUE(lock.TryAcquire("c1", "b"));
  EXPECT_THAT(lock.Waiters("c1"), IsEmpty());
  EXPECT_TRUE(lock.Release("c1", "b"));
  EXPECT_THAT(woken, ElementsAre("b"));  // nobody waits
  EXPECT_EQ(lock.HeldCount(), 0u);
}

TEST(ClusterLockTest, WokenWaiterThatDoesNotTakeTheLockPassesItsTurnOn) {
  ClusterLock lock;
  std::vector<std::string> woken;
  lock.SetWaker([&woken](const std::string& key) { woken.push_back(key); });
  ASSERT_TRUE(lock.TryAcquire("c1", "a"));
  EXPECT_FALSE(lock.TryAcquire("c1", "b"));
  EXPECT_FALSE(lock.TryAcquire("c1", "c"));
  lock.Release("c1", "a");
  EXPECT_THAT(woken, ElementsAre("b"));
  lock.Release("c1", "b");  // b's pass wrote nothing (its manifest changed meanwhile)
  EXPECT_THAT(woken, ElementsAre("b", "c"));
  // Someone else took the lock before c came: c waits again and is woken at the next release.
  ASSERT_TRUE(lock.TryAcquire("c1", "d"));
  EXPECT_FALSE(lock.TryAcquire("c1", "c"));
  lock.Release("c1", "d");
  EXPECT_THAT(woken, ElementsAre("b", "c", "c"));
}

TEST(ClusterLockTest, ClusterKeyIgnoresDatabaseAndCase) {
  DataConnectionSpec a = MakeSpec("a", "Cluster1", "db1");
  DataConnectionSpec b = MakeSpec("b", "cluster1", "DB2");
  DataConnectionSpec c = MakeSpec("c", "cluster2", "db1");
  EXPECT_EQ(ClusterKeyOf(a.id), ClusterKeyOf(b.id));
  EXPECT_NE(ClusterKeyOf(a.id), ClusterKeyOf(c.id));
}

TEST(PruneGuardTest, BudgetPerPass) {
  PruneGuard guard(2);
  EXPECT_TRUE(guard.TryConsume("a"));
  EXPECT_TRUE(guard.TryConsume("b"));
  EXPECT_TRUE(guard.TryConsume("a"));  // keeps its budget within the pass
  EXPECT_FALSE(guard.TryConsume("c"));
  EXPECT_FALSE(guard.TryConsume("d"));
  EXPECT_THAT(guard.Held(), ElementsAre("c", "d"));
  EXPECT_EQ(guard.Used(), 2);
  guard.BeginPass();
  EXPECT_EQ(guard.Used(), 0);
  EXPECT_THAT(guard.Held(), ElementsAre("c", "d"));  // still waiting
  EXPECT_TRUE(guard.TryConsume("c"));
  EXPECT_THAT(guard.Held(), ElementsAre("d"));
  guard.Forget("d");
  EXPECT_THAT(guard.Held(), IsEmpty());
}

TEST(PruneGuardTest, ZeroHoldsEverythingNegativeIsUnlimited) {
  PruneGuard none(0);
  EXPECT_FALSE(none.TryConsume("a"));
  PruneGuard unlimited(-1);
  for (int i = 0; i < 100; ++i) {
    EXPECT_TRUE(unlimited.TryConsume(absl::StrCat("k", i)));
  }
}

}  // namespace
}  // namespace kustodian
