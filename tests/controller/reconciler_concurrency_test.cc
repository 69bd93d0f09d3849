// Reconciler under concurrent workers: the cluster lock keeps one write per cluster in flight.
#include <map>
#include <thread>

#include "controller/reconciler.h"
#include "gtest/gtest.h"
#include "tests/controller/reconciler_test_util.h"

namespace kustodian {
namespace {

using testing_util::Harness;
using testing_util::MakeSpec;

// Forwards to a FakeArmClient and records the most writes ever in flight at once per cluster.
class CountingArm : public ArmClient {
 public:
  explicit CountingArm(FakeArmClient& inner) : inner_(inner) {}
  absl::StatusOr<LiveConnection> Get(const DataConnectionId& id) override { return inner_.Get(id); }
  absl::StatusOr<std::vector<LiveConnection>> List(const DatabaseId& db) override {
    return inner_.List(db);
  }
  absl::StatusOr<WriteResult> Put(const DataConnectionSpec& spec) override {
    std::string cluster = ClusterKeyOf(spec.id);
    Enter(cluster);
    std::this_thread::yield();  // widen the window in which a second writer could enter
    auto result = inner_.Put(spec);
    Leave(cluster);
    return result;
  }
  absl::StatusOr<WriteResult> Delete(const DataConnectionId& id) override {
    return inner_.Delete(id);
  }
  absl::StatusOr<PollResult> Poll(const ArmOperation& op) override { return inner_.Poll(op); }
  absl::StatusOr<std::vector<std::string>> Validate(const DataConnectionSpec& spec) override {
    return inner_.Validate(spec);
  }
  int max_in_flight() const {
    std::lock_guard<std::mutex> lock(mu_);
    return max_;
  }

 private:
  void Enter(const std::string& cluster) {
    std::lock_guard<std::mutex> lock(mu_);
    max_ = std::max(max_, ++in_flight_[cluster]);
  }
  void Leave(const std::string& cluster) {
    std::lock_guard<std::mutex> lock(mu_);
    --in_flight_[cluster];
  }
  FakeArmClient& inner_;
  mutable std::mutex mu_;
  std::map<std::string, int> in_flight_;  // guarded by mu_
  int max_ = 0;                           // guarded by mu_
};

TEST(ReconcilerConcurrencyTest, WorkersNeverWriteOneClusterTwiceAtOnce) {
  Harness h;
  h.arm.SetPutPolls(2);
  CountingArm counting(h.arm);
  Reconciler reconciler(ReconcilerDeps{h.clock, h.logger, counting, h.desired, h.live, h.journal,
                                       h.status, h.cluster_lock, h.prune, &h.metrics},
                        ReconcilerOptions{});
  std::vector<DataConnectionSpec> specs;
  for (int i = 0; i < 24; ++i) {
    specs.push_back(MakeSpec(absl::StrCat("conn", i), absl::StrCat("cluster", i % 3),
                             absl::StrCat("db", i % 2)));
  }
  h.Apply(specs);
  ASSERT_TRUE(h.live.Refresh(specs[0].id.Database(), h.arm).ok());  // warm one database
  // Like the work queue, never hand one key to two workers at once: worker w owns the keys
  // with index % 4 == w, while every cluster is shared by all workers.
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&, w] {
      for (int round = 0; round < 200; ++round) {
        for (size_t i = w; i < specs.size(); i += 4) {
          reconciler.Reconcile(specs[i].id.Key());
        }
      }
    });
  }
  for (auto& t : workers) {
    t.join();
  }
  // Finish anything still in flight.
  for (const auto& spec : specs) {
    ReconcileResult r;
    for (int pass = 0; pass < 50; ++pass) {
      r = reconciler.Reconcile(spec.id.Key());
      if (r.outcome == ReconcileResult::kDone) {
        break;
      }
    }
    EXPECT_EQ(r.outcome, ReconcileResult::kDone) << spec.id.Key();
    EXPECT_EQ(h.Phase(spec), kPhaseReady) << spec.id.Key();
  }
  EXPECT_EQ(counting.max_in_flight(), 1);
  EXPECT_EQ(h.arm.calls(FakeArmClient::Method::kPut), 24);  // one create each, no duplicates
  EXPECT_EQ(h.cluster_lock.HeldCount(), 0u);
  EXPECT_TRUE(reconciler.PendingOperations().empty());
}

}  // namespace
}  // namespace kustodian
