// Reflector against a scripted API server: first list, relist on 410 Gone, re-watch from the
// last resourceVersion after a cut stream (no event lost or repeated), bookmarks, list retries
// and a prompt Stop().
#include "src/kube/reflector.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "absl/synchronization/notification.h"
#include "tests/kube/test_api_server.h"

namespace kustodian::kube {
namespace {

using testing::EventLine;
using testing::Object;
using testing::TestApiServer;

template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

nlohmann::json List(const std::string& rv, std::vector<nlohmann::json> items) {
  return {{"apiVersion", "kustodian.io/v1alpha1"},
          {"kind", "DataConnectionList"},
          {"metadata", {{"resourceVersion", rv}}},
          {"items", items}};
}

class ReflectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto client = NewKubeClient(server_.Config(), clock_, Logger::Null());
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(client).value();
  }
  void TearDown() override {
    if (reflector_) {
      reflector_->Stop();
    }
    release_.Notify();
    reflector_.reset();
    client_.reset();  // closes keep-alive connections, so the server stops at once
    server_.Stop();   // no handler runs past this point
  }

  // Serves lists from `lists` and watches from `watches` in order; when a script runs out, a
  // watch stays open (quiet) until the test ends.
  void Script(std::vector<ServerResponse> lists, std::vector<ServerResponse> watches) {
    lists_ = std::move(lists);
    watches_ = std::move(watches);
    server_.SetHandler([this](const ServerRequest& req) {
      std::lock_guard<std::mutex> lock(mu_);
      if (req.Query("watch").value_or("") == "1") {
        watch_rvs_.push_back(req.Query("resourceVersion").value_or(""));
        if (next_watch_ < watches_.size()) {
          return watches_[next_watch_++];
        }
        ServerResponse quiet;
        quiet.stream = [this](const ChunkWriter&) {
          release_.WaitForNotificationWithTimeout(absl::Seconds(20));
          return true;
        };
        return quiet;
      }
      if (next_list_ < lists_.size()) {
        return lists_[next_list_++];
      }
      return TestApiServer::Json(500, TestApiServer::StatusBody(500, "InternalError", "no list"));
    });
  }

  void StartReflector() {
    ReflectorOptions options;
    options.gvr = DataConnectionGvr();
    options.ns = "ns1";
    options.min_backoff = absl::Milliseconds(10);
    options.max_backoff = absl::Milliseconds(50);
    ReflectorHandler handler;
    handler.on_replace = [this](const std::vector<nlohmann::json>& items) {
      std::lock_guard<std::mutex> lock(mu_);
      replaces_.push_back(items.size());
    };
    handler.on_upsert = [this](const nlohmann::json& o) {
      std::lock_guard<std::mutex> lock(mu_);
      upserts_.push_back(ResourceVersionOf(o));
    };
    handler.on_delete = [this](const nlohmann::json& o) {
      std::lock_guard<std::mutex> lock(mu_);
      deletes_.push_back(ResourceVersionOf(o));
    };
    reflector_ = std::make_unique<Reflector>(*client_, clock_, Logger::Null(), options, handler);
    reflector_->Start();
  }
  size_t WatchCount() {
    std::lock_guard<std::mutex> lock(mu_);
    return watch_rvs_.size();
  }

  RealClock clock_;
  absl::Notification release_;  // outlives server_, whose handlers may wait on it
  TestApiServer server_;
  std::unique_ptr<KubeClient> client_;
  std::unique_ptr<Reflector> reflector_;

  std::mutex mu_;
  std::vector<ServerResponse> lists_, watches_;
  size_t next_list_ = 0, next_watch_ = 0;
  std::vector<std::string> watch_rvs_;
  std::vector<size_t> replaces_;
  std::vector<std::string> upserts_, deletes_;
};

TEST_F(ReflectorTest, RelistsOn410AndReplacesTheView) {
  Script({TestApiServer::Json(200, List("10", {Object("a", "5")})),
          TestApiServer::Json(
              200, List("20", {Object("a", "5"), Object("b", "11"), Object("c", "19")}))},
         {TestApiServer::Stream(
              {EventLine("ADDED", Object("b", "11")),
               EventLine("ERROR", TestApiServer::StatusBody(410, "Expired", "too old"))}),
          TestApiServer::Stream({EventLine("MODIFIED", Object("c", "21"))})});
  StartReflector();
  ASSERT_TRUE(WaitFor([&] { return WatchCount() >= 3; }));
  EXPECT_TRUE(reflector_->Synced());
  EXPECT_EQ(reflector_->lists(), 2);
  EXPECT_EQ(reflector_->LastResourceVersion(), "21");
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(replaces_, (std::vector<size_t>{1, 3}));
  EXPECT_EQ(upserts_, (std::vector<std::string>{"11", "21"}));
  EXPECT_EQ(watch_rvs_[0], "10");
  EXPECT_EQ(watch_rvs_[1], "20");
  EXPECT_EQ(watch_rvs_[2], "21");
}

TEST_F(ReflectorTest, RewatchesFromTheLastVersionAfterACutStream) {
  std::string partial = EventLine("MODIFIED", Object("a", "99")).substr(0, 25);
  Script({TestApiServer::Json(200, List("10", {}))},
         {TestApiServer::Stream({EventLine("ADDED", Object("a", "11")),
                                 EventLine("MODIFIED", Object("a", "12")), partial},
                                /*cut=*/true),
          TestApiServer::Stream(
              {EventLine("ADDED", Object("b", "13")), EventLine("DELETED", Object("a", "14")),
               EventLine("BOOKMARK", {{"metadata", {{"resourceVersion", "15"}}}})})});
  StartReflector();
  ASSERT_TRUE(WaitFor([&] { return WatchCount() >= 3; }));
  EXPECT_EQ(reflector_->lists(), 1);
  EXPECT_EQ(reflector_->LastResourceVersion(), "15");
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(replaces_, (std::vector<size_t>{0}));
  EXPECT_EQ(upserts_, (std::vector<std::string>{"11", "12", "13"}));
  EXPECT_EQ(deletes_, (std::vector<std::string>{"14"}));
  EXPECT_EQ(watch_rvs_, (std::vector<std::string>{"10", "12", "15"}));
}

TEST_F(ReflectorTest, RetriesAFailedListWithBackoff) {
  Script({TestApiServer::Json(503, TestApiServer::StatusBody(503, "ServiceUnavailable", "x")),
          TestApiServer::Json(503, TestApiServer::StatusBody(503, "ServiceUnavailable", "x")),
          TestApiServer::Json(200, List("7", {Object("a", "7")}))},
         {});
  StartReflector();
  ASSERT_TRUE(WaitFor([&] { return reflector_->Synced(); }));
  EXPECT_EQ(reflector_->lists(), 1);
  EXPECT_EQ(reflector_->LastResourceVersion(), "7");
  ASSERT_TRUE(WaitFor([&] { return WatchCount() >= 1; }));
}

TEST_F(ReflectorTest, StopCancelsAQuietWatchPromptly) {
  Script({TestApiServer::Json(200, List("10", {}))}, {});
  StartReflector();
  ASSERT_TRUE(WaitFor([&] { return WatchCount() >= 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the watch settle in
  auto start = std::chrono::steady_clock::now();
  reflector_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

}  // namespace
}  // namespace kustodian::kube
