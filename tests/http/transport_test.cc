// The real transport against loopback servers: keep-alive reuse and its cap, concurrency,
// one retry on a dead pooled connection (idempotent methods only), refusals and timeouts.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "src/http/http.h"
#include "src/http/server.h"
#include "tests/http/raw_server.h"

namespace kustodian {
namespace {

HttpRequest Get(const std::string& url) {
  HttpRequest request;
  request.method = "GET";
  request.url = url;
  request.timeout = absl::Seconds(10);
  return request;
}

TEST(TransportTest, SequentialRequestsReuseOneConnection) {
  http_test::RawServer server;
  auto transport = NewHttpTransport(TransportOptions{});
  for (int i = 0; i < 100; ++i) {
    auto response = transport->Send(Get(server.Url("/seq")));
    ASSERT_TRUE(response.ok()) << i << ": " << response.status();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, absl::StrCat("conn=0 req=", i));
  }
  EXPECT_EQ(server.Connections(), 1);
}

TEST(TransportTest, ZeroIdleCapOpensAConnectionPerRequest) {
  http_test::RawServer server;
  TransportOptions options;
  options.max_idle_per_host = 0;
  auto transport = NewHttpTransport(options);
  for (int i = 0; i < 5; ++i) {
    auto response = transport->Send(Get(server.Url("/")));
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->body, absl::StrCat("conn=", i, " req=0"));
  }
  EXPECT_EQ(server.Connections(), 5);
}

TEST(TransportTest, ConcurrentRequestsFromEightThreads) {
  HttpServer server;
  server.Route("*", "/echo/", [](const ServerRequest& req) {
    ServerResponse r;
    r.body = absl::StrCat(req.path, "|", req.body, "|", req.Header("X-Id").value_or(""));
    r.content_type = "text/plain";
    return r;
  });
  auto port = server.Start("127.0.0.1", 0);
  ASSERT_TRUE(port.ok()) << port.status();
  auto transport = NewHttpTransport(TransportOptions{});
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50;
  std::mutex mu;
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string id = absl::StrCat(t, "-", i);
        HttpRequest request;
        request.method = i % 2 == 0 ? "PUT" : "GET";
        request.url = absl::StrCat("http://127.0.0.1:", *port, "/echo/", id);
        request.headers = {{"X-Id", id}};
        request.body = i % 2 == 0 ? "body-" + id : "";
        auto response = transport->Send(request);
        std::string want = absl::StrCat("/echo/", id, "|", request.body, "|", id);
        if (!response.ok() || response->body != want) {
          std::lock_guard<std::mutex> lock(mu);
          failures.push_back(response.ok() ? response->body : response.status().ToString());
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_TRUE(failures.empty()) << failures.size() << " failures, first: " << failures[0];
}

TEST(TransportTest, ConcurrentRequestsStayWithinPool) {
  http_test::RawServer server;
  auto transport = NewHttpTransport(TransportOptions{});  // max_idle_per_host = 8
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        if (!transport->Send(Get(server.Url("/c"))).ok()) {
          failures.fetch_add(1);
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(server.Requests(), 200);
  EXPECT_LE(server.Connections(), 8);
}

// Connection 0 answers its first request, then hangs up after reading the second.
bool DiesOnSecondRequest(int connection, int request) { return connection > 0 || request == 0; }

TEST(TransportTest, DeadPooledConnectionIsRetriedOnceForIdempotentMethods) {
  http_test::RawServer server(DiesOnSecondRequest);
  auto transport = NewHttpTransport(TransportOptions{});
  ASSERT_TRUE(transport->Send(Get(server.Url("/a"))).ok());
  auto response = transport->Send(Get(server.Url("/b")));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body, "conn=1 req=0");
  EXPECT_EQ(server.Connections(), 2);
}

TEST(TransportTest, DeadPooledConnectionIsNotRetriedForPost) {
  http_test::RawServer server(DiesOnSecondRequest);
  auto transport = NewHttpTransport(TransportOptions{});
  HttpRequest post = Get(server.Url("/create"));
  post.method = "POST";
  post.body = "{}";
  ASSERT_TRUE(transport->Send(post).ok());
  auto response = transport->Send(post);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable) << response.status();
  EXPECT_EQ(server.Connections(), 1);
  EXPECT_EQ(server.Requests(), 2);
}

TEST(TransportTest, ConnectionRefusedIsUnavailable) {
  // A bound but not listening socket: connecting to its port is refused.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  auto transport = NewHttpTransport(TransportOptions{});
  auto response = transport->Send(Get(absl::StrCat("http://127.0.0.1:", port, "/x?q=1")));
  ::close(fd);
  ASSERT_EQ(response.status().code(), absl::StatusCode::kUnavailable) << response.status();
  std::string message(response.status().message());
  EXPECT_NE(message.find(absl::StrCat("GET http://127.0.0.1:", port, "/x failed")),
            std::string::npos)
      << message;
  EXPECT_EQ(message.find("q=1"), std::string::npos) << message;
}

TEST(TransportTest, PlainHttpToRemoteHostIsRefusedBeforeConnecting) {
  auto transport = NewHttpTransport(TransportOptions{});
  for (const char* url : {"http://example.com/x", "http://10.1.2.3:8080/", "http://[::2]/"}) {
    auto response = transport->Send(Get(url));
    EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument)
        << url << ": " << response.status();
  }
}

TEST(TransportTest, MalformedRequestsAreInvalidArgument) {
  http_test::RawServer server;
  auto transport = NewHttpTransport(TransportOptions{});
  auto bad_url = transport->Send(Get("not a url"));
  EXPECT_EQ(bad_url.status().code(), absl::StatusCode::kInvalidArgument);
  HttpRequest bad_method = Get(server.Url("/"));
  bad_method.method = "GET /evil";
  EXPECT_EQ(transport->Send(bad_method).status().code(), absl::StatusCode::kInvalidArgument);
  HttpRequest bad_header = Get(server.Url("/"));
  bad_header.headers = {{"X-A", "v\r\nInjected: SECRET"}};
  auto response = transport->Send(bad_header);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(response.status().message()).find("SECRET"), std::string::npos);
  EXPECT_EQ(server.Requests(), 0);
}

TEST(TransportTest, ReadTimeoutIsUnavailable) {
  std::mutex mu;
  std::condition_variable cv;
  bool released = false;
  HttpServer server;
  server.Route("GET", "/slow", [&](const ServerRequest&) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, std::chrono::seconds(10), [&] { return released; });
    return ServerResponse{};
  });
  auto port = server.Start("127.0.0.1", 0);
  ASSERT_TRUE(port.ok()) << port.status();
  auto transport = NewHttpTransport(TransportOptions{});
  HttpRequest request = Get(absl::StrCat("http://127.0.0.1:", *port, "/slow"));
  request.timeout = absl::Milliseconds(200);
  auto response = transport->Send(request);
  {
    std::lock_guard<std::mutex> lock(mu);
    released = true;
  }
  cv.notify_all();
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable) << response.status();
}

TEST(TransportTest, ResponseHeadersAndStatusAreReturned) {
  HttpServer server;
  server.Route("PUT", "/", [](const ServerRequest& req) {
    ServerResponse r;
    r.status = 429;
    r.headers = {{"Retry-After", "7"}, {"x-ms-request-id", "abc"}};
    r.body = req.Header("Host").value_or("");
    r.content_type = "text/plain";
    return r;
  });
  auto port = server.Start("127.0.0.1", 0);
  ASSERT_TRUE(port.ok()) << port.status();
  auto transport = NewHttpTransport(TransportOptions{});
  HttpRequest request = Get(absl::StrCat("http://localhost:", *port, "/r"));
  request.method = "PUT";
  request.body = "x";
  auto response = transport->Send(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 429);
  EXPECT_EQ(response->Header("retry-after"), "7");
  EXPECT_EQ(response->Header("X-Ms-Request-Id"), "abc");
  EXPECT_EQ(response->body, absl::StrCat("localhost:", *port)) << "Host must carry the port";
}

}  // namespace
}  // namespace kustodian
