// Watch streams: the incremental WatchParser (pieces of any size, several events per piece,
// ERROR events, malformed and oversized lines) and KubeClient::Watch over a real chunked stream.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "absl/synchronization/notification.h"
#include "src/kube/kube_client_impl.h"
#include "src/kube/watch_parser.h"
#include "tests/kube/test_api_server.h"

namespace kustodian::kube {
namespace {

using testing::EventLine;
using testing::Object;
using testing::TestApiServer;

std::string ThreeEvents() {
  nlohmann::json bookmark = {{"kind", "DataConnection"},
                             {"apiVersion", "kustodian.io/v1alpha1"},
                             {"metadata", {{"resourceVersion", "14"}}}};
  return TestApiServer::EventLine("ADDED", Object("a", "11")) +
         TestApiServer::EventLine("MODIFIED", Object("a", "12")) +
         TestApiServer::EventLine("DELETED", Object("a", "13")) +
         TestApiServer::EventLine("BOOKMARK", bookmark);
}

std::vector<std::string> Collect(WatchParser& parser, const std::vector<std::string_view>& pieces,
                                 absl::Status* status) {
  std::vector<std::string> seen;
  *status = absl::OkStatus();
  for (std::string_view piece : pieces) {
    *status = parser.Feed(piece, [&](const WatchEvent& e) {
      static const char* kNames[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK"};
      seen.push_back(
          absl::StrCat(kNames[static_cast<int>(e.type)], "@", ResourceVersionOf(e.object)));
      return true;
    });
    if (!status->ok()) {
      break;
    }
  }
  return seen;
}

const std::vector<std::string> kExpected = {"ADDED@11", "MODIFIED@12", "DELETED@13", "BOOKMARK@14"};

TEST(WatchParserTest, WholeBodyAtOnce) {
  WatchParser parser;
  std::string body = ThreeEvents();
  absl::Status status;
  EXPECT_EQ(Collect(parser, {body}, &status), kExpected);
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_TRUE(parser.Finish().ok());
}

TEST(WatchParserTest, EveryPossibleSplitGivesTheSameEvents) {
  std::string body = ThreeEvents();
  for (size_t cut = 0; cut <= body.size(); ++cut) {
    WatchParser parser;
    absl::Status status;
    std::string_view view = body;
    EXPECT_EQ(Collect(parser, {view.substr(0, cut), view.substr(cut)}, &status), kExpected)
        << "cut at " << cut;
    ASSERT_TRUE(status.ok());
  }
}

TEST(WatchParserTest, ByteByByte) {
  std::string body = ThreeEvents();
  std::vector<std::string_view> pieces;
  for (size_t i = 0; i < body.size(); ++i) {
    pieces.push_back(std::string_view(body).substr(i, 1));
  }
  WatchParser parser;
  absl::Status status;
  EXPECT_EQ(Collect(parser, pieces, &status), kExpected);
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(parser.pending_bytes(), 0u);
}

TEST(WatchParserTest, ErrorEvent410IsGone) {
  WatchParser parser;
  std::string body =
      TestApiServer::EventLine("ADDED", Object("a", "1")) +
      TestApiServer::EventLine(
          "ERROR", TestApiServer::StatusBody(410, "Expired", "too old resource version"));
  absl::Status status;
  auto seen = Collect(parser, {body}, &status);
  EXPECT_EQ(seen.size(), 1u);
  EXPECT_TRUE(IsGone(status)) << status;
  // The parser is spent: more data changes nothing.
  EXPECT_TRUE(IsGone(parser.Feed(EventLine("ADDED", Object("b", "2")), [](const WatchEvent&) {
    ADD_FAILURE() << "event after an error";
    return true;
  })));
}

TEST(WatchParserTest, OtherErrorEventsAreMapped) {
  WatchParser parser;
  absl::Status status;
  Collect(parser,
          {EventLine("ERROR", TestApiServer::StatusBody(500, "InternalError", "etcd down"))},
          &status);
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
  EXPECT_EQ(status.message(), "etcd down");
}

TEST(WatchParserTest, MalformedLinesAreDataLoss) {
  for (std::string line : {"{not json}\n", "[1,2]\n", "{\"type\":\"ADDED\"}\n",
                           "{\"type\":\"WHAT\",\"object\":{}}\n", "{\"type\":1,\"object\":{}}\n"}) {
    WatchParser parser;
    absl::Status status;
    Collect(parser, {line}, &status);
    EXPECT_TRUE(absl::IsDataLoss(status)) << line << " -> " << status;
  }
}

TEST(WatchParserTest, BlankLinesAreSkipped) {
  WatchParser parser;
  absl::Status status;
  auto seen = Collect(parser, {"\n\r\n", EventLine("ADDED", Object("a", "3")), "\n"}, &status);
  EXPECT_EQ(seen, std::vector<std::string>{"ADDED@3"});
  EXPECT_TRUE(status.ok());
}

TEST(WatchParserTest, OversizedLineIsRefusedWithoutBufferingIt) {
  WatchParser parser(/*max_line_bytes=*/1024);
  std::string big(700, 'x');
  absl::Status status;
  Collect(parser, {"{\"type\":\"ADDED\",\"object\":{\"a\":\"", big}, &status);
  EXPECT_TRUE(status.ok());
  Collect(parser, {big}, &status);
  EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
  EXPECT_EQ(parser.pending_bytes(), 0u);
}

TEST(WatchParserTest, DeepNestingIsRefused) {
  WatchParser parser;
  std::string line = "{\"type\":\"ADDED\",\"object\":{\"a\":" + std::string(5000, '[') +
                     std::string(5000, ']') + "}}\n";
  absl::Status status;
  Collect(parser, {line}, &status);
  EXPECT_TRUE(absl::IsDataLoss(status)) << status;
}

TEST(WatchParserTest, FinishReportsACutEvent) {
  WatchParser parser;
  absl::Status status;
  std::string line = EventLine("ADDED", Object("a", "1"));
  Collect(parser, {std::string_view(line).substr(0, 10)}, &status);
  EXPECT_TRUE(status.ok());
  EXPECT_TRUE(absl::IsDataLoss(parser.Finish()));
}

TEST(WatchParserTest, StopsWhenTheHandlerSaysSo) {
  WatchParser parser;
  int calls = 0;
  absl::Status status = parser.Feed(ThreeEvents(), [&](const WatchEvent&) { return ++calls < 2; });
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(calls, 2);
  EXPECT_TRUE(parser.stopped());
}

class WatchClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto client = NewKubeClient(server_.Config(), clock_, Logger::Null());
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(client).value();
  }
  absl::Status Watch(std::vector<std::string>* seen, const std::atomic<bool>* cancel = nullptr,
                     WatchOptions options = {}) {
    if (options.resource_version.empty()) {
      options.resource_version = "10";
    }
    return client_->Watch(
        DataConnectionGvr(), "ns1", options,
        [&](const WatchEvent& e) {
          seen->push_back(ResourceVersionOf(e.object));
          return true;
        },
        cancel);
  }

  RealClock clock_;
  absl::Notification release_;  // outlives server_, whose handlers may wait on it
  TestApiServer server_;
  std::unique_ptr<KubeClient> client_;
};

TEST_F(WatchClientTest, SendsWatchQueryAndParsesSplitChunks) {
  std::string body = ThreeEvents();
  server_.SetHandler([&](const ServerRequest&) {
    // Chunks cut in the middle of events, and several events in one chunk.
    return TestApiServer::Stream({body.substr(0, 7), body.substr(7, 150), body.substr(157)});
  });
  std::vector<std::string> seen;
  WatchOptions options;
  options.resource_version = "10";
  options.timeout = absl::Seconds(90);
  options.label_selector = "a=b";
  absl::Status status = Watch(&seen, nullptr, options);
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(seen, (std::vector<std::string>{"11", "12", "13", "14"}));
  auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].path, "/apis/kustodian.io/v1alpha1/namespaces/ns1/dataconnections");
  EXPECT_EQ(requests[0].Query("watch").value_or(""), "1");
  EXPECT_EQ(requests[0].Query("resourceVersion").value_or(""), "10");
  EXPECT_EQ(requests[0].Query("allowWatchBookmarks").value_or(""), "true");
  EXPECT_EQ(requests[0].Query("timeoutSeconds").value_or(""), "90");
  EXPECT_EQ(requests[0].Query("labelSelector").value_or(""), "a=b");
  EXPECT_EQ(requests[0].Header("Authorization").value_or(""), "Bearer test-token");
}

TEST_F(WatchClientTest, ErrorEvent410IsGone) {
  server_.SetHandler([](const ServerRequest&) {
    return TestApiServer::Stream(
        {EventLine("ADDED", Object("a", "11")),
         EventLine("ERROR", TestApiServer::StatusBody(410, "Expired",
                                                      "too old resource version: 10 (15)"))});
  });
  std::vector<std::string> seen;
  absl::Status status = Watch(&seen);
  EXPECT_TRUE(IsGone(status)) << status;
  EXPECT_EQ(seen, std::vector<std::string>{"11"});
}

TEST_F(WatchClientTest, Http410ResponseIsGone) {
  server_.SetHandler([](const ServerRequest&) {
    return TestApiServer::Json(410, TestApiServer::StatusBody(410, "Gone", "gone"));
  });
  std::vector<std::string> seen;
  EXPECT_TRUE(IsGone(Watch(&seen)));
}

TEST_F(WatchClientTest, Http403ResponseIsPermissionDenied) {
  server_.SetHandler([](const ServerRequest&) {
    return TestApiServer::Json(403, TestApiServer::StatusBody(403, "Forbidden", "nope"));
  });
  std::vector<std::string> seen;
  EXPECT_TRUE(absl::IsPermissionDenied(Watch(&seen)));
}

TEST_F(WatchClientTest, CutStreamIsUnavailableAfterDeliveredEvents) {
  std::string line = EventLine("MODIFIED", Object("a", "12"));
  server_.SetHandler([&](const ServerRequest&) {
    return TestApiServer::Stream({EventLine("ADDED", Object("a", "11")), line.substr(0, 20)},
                                 /*cut=*/true);
  });
  std::vector<std::string> seen;
  absl::Status status = Watch(&seen);
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
  EXPECT_EQ(seen, std::vector<std::string>{"11"});
}

TEST_F(WatchClientTest, CleanEndMidEventIsUnavailable) {
  std::string line = EventLine("MODIFIED", Object("a", "12"));
  server_.SetHandler(
      [&](const ServerRequest&) { return TestApiServer::Stream({line.substr(0, 20)}); });
  std::vector<std::string> seen;
  absl::Status status = Watch(&seen);
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
  EXPECT_TRUE(seen.empty());
}

TEST_F(WatchClientTest, HandlerReturningFalseEndsTheWatch) {
  server_.SetHandler([&](const ServerRequest&) { return TestApiServer::Stream({ThreeEvents()}); });
  int calls = 0;
  absl::Status status = client_->Watch(DataConnectionGvr(), "ns1", {}, [&](const WatchEvent&) {
    ++calls;
    return false;
  });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(calls, 1);
}

TEST_F(WatchClientTest, CancelEndsAQuietWatchPromptly) {
  absl::Notification& release = release_;
  std::atomic<bool> streaming{false};
  server_.SetHandler([&](const ServerRequest&) {
    ServerResponse response;
    response.stream = [&](const ChunkWriter& write) {
      write(EventLine("ADDED", Object("a", "11")));
      streaming = true;
      release.WaitForNotificationWithTimeout(absl::Seconds(20));
      return true;
    };
    return response;
  });
  std::atomic<bool> cancel{false};
  std::atomic<int> delivered{0};
  std::vector<std::string> seen;
  absl::Status status;
  std::thread watcher([&] {
    status = client_->Watch(
        DataConnectionGvr(), "ns1", {.resource_version = "10"},
        [&](const WatchEvent& e) {
          seen.push_back(ResourceVersionOf(e.object));
          ++delivered;
          return true;
        },
        &cancel);
  });
  // The watch is quiet once its one event has been delivered and the server waits.
  for (int i = 0; i < 500 && !(streaming && delivered > 0); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(streaming);
  EXPECT_EQ(delivered, 1);
  auto start = std::chrono::steady_clock::now();
  cancel = true;
  watcher.join();
  auto took = std::chrono::steady_clock::now() - start;
  release.Notify();
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_LT(took, std::chrono::seconds(1));
  EXPECT_EQ(seen, std::vector<std::string>{"11"});
}

}  // namespace
}  // namespace kustodian::kube
