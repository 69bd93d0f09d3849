// Handle is called from many server threads at once: state and counters stay consistent.
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "src/emulator/lro.h"
#include "tests/emulator/emulator_test_util.h"

namespace kustodian::emulator::testing {
namespace {

TEST(OperationTableTest, CompletesInDueOrderAndForgetsOldFinishedOnes) {
  OperationTable table(/*max_finished=*/2);
  absl::Time t0 = absl::FromUnixSeconds(100);
  for (int i = 0; i < 4; ++i) {
    Operation op;
    op.id = absl::StrCat("op", i);
    op.cluster_key = "c";
    op.start = t0;
    op.due = t0 + absl::Seconds(4 - i);  // op3 is due first
    table.Start(op);
  }
  EXPECT_TRUE(table.ClusterBusy("c"));
  std::vector<Operation> done = table.CompleteDue(t0 + absl::Seconds(2));
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].id, "op3");
  EXPECT_EQ(done[1].id, "op2");
  EXPECT_EQ(table.Find("OP3")->status, "Succeeded");
  EXPECT_TRUE(table.ClusterBusy("c"));
  EXPECT_EQ(table.CompleteDue(t0 + absl::Seconds(10)).size(), 2u);
  EXPECT_FALSE(table.ClusterBusy("c"));
  // Only the two most recently finished are remembered.
  EXPECT_EQ(table.Find("op3"), nullptr);
  EXPECT_EQ(table.Find("op2"), nullptr);
  EXPECT_NE(table.Find("op0"), nullptr);
  EXPECT_EQ(table.All().size(), 2u);
}

TEST(ConcurrencyTest, ParallelRequestsAreAllCountedAndApplied) {
  FakeClock clock;
  EmulatorOptions options = TestOptions();
  options.serialize_cluster_writes = false;
  options.throttle.enabled = false;
  Emulator emulator(options, clock);
  ASSERT_TRUE(emulator.LoadWorld(*ParseWorld(kWorldYaml, "w.yaml")).ok());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  std::vector<int> created(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string name = absl::StrCat("t", t, "-", i % 5);
        ServerResponse r = emulator.Handle(
            MakeRequest("PUT", absl::StrCat(kDb, "/dataConnections/", name, kApi), EventHubBody()));
        if (r.status == 201) {
          ++created[t];
        }
        emulator.Handle(MakeRequest("GET", absl::StrCat(kDb, "/dataConnections", kApi)));
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(created[t], 5) << t;  // the rest were 409s on the same names
  }
  nlohmann::json stats = BodyJson(emulator.Handle(MakeRequest("GET", "/_admin/stats", "", false)));
  EXPECT_EQ(stats["total"], kThreads * kPerThread * 2);
  nlohmann::json list =
      BodyJson(emulator.Handle(MakeRequest("GET", absl::StrCat(kDb, "/dataConnections", kApi))));
  EXPECT_EQ(list["value"].size(), static_cast<size_t>(kThreads * 5));
}

}  // namespace
}  // namespace kustodian::emulator::testing
