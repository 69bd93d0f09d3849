// EventRecorder against a scripted server: the events.k8s.io/v1 Event it creates, series
// patches for repeats within 10 minutes, a new Event after the window or when the old one is
// gone, note truncation, and that failures never reach the caller.
#include "src/kube/event_recorder.h"

#include <gtest/gtest.h>

#include <regex>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "tests/fakes/fake_clock.h"
#include "tests/kube/test_api_server.h"

namespace kustodian::kube {
namespace {

using testing::TestApiServer;

nlohmann::json Regarding() {
  return {
      {"apiVersion", "kustodian.io/v1alpha1"},
      {"kind", "DataConnection"},
      {"metadata",
       {{"name", "orders"}, {"namespace", "team-a"}, {"uid", "u-1"}, {"resourceVersion", "42"}}},
      {"spec", {{"secret", "never copied"}}}};
}

class EventRecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.SetHandler([this](const ServerRequest& req) {
      std::lock_guard<std::mutex> lock(mu_);
      if (fail_all_) {
        return TestApiServer::Json(500, TestApiServer::StatusBody(500, "InternalError", "down"));
      }
      if (req.method == "PATCH" && patch_not_found_) {
        return TestApiServer::Json(404, TestApiServer::StatusBody(404, "NotFound", "gone"));
      }
      return TestApiServer::Json(req.method == "POST" ? 201 : 200,
                                 nlohmann::json::parse(req.body, nullptr, false));
    });
    auto client = NewKubeClient(server_.Config(), real_clock_, Logger::Null());
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(client).value();
    EventRecorderOptions options;
    options.reporting_controller = "kustodian.io/controller";
    options.reporting_instance = "pod-1";
    recorder_ = std::make_unique<EventRecorder>(*client_, clock_, Logger::Null(), options);
  }

  RealClock real_clock_;
  FakeClock clock_{absl::FromUnixSeconds(1'796'230'800)};  // 2026-12-02T17:00:00Z
  TestApiServer server_;
  std::unique_ptr<KubeClient> client_;
  std::unique_ptr<EventRecorder> recorder_;
  std::mutex mu_;
  bool fail_all_ = false;
  bool patch_not_found_ = false;
};

TEST_F(EventRecorderTest, CreatesAnEventsV1Event) {
  recorder_->Record(Regarding(), "Normal", "Created", "Create", "created the data connection");
  recorder_->Flush();
  auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, "/apis/events.k8s.io/v1/namespaces/team-a/events");
  nlohmann::json event = nlohmann::json::parse(requests[0].body);
  EXPECT_EQ(event["apiVersion"], "events.k8s.io/v1");
  EXPECT_EQ(event["kind"], "Event");
  EXPECT_TRUE(std::regex_match(event["metadata"]["name"].get<std::string>(),
                               std::regex(R"(orders\.[0-9a-f]+)")))
      << event["metadata"]["name"];
  EXPECT_EQ(event["metadata"]["namespace"], "team-a");
  EXPECT_EQ(event["regarding"], nlohmann::json({{"apiVersion", "kustodian.io/v1alpha1"},
                                                {"kind", "DataConnection"},
                                                {"name", "orders"},
                                                {"namespace", "team-a"},
                                                {"uid", "u-1"},
                                                {"resourceVersion", "42"}}));
  EXPECT_EQ(event["reason"], "Created");
  EXPECT_EQ(event["action"], "Create");
  EXPECT_EQ(event["type"], "Normal");
  EXPECT_EQ(event["note"], "created the data connection");
  EXPECT_EQ(event["reportingController"], "kustodian.io/controller");
  EXPECT_EQ(event["reportingInstance"], "pod-1");
  EXPECT_EQ(event["eventTime"], "2026-12-02T17:00:00.000000Z");
  EXPECT_FALSE(event.contains("series"));
  EXPECT_FALSE(absl::StrContains(requests[0].body, "never copied"));
}

TEST_F(EventRecorderTest, RepeatsPatchTheSeries) {
  recorder_->Record(Regarding(), "Warning", "Failed", "Reconcile", "ARM said 500");
  recorder_->Flush();
  clock_.Advance(absl::Seconds(30));
  recorder_->Record(Regarding(), "Warning", "Failed", "Reconcile", "ARM said 500");
  clock_.Advance(absl::Seconds(30));
  recorder_->Record(Regarding(), "Warning", "Failed", "Reconcile", "ARM said 500");
  recorder_->Flush();
  auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 3u);
  std::string name = nlohmann::json::parse(requests[0].body)["metadata"]["name"];
  for (int i : {1, 2}) {
    SCOPED_TRACE(i);
    EXPECT_EQ(requests[i].method, "PATCH");
    EXPECT_EQ(requests[i].path, "/apis/events.k8s.io/v1/namespaces/team-a/events/" + name);
    EXPECT_EQ(requests[i].Header("Content-Type").value_or(""), "application/merge-patch+json");
  }
  EXPECT_EQ(nlohmann::json::parse(requests[1].body),
            nlohmann::json::parse(
                R"({"series":{"count":2,"lastObservedTime":"2026-12-02T17:00:30.000000Z"}})"));
  EXPECT_EQ(nlohmann::json::parse(requests[2].body)["series"]["count"], 3);
}

TEST_F(EventRecorderTest, DifferentNoteOrReasonIsANewEvent) {
  recorder_->Record(Regarding(), "Normal", "Updated", "Update", "one");
  recorder_->Record(Regarding(), "Normal", "Updated", "Update", "two");
  recorder_->Record(Regarding(), "Normal", "DriftCorrected", "Update", "one");
  recorder_->Flush();
  auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 3u);
  for (const auto& r : requests) {
    EXPECT_EQ(r.method, "POST");
  }
}

TEST_F(EventRecorderTest, AfterTenMinutesANewEventIsCreated) {
  recorder_->Record(Regarding(), "Normal", "Updated", "Update", "same");
  recorder_->Flush();
  clock_.Advance(absl::Minutes(11));
  recorder_->Record(Regarding(), "Normal", "Updated", "Update", "same");
  recorder_->Flush();
  auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].method, "POST");
}

TEST_F(EventRecorderTest, AVanishedEventIsCreatedAgain) {
  recorder_->Record(Regarding(), "Normal", "Updated", "Update", "same");
  recorder_->Flush();
  {
    std::lock_guard<std::mutex> lock(mu_);
    patch_not_found_ = true;
  }
  clock_.Advance(absl::Seconds(5));
  recorder_->Record(Regarding(), "Normal", "Updated", "Update", "same");
  recorder_->Flush();
  auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[1].method, "PATCH");
  EXPECT_EQ(requests[2].method, "POST");
}

TEST_F(EventRecorderTest, LongNotesAreTruncatedTo1KiB) {
  recorder_->Record(Regarding(), "Warning", "Failed", "Reconcile", std::string(5000, 'x'));
  recorder_->Flush();
  auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(requests[0].body)["note"].get<std::string>().size(), 1024u);
}

TEST_F(EventRecorderTest, FailuresAreDroppedAndLaterEventsStillGo) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    fail_all_ = true;
  }
  recorder_->Record(Regarding(), "Warning", "Failed", "Reconcile", "x");
  recorder_->Flush();
  {
    std::lock_guard<std::mutex> lock(mu_);
    fail_all_ = false;
  }
  recorder_->Record(Regarding(), "Warning", "Failed", "Reconcile", "x");
  recorder_->Flush();
  auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].method, "POST");  // the failed one was never recorded as seen
}

TEST(EventRecorderBlockingTest, RecordReturnsWhileTheServerHangs) {
  absl::Notification release;
  TestApiServer server;
  server.SetHandler([&](const ServerRequest&) {
    release.WaitForNotificationWithTimeout(absl::Seconds(20));
    return TestApiServer::Json(201, nlohmann::json::object());
  });
  RealClock clock;
  auto client = NewKubeClient(server.Config(), clock, Logger::Null());
  ASSERT_TRUE(client.ok());
  {
    EventRecorder recorder(**client, clock, Logger::Null(), {});
    auto start = absl::Now();
    for (int i = 0; i < 5; ++i) {
      recorder.Record(Regarding(), "Normal", "Created", "Create", absl::StrCat("n", i));
    }
    EXPECT_LT(absl::Now() - start, absl::Milliseconds(200));
    // The first write is stuck in the server: nothing else was sent yet.
    for (int i = 0; i < 1000 && server.Requests().empty(); ++i) {
      absl::SleepFor(absl::Milliseconds(2));
    }
    EXPECT_EQ(server.Requests().size(), 1u);
    release.Notify();
  }  // the destructor drains the queue
  EXPECT_EQ(server.Requests().size(), 5u);
}

}  // namespace
}  // namespace kustodian::kube
