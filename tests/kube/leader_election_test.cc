// LeaderElector against an in-test Lease store served over HTTP (with resourceVersion
// preconditions): one leader among two, takeover after the leader stops renewing, immediate
// takeover after a release on Stop(), and tolerance of a 409 conflict.
#include "src/kube/leader_election.h"

#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <thread>

#include "absl/strings/match.h"
#include "tests/kube/test_api_server.h"

namespace kustodian::kube {
namespace {

using testing::TestApiServer;
using Ms = std::chrono::milliseconds;

template <typename Pred>
bool WaitFor(Pred pred, Ms timeout = Ms(10000)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(Ms(5));
  }
  return true;
}

// One namespace, one Lease; writes need the current resourceVersion.
class LeaseStore {
 public:
  ServerResponse Handle(const ServerRequest& req) {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string collection = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases";
    if (req.method == "POST" && req.path == collection) {
      if (!lease_.is_null()) {
        return TestApiServer::Json(409, TestApiServer::StatusBody(409, "AlreadyExists", "exists"));
      }
      lease_ = nlohmann::json::parse(req.body);
      lease_["metadata"]["resourceVersion"] = std::to_string(++rv_);
      return TestApiServer::Json(201, lease_);
    }
    if (req.path != collection + "/lead") {
      return TestApiServer::Json(404, TestApiServer::StatusBody(404, "NotFound", req.path));
    }
    if (lease_.is_null()) {
      return TestApiServer::Json(404, TestApiServer::StatusBody(404, "NotFound", "no lease"));
    }
    if (req.method == "GET") {
      return TestApiServer::Json(200, lease_);
    }
    if (req.method != "PUT") {
      return TestApiServer::Json(405, TestApiServer::StatusBody(405, "MethodNotAllowed", ""));
    }
    nlohmann::json body = nlohmann::json::parse(req.body);
    std::string holder = body["spec"].value("holderIdentity", "");
    if (!reject_holder_.empty() && holder == reject_holder_) {
      return TestApiServer::Json(500, TestApiServer::StatusBody(500, "InternalError", "injected"));
    }
    if (inject_conflicts_ > 0) {
      --inject_conflicts_;
      ++conflicts_served_;
      return TestApiServer::Json(409, TestApiServer::StatusBody(409, "Conflict", "injected"));
    }
    if (body["metadata"].value("resourceVersion", "") != lease_["metadata"]["resourceVersion"]) {
      ++conflicts_served_;
      return TestApiServer::Json(409, TestApiServer::StatusBody(409, "Conflict", "stale"));
    }
    lease_ = body;
    lease_["metadata"]["resourceVersion"] = std::to_string(++rv_);
    return TestApiServer::Json(200, lease_);
  }

  nlohmann::json Lease() {
    std::lock_guard<std::mutex> lock(mu_);
    return lease_;
  }
  void RejectHolder(const std::string& holder) {
    std::lock_guard<std::mutex> lock(mu_);
    reject_holder_ = holder;
  }
  void InjectConflicts(int n) {
    std::lock_guard<std::mutex> lock(mu_);
    inject_conflicts_ = n;
  }
  int conflicts_served() {
    std::lock_guard<std::mutex> lock(mu_);
    return conflicts_served_;
  }

 private:
  std::mutex mu_;
  nlohmann::json lease_;  // null = absent
  int64_t rv_ = 100;
  std::string reject_holder_;
  int inject_conflicts_ = 0;
  int conflicts_served_ = 0;
};

class LeaderElectionTest : public ::testing::Test {
 protected:
  struct Candidate {
    std::unique_ptr<LeaderElector> elector;
    std::atomic<int> started{0};
    std::atomic<int> stopped{0};
    std::mutex mu;
    std::vector<std::string> new_leaders;
  };

  void SetUp() override {
    server_.SetHandler([this](const ServerRequest& req) { return store_.Handle(req); });
    auto client = NewKubeClient(server_.Config(), clock_, Logger::Null());
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(client).value();
  }
  void TearDown() override {
    for (auto& c : candidates_) {
      c->elector->Stop();
    }
    candidates_.clear();
    client_.reset();  // closes keep-alive connections, so the server stops at once
    server_.Stop();
  }

  Candidate& Add(const std::string& identity, absl::Duration lease = absl::Seconds(1)) {
    candidates_.push_back(std::make_unique<Candidate>());
    Candidate& c = *candidates_.back();
    LeaderElectionConfig config;
    config.lease_namespace = "kube-system";
    config.lease_name = "lead";
    config.identity = identity;
    config.lease_duration = lease;
    config.renew_deadline = absl::Milliseconds(600);
    config.retry_period = absl::Milliseconds(100);
    LeaderCallbacks callbacks;
    callbacks.on_started_leading = [this, &c] {
      ++c.started;
      int now = ++leaders_now_;
      int seen = max_leaders_.load();
      while (now > seen && !max_leaders_.compare_exchange_weak(seen, now)) {
      }
    };
    callbacks.on_stopped_leading = [this, &c] {
      --leaders_now_;
      ++c.stopped;
    };
    callbacks.on_new_leader = [&c](const std::string& id) {
      std::lock_guard<std::mutex> lock(c.mu);
      c.new_leaders.push_back(id);
    };
    c.elector =
        std::make_unique<LeaderElector>(*client_, clock_, Logger::Null(), config, callbacks);
    return c;
  }

  RealClock clock_;
  TestApiServer server_;
  LeaseStore store_;
  std::unique_ptr<KubeClient> client_;
  std::vector<std::unique_ptr<Candidate>> candidates_;
  std::atomic<int> leaders_now_{0};
  std::atomic<int> max_leaders_{0};
};

TEST_F(LeaderElectionTest, CreatesTheLeaseAndOnlyOneOfTwoLeads) {
  Candidate& a = Add("a");
  Candidate& b = Add("b");
  a.elector->Start();
  b.elector->Start();
  ASSERT_TRUE(WaitFor([&] { return a.elector->IsLeader() || b.elector->IsLeader(); }));
  Candidate& leader = a.elector->IsLeader() ? a : b;
  Candidate& standby = a.elector->IsLeader() ? b : a;
  const std::string leader_id = &leader == &a ? "a" : "b";
  // Several renewals and standby attempts later, still exactly one leader.
  std::this_thread::sleep_for(Ms(500));
  EXPECT_TRUE(leader.elector->IsLeader());
  EXPECT_FALSE(standby.elector->IsLeader());
  EXPECT_EQ(max_leaders_.load(), 1);
  EXPECT_EQ(standby.elector->CurrentHolder(), leader_id);
  {
    std::lock_guard<std::mutex> lock(standby.mu);
    EXPECT_EQ(standby.new_leaders, std::vector<std::string>{leader_id});
  }
  nlohmann::json spec = store_.Lease()["spec"];
  EXPECT_EQ(spec["holderIdentity"], leader_id);
  EXPECT_EQ(spec["leaseDurationSeconds"], 1);
  EXPECT_EQ(spec["leaseTransitions"], 0);
  const std::regex micro(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)");
  EXPECT_TRUE(std::regex_match(spec["renewTime"].get<std::string>(), micro)) << spec;
  EXPECT_TRUE(std::regex_match(spec["acquireTime"].get<std::string>(), micro)) << spec;
  EXPECT_NE(spec["renewTime"], spec["acquireTime"]);  // it was renewed since
}

TEST_F(LeaderElectionTest, ReleaseOnStopLetsTheStandbyTakeOverAtOnce) {
  // A 5 s lease: without the release the standby would wait at least 5 s.
  Candidate& a = Add("a", absl::Seconds(5));
  a.elector->Start();
  ASSERT_TRUE(WaitFor([&] { return a.elector->IsLeader(); }));
  Candidate& b = Add("b", absl::Seconds(5));
  b.elector->Start();
  ASSERT_TRUE(WaitFor([&] { return b.elector->CurrentHolder() == "a"; }));
  auto start = std::chrono::steady_clock::now();
  a.elector->Stop();
  EXPECT_FALSE(a.elector->IsLeader());
  EXPECT_EQ(a.stopped.load(), 1);
  ASSERT_TRUE(WaitFor([&] { return b.elector->IsLeader(); }, Ms(4000)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, Ms(1500));
  nlohmann::json spec = store_.Lease()["spec"];
  EXPECT_EQ(spec["holderIdentity"], "b");
  EXPECT_EQ(spec["leaseTransitions"], 1);
  EXPECT_EQ(max_leaders_.load(), 1);
}

TEST_F(LeaderElectionTest, StandbyTakesOverWhenTheLeaderStopsRenewing) {
  Candidate& a = Add("a");
  a.elector->Start();
  ASSERT_TRUE(WaitFor([&] { return a.elector->IsLeader(); }));
  Candidate& b = Add("b");
  b.elector->Start();
  ASSERT_TRUE(WaitFor([&] { return b.elector->CurrentHolder() == "a"; }));
  store_.RejectHolder("a");  // a's renewals now fail
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor([&] { return a.stopped.load() == 1; }, Ms(3000)));
  EXPECT_FALSE(a.elector->IsLeader());
  ASSERT_TRUE(WaitFor([&] { return b.elector->IsLeader(); }, Ms(4000)));
  auto took = std::chrono::steady_clock::now() - start;
  // b waited for the lease to expire by its own clock (1 s since it last saw a change).
  EXPECT_GE(took, Ms(700));
  EXPECT_LT(took, Ms(3000));
  EXPECT_EQ(max_leaders_.load(), 1);
  EXPECT_EQ(store_.Lease()["spec"]["holderIdentity"], "b");
}

TEST_F(LeaderElectionTest, ARenewalConflictIsRetriedWithoutLosingTheLease) {
  Candidate& a = Add("a");
  a.elector->Start();
  ASSERT_TRUE(WaitFor([&] { return a.elector->IsLeader(); }));
  store_.InjectConflicts(2);
  ASSERT_TRUE(WaitFor([&] { return store_.conflicts_served() == 2; }));
  std::string renewed = store_.Lease()["spec"]["renewTime"];
  ASSERT_TRUE(WaitFor([&] { return store_.Lease()["spec"]["renewTime"] != renewed; }));
  EXPECT_TRUE(a.elector->IsLeader());
  EXPECT_EQ(a.stopped.load(), 0);
  EXPECT_EQ(a.started.load(), 1);
}

TEST_F(LeaderElectionTest, StopWithoutLeadingLeavesTheLeaseAlone) {
  Candidate& a = Add("a", absl::Seconds(5));
  a.elector->Start();
  ASSERT_TRUE(WaitFor([&] { return a.elector->IsLeader(); }));
  Candidate& b = Add("b", absl::Seconds(5));
  b.elector->Start();
  ASSERT_TRUE(WaitFor([&] { return b.elector->CurrentHolder() == "a"; }));
  b.elector->Stop();
  EXPECT_EQ(b.stopped.load(), 0);
  EXPECT_EQ(store_.Lease()["spec"]["holderIdentity"], "a");
  EXPECT_TRUE(a.elector->IsLeader());
}

}  // namespace
}  // namespace kustodian::kube
