// WorkQueue: collapse of repeated adds, one worker per key, delayed and rate-limited adds on a
// FakeClock, shutdown, metrics, and a multi-threaded stress run.
#include "controller/work_queue.h"

#include <array>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "src/metrics/kustodian_metrics.h"
#include "tests/fakes/fake_clock.h"

namespace kustodian {
namespace {

constexpr auto kDeadline = std::chrono::seconds(10);

// A queue whose rate limiter is plain exponential backoff (no bucket).
std::unique_ptr<WorkQueue> NewQueue(FakeClock& clock, WorkQueueMetrics metrics = {}) {
  return std::make_unique<WorkQueue>(clock,
                                     std::make_unique<ItemExponentialFailureRateLimiter>(
                                         absl::Milliseconds(5), absl::Seconds(1000)),
                                     metrics);
}

// Get that must not block (the key is known to be ready).
std::string MustGet(WorkQueue& queue) {
  std::string key;
  EXPECT_TRUE(queue.Get(&key));
  return key;
}

TEST(WorkQueueTest, RepeatedAddsCollapse) {
  FakeClock clock;
  auto queue = NewQueue(clock);
  queue->Add("a");
  queue->Add("b");
  queue->Add("a");
  queue->Add("a");
  EXPECT_EQ(queue->Len(), 2);
  EXPECT_EQ(MustGet(*queue), "a");
  EXPECT_EQ(MustGet(*queue), "b");
  EXPECT_EQ(queue->Len(), 0);
  queue->Done("a");
  queue->Done("b");
  EXPECT_EQ(queue->Len(), 0);
}

TEST(WorkQueueTest, KeyInProcessingIsNotHandedOutAgainUntilDone) {
  FakeClock clock;
  auto queue = NewQueue(clock);
  queue->Add("a");
  ASSERT_EQ(MustGet(*queue), "a");
  queue->Add("a");  // dirty while processing: must not be queued yet
  queue->Add("a");
  queue->Add("b");
  EXPECT_EQ(queue->Len(), 1);
  EXPECT_EQ(MustGet(*queue), "b");
  EXPECT_EQ(queue->Len(), 0);
  queue->Done("a");  // re-queued once
  EXPECT_EQ(queue->Len(), 1);
  EXPECT_EQ(MustGet(*queue), "a");
  queue->Done("a");
  queue->Done("b");
  queue->Done("a");  // not processing: ignored
  EXPECT_EQ(queue->Len(), 0);
}

TEST(WorkQueueTest, AddAfterBecomesReadyInTimeOrder) {
  FakeClock clock;
  auto queue = NewQueue(clock);
  queue->AddAfter("late", absl::Seconds(2));
  queue->AddAfter("early", absl::Seconds(1));
  queue->AddAfter("now", absl::ZeroDuration());
  EXPECT_EQ(queue->Len(), 1);
  EXPECT_EQ(queue->NumDelayed(), 2);
  clock.Advance(absl::Milliseconds(999));
  queue->Tick();
  EXPECT_EQ(queue->Len(), 1);
  clock.Advance(absl::Milliseconds(1));
  queue->Tick();
  EXPECT_EQ(queue->Len(), 2);
  EXPECT_EQ(MustGet(*queue), "now");
  EXPECT_EQ(MustGet(*queue), "early");
  clock.Advance(absl::Seconds(1));
  queue->Tick();
  EXPECT_EQ(MustGet(*queue), "late");
  EXPECT_EQ(queue->NumDelayed(), 0);
}

TEST(WorkQueueTest, AddAfterKeepsTheEarlierReadyTime) {
  FakeClock clock;
  auto queue = NewQueue(clock);
  queue->AddAfter("a", absl::Seconds(5));
  queue->AddAfter("a", absl::Seconds(1));  // earlier: replaces
  queue->AddAfter("b", absl::Seconds(1));
  queue->AddAfter("b", absl::Seconds(5));  // later: ignored
  EXPECT_EQ(queue->NumDelayed(), 2);
  clock.Advance(absl::Seconds(1));
  queue->Tick();
  EXPECT_EQ(queue->Len(), 2);
  EXPECT_EQ(queue->NumDelayed(), 0);
}

TEST(WorkQueueTest, BlockedGetPicksUpDelayedKeyWithoutExplicitTick) {
  FakeClock clock;
  auto queue = NewQueue(clock);
  auto got = std::async(std::launch::async, [&] {
    std::string key;
    return queue->Get(&key) ? key : std::string("<shutdown>");
  });
  queue->AddAfter("a", absl::Minutes(5));
  clock.Advance(absl::Minutes(5));  // Get's bounded wait notices within kPollInterval
  ASSERT_EQ(got.wait_for(kDeadline), std::future_status::ready);
  EXPECT_EQ(got.get(), "a");
}

TEST(WorkQueueTest, RateLimitedBackoffDoublesAndForgetResets) {
  FakeClock clock;
  auto queue = NewQueue(clock);
  for (int i = 0; i < 4; ++i) {
    const absl::Duration expected = absl::Milliseconds(5) * (1 << i);
    queue->AddRateLimited("a");
    EXPECT_EQ(queue->NumRequeues("a"), i + 1);
    clock.Advance(expected - absl::Nanoseconds(1));
    queue->Tick();
    ASSERT_EQ(queue->Len(), 0) << "attempt " << i << " ready before " << expected;
    clock.Advance(absl::Nanoseconds(1));
    queue->Tick();
    ASSERT_EQ(queue->Len(), 1) << "attempt " << i << " not ready after " << expected;
    EXPECT_EQ(MustGet(*queue), "a");
    queue->Done("a");
  }
  queue->Forget("a");
  EXPECT_EQ(queue->NumRequeues("a"), 0);
  queue->AddRateLimited("a");
  clock.Advance(absl::Milliseconds(5));
  queue->Tick();
  EXPECT_EQ(queue->Len(), 1);
}

TEST(WorkQueueTest, ShutDownUnblocksGetAndStopsAdds) {
  FakeClock clock;
  auto queue = NewQueue(clock);
  auto got = std::async(std::launch::async, [&] {
    std::string key;
    return queue->Get(&key);
  });
  queue->ShutDown();
  ASSERT_EQ(got.wait_for(kDeadline), std::future_status::ready);
  EXPECT_FALSE(got.get());
  EXPECT_TRUE(queue->ShuttingDown());
  queue->Add("a");
  queue->AddAfter("b", absl::ZeroDuration());
  EXPECT_EQ(queue->Len(), 0);
  std::string key;
  EXPECT_FALSE(queue->Get(&key));
}

TEST(WorkQueueTest, KeysQueuedBeforeShutDownAreStillHandedOut) {
  FakeClock clock;
  auto queue = NewQueue(clock);
  queue->Add("a");
  queue->AddAfter("delayed", absl::Seconds(1));
  queue->ShutDown();
  EXPECT_EQ(MustGet(*queue), "a");
  clock.Advance(absl::Seconds(1));
  queue->Tick();  // delayed keys are dropped on shutdown
  std::string key;
  EXPECT_FALSE(queue->Get(&key));
}

TEST(WorkQueueTest, ShutDownWithDrainWaitsForInFlightKeys) {
  FakeClock clock;
  auto queue = NewQueue(clock);
  queue->Add("a");
  ASSERT_EQ(MustGet(*queue), "a");
  std::atomic<bool> drained{false};
  auto drain = std::async(std::launch::async, [&] {
    queue->ShutDownWithDrain();
    drained = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (!queue->ShuttingDown()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "ShutDownWithDrain never started";
    std::this_thread::yield();
  }
  EXPECT_FALSE(drained.load()) << "returned while \"a\" was still processing";
  EXPECT_EQ(drain.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  queue->Done("a");
  ASSERT_EQ(drain.wait_for(kDeadline), std::future_status::ready);
  EXPECT_TRUE(drained.load());
}

TEST(WorkQueueTest, MetricsFollowClientGo) {
  FakeClock clock;
  Registry registry;
  KustodianMetrics metrics(registry);
  auto queue = NewQueue(clock, WorkQueueMetrics::From(metrics));
  queue->Add("a");
  queue->Add("a");  // collapsed: not counted
  queue->Add("b");
  EXPECT_EQ(metrics.workqueue_adds.Value(), 2);
  EXPECT_EQ(metrics.workqueue_depth.Value(), 2);

  clock.Advance(absl::Seconds(2));
  ASSERT_EQ(MustGet(*queue), "a");
  EXPECT_EQ(metrics.workqueue_depth.Value(), 1);
  EXPECT_EQ(metrics.workqueue_queue_duration.Count(), 1u);
  EXPECT_EQ(metrics.workqueue_queue_duration.Sum(), 2);

  clock.Advance(absl::Seconds(3));
  ASSERT_EQ(MustGet(*queue), "b");  // queued 5 s
  clock.Advance(absl::Seconds(1));
  queue->Tick();
  EXPECT_EQ(metrics.workqueue_unfinished_work.Value(), 4 + 1);
  EXPECT_EQ(metrics.workqueue_longest_running_processor.Value(), 4);

  queue->Done("a");
  EXPECT_EQ(metrics.workqueue_work_duration.Count(), 1u);
  EXPECT_EQ(metrics.workqueue_work_duration.Sum(), 4);
  queue->AddRateLimited("a");
  queue->AddAfter("c", absl::ZeroDuration());
  EXPECT_EQ(metrics.workqueue_retries.Value(), 2);
  queue->Done("b");
  queue->Tick();
  EXPECT_EQ(metrics.workqueue_unfinished_work.Value(), 0);
  EXPECT_EQ(metrics.workqueue_queue_duration.Sum(), 2 + 5);
  EXPECT_NE(registry.Serialize().find("workqueue_adds_total{name=\"dataconnection\"} 3\n"),
            std::string::npos);
}

// 4 workers, 10k adds over 100 keys from 2 producers: a key is never processed by two workers
// at once, and every key is processed at least once after its last add.
TEST(WorkQueueTest, StressNoConcurrentProcessingAndNoLostAdds) {
  constexpr int kKeys = 100;
  constexpr int kAddsPerProducer = 5000;
  constexpr int kProducers = 2;
  constexpr int kWorkers = 4;
  FakeClock clock;
  Registry registry;
  KustodianMetrics metrics(registry);
  WorkQueue queue(clock, nullptr, WorkQueueMetrics::From(metrics));

  std::array<std::atomic<int>, kKeys> in_flight{};
  std::array<std::atomic<int>, kKeys> adds{};     // incremented before each Add
  std::array<std::atomic<int>, kKeys> covered{};  // adds[k] seen when a worker started k
  std::atomic<int> overlaps{0};
  std::atomic<int> processed{0};

  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&] {
      std::string key;
      while (queue.Get(&key)) {
        const int k = std::stoi(key);
        if (in_flight[k].fetch_add(1) != 0) {
          ++overlaps;
        }
        const int seen = adds[k].load();
        int prev = covered[k].load();
        while (prev < seen && !covered[k].compare_exchange_weak(prev, seen)) {
        }
        ++processed;
        std::this_thread::yield();
        in_flight[k].fetch_sub(1);
        queue.Done(key);
      }
    });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kAddsPerProducer; ++i) {
        const int k = (i * 7 + p * 13) % kKeys;
        adds[k].fetch_add(1);
        queue.Add(std::to_string(k));
      }
    });
  }
  for (std::thread& t : producers) {
    t.join();
  }
  queue.ShutDown();  // queued and dirty keys are still handed out
  for (std::thread& t : workers) {
    t.join();
  }

  EXPECT_EQ(overlaps.load(), 0);
  int total_adds = 0;
  for (int k = 0; k < kKeys; ++k) {
    total_adds += adds[k].load();
    EXPECT_EQ(covered[k].load(), adds[k].load()) << "key " << k << " missed its last add";
  }
  EXPECT_EQ(total_adds, kProducers * kAddsPerProducer);
  EXPECT_GE(processed.load(), kKeys);
  EXPECT_EQ(queue.Len(), 0);
  EXPECT_EQ(metrics.workqueue_depth.Value(), 0);
  EXPECT_EQ(metrics.workqueue_adds.Value(), metrics.workqueue_queue_duration.Count());
  EXPECT_EQ(metrics.workqueue_work_duration.Count(), static_cast<uint64_t>(processed.load()));
}

}  // namespace
}  // namespace kustodian
