// HttpServer over real loopback sockets, driven by the real transport: every method, headers,
// bodies, query decoding, longest-prefix routing, 404s, streaming and fault injection.
#include "src/http/server.h"

#include <gtest/gtest.h>

#include <mutex>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "src/http/http.h"
#include "tests/http/raw_server.h"

namespace kustodian {
namespace {

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { http_test::IgnoreSigpipe(); }

  void StartServer() {
    auto port = server_.Start("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.status();
    ASSERT_GT(*port, 0);
    EXPECT_EQ(server_.port(), *port);
  }
  std::string Url(const std::string& target) const {
    return absl::StrCat("http://127.0.0.1:", server_.port(), target);
  }
  absl::StatusOr<HttpResponse> Send(const std::string& method, const std::string& target,
                                    HttpHeaders headers = {}, std::string body = "") {
    HttpRequest request;
    request.method = method;
    request.url = Url(target);
    request.headers = std::move(headers);
    request.body = std::move(body);
    request.timeout = absl::Seconds(10);
    return transport_->Send(request);
  }

  HttpServer server_;
  std::unique_ptr<HttpTransport> transport_ = NewHttpTransport(TransportOptions{});
};

// Echoes what the handler saw as JSON, with a custom response header.
ServerResponse Echo(const ServerRequest& req) {
  nlohmann::json query = nlohmann::json::object();
  for (const auto& [k, v] : req.query) {
    query[k].push_back(v);
  }
  ServerResponse response;
  response.status = req.method == "POST" ? 201 : 200;
  response.headers.emplace_back("X-Echo-Method", req.method);
  nlohmann::json body = {{"method", req.method},
                         {"path", req.path},
                         {"raw_target", req.raw_target},
                         {"query", query},
                         {"body", req.body},
                         {"x_custom", req.Header("x-custom").value_or("<none>")},
                         {"accept_encoding", req.Header("Accept-Encoding").value_or("<none>")},
                         {"has_remote_addr_header", req.Header("REMOTE_ADDR").has_value()},
                         {"remote_addr", req.remote_addr}};
  response.body = body.dump();
  return response;
}

TEST_F(ServerTest, EveryMethodRoundTripsHeadersAndBody) {
  server_.Route("*", "/", Echo);
  StartServer();
  for (const std::string method : {"GET", "PUT", "POST", "PATCH", "DELETE", "OPTIONS"}) {
    std::string body =
        method == "GET" || method == "OPTIONS" ? "" : absl::StrCat(R"({"m":")", method, R"("})");
    auto response = Send(method, "/things/a",
                         {{"X-Custom", "v-" + method}, {"Content-Type", "application/json"}}, body);
    ASSERT_TRUE(response.ok()) << method << ": " << response.status();
    EXPECT_EQ(response->status, method == "POST" ? 201 : 200) << method;
    EXPECT_EQ(response->Header("x-echo-method"), method);
    EXPECT_EQ(response->Header("Content-Type"), "application/json; charset=utf-8");
    auto json = nlohmann::json::parse(response->body);
    EXPECT_EQ(json["method"], method);
    EXPECT_EQ(json["path"], "/things/a");
    EXPECT_EQ(json["body"], body);
    EXPECT_EQ(json["x_custom"], "v-" + method);
    EXPECT_EQ(json["accept_encoding"], "<none>") << "the transport must not ask for compression";
    EXPECT_EQ(json["has_remote_addr_header"], false);
    EXPECT_EQ(json["remote_addr"], "127.0.0.1");
  }
}

// httplib does not read GET/HEAD/OPTIONS bodies; the server answers 400 and closes so the
// unread bytes never turn into a bogus next request.
TEST_F(ServerTest, BodyOnGetOrOptionsIs400AndConnectionRecovers) {
  server_.Route("*", "/", Echo);
  StartServer();
  for (const std::string method : {"GET", "OPTIONS"}) {
    auto rejected = Send(method, "/x", {}, "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(rejected.ok()) << rejected.status();
    EXPECT_EQ(rejected->status, 400);
    EXPECT_EQ(nlohmann::json::parse(rejected->body)["error"]["code"], "BadRequest");
    auto next = Send("GET", "/after");
    ASSERT_TRUE(next.ok()) << next.status();
    EXPECT_EQ(next->status, 200);
    EXPECT_EQ(nlohmann::json::parse(next->body)["path"], "/after");
  }
}

TEST_F(ServerTest, HeadFallsBackToGetRouteWithoutBody) {
  server_.Route("GET", "/", Echo);
  StartServer();
  auto response = Send("HEAD", "/x");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("X-Echo-Method"), "HEAD");
  EXPECT_EQ(response->body, "");
}

TEST_F(ServerTest, DecodesPathAndQueryAndKeepsRawTarget) {
  server_.Route("GET", "/", Echo);
  StartServer();
  const std::string target = "/a%20b/c%2Fd?name=x%20y&plus=1%2B2&multi=1&multi=2&space=a+b";
  auto response = Send("GET", target);
  ASSERT_TRUE(response.ok()) << response.status();
  auto json = nlohmann::json::parse(response->body);
  EXPECT_EQ(json["path"], "/a b/c/d");
  EXPECT_EQ(json["raw_target"], target);
  EXPECT_EQ(json["query"]["name"], nlohmann::json({"x y"}));
  EXPECT_EQ(json["query"]["plus"], nlohmann::json({"1+2"}));
  EXPECT_EQ(json["query"]["multi"], nlohmann::json({"1", "2"}));
  EXPECT_EQ(json["query"]["space"], nlohmann::json({"a b"}));
}

TEST_F(ServerTest, QueryAccessorReturnsFirstValueOrNullopt) {
  ServerRequest request;
  request.query = {{"a", "1"}, {"a", "2"}, {"b", ""}};
  EXPECT_EQ(request.Query("a"), "1");
  EXPECT_EQ(request.Query("b"), "");
  EXPECT_EQ(request.Query("c"), std::nullopt);
}

TEST_F(ServerTest, LongestPrefixWinsAndMethodsFilter) {
  auto named = [](const std::string& name) {
    return [name](const ServerRequest&) {
      ServerResponse r;
      r.body = name;
      r.content_type = "text/plain";
      return r;
    };
  };
  server_.Route("*", "/", named("root"));
  server_.Route("GET", "/api/", named("api-get"));
  server_.Route("*", "/api/items/", named("items-any"));
  server_.Route("PUT", "/api/items/special", named("special-put"));
  StartServer();
  struct Case {
    std::string method, path, want;
  };
  for (const Case& c : std::vector<Case>{{"GET", "/other", "root"},
                                         {"GET", "/api/x", "api-get"},
                                         {"POST", "/api/x", "root"},
                                         {"GET", "/api/items/1", "items-any"},
                                         {"DELETE", "/api/items/1", "items-any"},
                                         {"PUT", "/api/items/special", "special-put"},
                                         {"GET", "/api/items/special", "items-any"}}) {
    auto response = Send(c.method, c.path, {}, c.method == "GET" ? "" : "{}");
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->body, c.want) << c.method << " " << c.path;
    EXPECT_EQ(response->Header("Content-Type"), "text/plain");
  }
}

TEST_F(ServerTest, UnknownRouteIsJson404) {
  server_.Route("GET", "/known", Echo);
  StartServer();
  for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/unknown"}, {"PATCH", "/known"}, {"OPTIONS", "/"}}) {
    auto response = Send(method, path);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 404);
    auto json = nlohmann::json::parse(response->body);
    EXPECT_EQ(json["error"]["code"], "NotFound");
    EXPECT_NE(json["error"]["message"].get<std::string>().find(path), std::string::npos);
  }
}

TEST_F(ServerTest, EmptyBodyHasNoContentType) {
  server_.Route("DELETE", "/", [](const ServerRequest&) {
    ServerResponse r;
    r.status = 202;
    r.headers.emplace_back("Location", "http://127.0.0.1/op/1");
    return r;
  });
  StartServer();
  auto response = Send("DELETE", "/thing");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 202);
  EXPECT_EQ(response->Header("Content-Type"), std::nullopt);
  EXPECT_EQ(response->Header("Location"), "http://127.0.0.1/op/1");
  EXPECT_EQ(response->body, "");
}

TEST_F(ServerTest, ContentTypeHeaderOverridesField) {
  server_.Route("GET", "/", [](const ServerRequest&) {
    ServerResponse r;
    r.headers.emplace_back("content-type", "application/problem+json");
    r.body = "{}";
    return r;
  });
  StartServer();
  auto response = Send("GET", "/");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->Header("Content-Type"), "application/problem+json");
  EXPECT_EQ(response->body, "{}");
}

TEST_F(ServerTest, HandlerExceptionBecomesJson500) {
  server_.Route("GET", "/", [](const ServerRequest&) -> ServerResponse {
    throw std::runtime_error("boom secret");
  });
  StartServer();
  auto response = Send("GET", "/");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 500);
  EXPECT_EQ(nlohmann::json::parse(response->body)["error"]["code"], "InternalServerError");
  EXPECT_EQ(response->body.find("secret"), std::string::npos);
}

TEST_F(ServerTest, LongPathIsRouted) {
  server_.Route("GET", "/long/", Echo);
  StartServer();
  std::string path = "/long/" + std::string(6000, 'a');
  auto response = Send("GET", path);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(nlohmann::json::parse(response->body)["path"], path);
}

TEST_F(ServerTest, StreamingChunksArriveInOrder) {
  server_.Route("GET", "/watch", [](const ServerRequest&) {
    ServerResponse r;
    r.content_type = "application/json";
    r.stream = [](const ChunkWriter& write) {
      for (int i = 0; i < 20; ++i) {
        if (!write(absl::StrCat("{\"n\":", i, "}\n")) || !write("")) {
          return false;
        }
      }
      return true;
    };
    return r;
  });
  StartServer();
  auto response = Send("GET", "/watch");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("Transfer-Encoding"), "chunked");
  std::string want;
  for (int i = 0; i < 20; ++i) {
    absl::StrAppend(&want, "{\"n\":", i, "}\n");
  }
  EXPECT_EQ(response->body, want);
  // The connection stays usable after a chunked response.
  auto again = Send("GET", "/watch");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->body, want);
}

TEST_F(ServerTest, StreamReturningFalseBreaksTheResponse) {
  server_.Route("GET", "/", [](const ServerRequest&) {
    ServerResponse r;
    r.stream = [](const ChunkWriter& write) {
      write("partial");
      return false;
    };
    return r;
  });
  StartServer();
  auto response = Send("GET", "/abort");
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable) << response.status();
}

TEST_F(ServerTest, DropConnectionMakesTransportUnavailable) {
  int calls = 0;
  std::mutex mu;
  server_.Route("*", "/drop", [&](const ServerRequest&) {
    std::lock_guard<std::mutex> lock(mu);
    ++calls;
    ServerResponse r;
    r.drop_connection = true;
    return r;
  });
  server_.Route("GET", "/ok", Echo);
  StartServer();
  // Warm the pool so the GET goes out on a reused connection.
  ASSERT_TRUE(Send("GET", "/ok").ok());
  auto response = Send("GET", "/drop?sig=SECRET", {{"Authorization", "Bearer SECRET"}});
  ASSERT_EQ(response.status().code(), absl::StatusCode::kUnavailable) << response.status();
  std::string message(response.status().message());
  EXPECT_NE(message.find("GET http://127.0.0.1:" + std::to_string(server_.port()) + "/drop"),
            std::string::npos)
      << message;
  EXPECT_EQ(message.find("SECRET"), std::string::npos) << message;
  EXPECT_EQ(message.find("sig="), std::string::npos) << message;
  auto post = Send("POST", "/drop", {}, "{}");
  EXPECT_EQ(post.status().code(), absl::StatusCode::kUnavailable) << post.status();
  // The server still serves after dropping connections.
  auto ok = Send("GET", "/ok");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->status, 200);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_GE(calls, 2);
}

TEST_F(ServerTest, StartOnBusyPortIsUnavailableAndStopIsIdempotent) {
  server_.Route("GET", "/", Echo);
  StartServer();
  HttpServer second;
  auto port = second.Start("127.0.0.1", server_.port());
  EXPECT_EQ(port.status().code(), absl::StatusCode::kUnavailable) << port.status();
  server_.Stop();
  server_.Stop();
  auto response = Send("GET", "/");
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable) << response.status();
}

TEST_F(ServerTest, RestartAfterStopServesAgain) {
  server_.Route("GET", "/", Echo);
  StartServer();
  server_.Stop();
  StartServer();
  auto response = Send("GET", "/again");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
}

}  // namespace
}  // namespace kustodian
