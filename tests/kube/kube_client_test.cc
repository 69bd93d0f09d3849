// KubeClientImpl against a scripted loopback API server: paths, queries, headers and bodies of
// every verb, list paging, the error mapping of kube_client.h, and 401 handling.
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "src/core/status.h"
#include "src/kube/kube_client_impl.h"
#include "tests/kube/test_api_server.h"

namespace kustodian::kube {
namespace {

using testing::Object;
using testing::TestApiServer;

class KubeClientTest : public ::testing::Test {
 protected:
  std::unique_ptr<KubeClient> NewClient(KubeConfig config) {
    auto client = NewKubeClient(config, clock_, Logger::Null());
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? std::move(client).value() : nullptr;
  }
  ServerRequest OnlyRequest() {
    auto requests = server_.Requests();
    EXPECT_EQ(requests.size(), 1u);
    return requests.empty() ? ServerRequest{} : requests.back();
  }

  RealClock clock_;
  TestApiServer server_;
};

TEST_F(KubeClientTest, GetSendsPathAndHeaders) {
  server_.SetHandler(
      [](const ServerRequest&) { return TestApiServer::Json(200, Object("a", "5")); });
  auto client = NewClient(server_.Config("sekret"));
  auto got = client->Get(DataConnectionGvr(), "ns1", "a");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(ResourceVersionOf(*got), "5");
  ServerRequest req = OnlyRequest();
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.raw_target, "/apis/kustodian.io/v1alpha1/namespaces/ns1/dataconnections/a");
  EXPECT_EQ(req.Header("Accept").value_or(""), "application/json");
  EXPECT_EQ(req.Header("Authorization").value_or(""), "Bearer sekret");
  EXPECT_TRUE(absl::StartsWith(req.Header("User-Agent").value_or(""), "kustodian/"));
}

TEST_F(KubeClientTest, PathsForCoreAndClusterScopedTypes) {
  server_.SetHandler([](const ServerRequest&) {
    return TestApiServer::Json(200, {{"kind", "List"}, {"items", nlohmann::json::array()}});
  });
  auto client = NewClient(server_.Config());
  ASSERT_TRUE(client->Get(SecretGvr(), "ns2", "creds").ok());
  ASSERT_TRUE(client->List(NamespaceGvr(), "").ok());
  ASSERT_TRUE(client->List(DataConnectionGvr(), "").ok());  // all namespaces
  auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].raw_target, "/api/v1/namespaces/ns2/secrets/creds");
  EXPECT_EQ(requests[1].raw_target, "/api/v1/namespaces");
  EXPECT_EQ(requests[2].raw_target, "/apis/kustodian.io/v1alpha1/dataconnections");
}

TEST_F(KubeClientTest, WriteVerbsSendBodiesAndContentTypes) {
  server_.SetHandler([](const ServerRequest& req) {
    if (req.method == "DELETE") {
      return TestApiServer::Json(200, TestApiServer::StatusBody(200, "", ""));
    }
    nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
    if (!body.is_object()) {
      body = {{"raw", req.body}};
    }
    return TestApiServer::Json(req.method == "POST" ? 201 : 200, body);
  });
  auto client = NewClient(server_.Config());
  nlohmann::json object = Object("a", "7");
  object["spec"] = {{"x", 1}};

  auto created = client->Create(DataConnectionGvr(), "ns1", object);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ((*created)["spec"]["x"], 1);
  ASSERT_TRUE(client->Update(DataConnectionGvr(), "ns1", object).ok());
  ASSERT_TRUE(client->UpdateStatus(DataConnectionGvr(), "ns1", object).ok());
  ASSERT_TRUE(client->Patch(DataConnectionGvr(), "ns1", "a", PatchType::kMerge, R"({"a":1})").ok());
  ASSERT_TRUE(client
                  ->Patch(DataConnectionGvr(), "ns1", "a", PatchType::kJson,
                          R"([{"op":"add","path":"/a","value":1}])", "status")
                  .ok());
  ASSERT_TRUE(client->Patch(SecretGvr(), "ns1", "s", PatchType::kStrategicMerge, "{}").ok());
  ASSERT_TRUE(client->Delete(DataConnectionGvr(), "ns1", "a").ok());

  auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 7u);
  const std::string base = "/apis/kustodian.io/v1alpha1/namespaces/ns1/dataconnections";
  struct Expected {
    std::string method, target, content_type;
  };
  std::vector<Expected> expected = {
      {"POST", base, "application/json"},
      {"PUT", base + "/a", "application/json"},
      {"PUT", base + "/a/status", "application/json"},
      {"PATCH", base + "/a", "application/merge-patch+json"},
      {"PATCH", base + "/a/status", "application/json-patch+json"},
      {"PATCH", "/api/v1/namespaces/ns1/secrets/s", "application/strategic-merge-patch+json"},
      {"DELETE", base + "/a", ""},
  };
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(requests[i].method, expected[i].method);
    EXPECT_EQ(requests[i].raw_target, expected[i].target);
    EXPECT_EQ(requests[i].Header("Content-Type").value_or(""), expected[i].content_type);
  }
  EXPECT_EQ(nlohmann::json::parse(requests[0].body), object);
  EXPECT_EQ(nlohmann::json::parse(requests[2].body), object);
  EXPECT_EQ(requests[3].body, R"({"a":1})");
  EXPECT_TRUE(requests[6].body.empty());
}

TEST_F(KubeClientTest, ListFollowsContinueAndFillsKind) {
  server_.SetHandler([](const ServerRequest& req) {
    std::string cont = req.Query("continue").value_or("");
    nlohmann::json list = {{"apiVersion", "v1"}, {"kind", "SecretList"}};
    if (cont.empty()) {
      list["metadata"] = {{"resourceVersion", "100"}, {"continue", "tok/1"}};
      list["items"] = {{{"metadata", {{"name", "a"}}}}, {{"metadata", {{"name", "b"}}}}};
    } else {
      list["metadata"] = {{"resourceVersion", "100"}};
      list["items"] = {{{"metadata", {{"name", "c"}}}}};
    }
    return TestApiServer::Json(200, list);
  });
  auto client = NewClient(server_.Config());
  ListOptions options;
  options.limit = 2;
  options.label_selector = "app=x,tier in (a b)";
  auto list = client->List(SecretGvr(), "ns1", options);
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->items.size(), 3u);
  EXPECT_EQ(NameOf(list->items[2]), "c");
  EXPECT_EQ(list->items[0]["kind"], "Secret");
  EXPECT_EQ(list->items[0]["apiVersion"], "v1");
  EXPECT_EQ(list->resource_version, "100");
  auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].Query("limit").value_or(""), "2");
  EXPECT_EQ(requests[0].Query("labelSelector").value_or(""), "app=x,tier in (a b)");
  EXPECT_FALSE(requests[0].Query("continue").has_value());
  EXPECT_EQ(requests[1].Query("continue").value_or(""), "tok/1");
  EXPECT_EQ(requests[1].Query("labelSelector").value_or(""), "app=x,tier in (a b)");
}

TEST_F(KubeClientTest, ListWithoutLimitDoesNotPage) {
  server_.SetHandler([](const ServerRequest&) {
    return TestApiServer::Json(200, {{"kind", "List"},
                                     {"metadata", {{"resourceVersion", "9"}, {"continue", "more"}}},
                                     {"items", {Object("a", "1")}}});
  });
  auto client = NewClient(server_.Config());
  auto list = client->List(DataConnectionGvr(), "ns1");
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->items.size(), 1u);
  EXPECT_EQ(server_.Requests().size(), 1u);
  EXPECT_FALSE(server_.Requests()[0].Query("limit").has_value());
}

struct ErrorCase {
  int http;
  std::string reason;
  absl::StatusCode code;
};

TEST_F(KubeClientTest, MapsErrors) {
  const std::vector<ErrorCase> cases = {
      {404, "NotFound", absl::StatusCode::kNotFound},
      {409, "AlreadyExists", absl::StatusCode::kAlreadyExists},
      {409, "Conflict", absl::StatusCode::kAborted},
      {410, "Expired", absl::StatusCode::kOutOfRange},
      {401, "Unauthorized", absl::StatusCode::kUnauthenticated},
      {403, "Forbidden", absl::StatusCode::kPermissionDenied},
      {400, "BadRequest", absl::StatusCode::kInvalidArgument},
      {422, "Invalid", absl::StatusCode::kInvalidArgument},
      {429, "TooManyRequests", absl::StatusCode::kUnavailable},
      {500, "InternalError", absl::StatusCode::kUnavailable},
      {503, "ServiceUnavailable", absl::StatusCode::kUnavailable},
  };
  int index = 0;
  server_.SetHandler([&](const ServerRequest&) {
    const ErrorCase& c = cases[index];
    return TestApiServer::Json(c.http,
                               TestApiServer::StatusBody(c.http, c.reason, "msg " + c.reason));
  });
  auto client = NewClient(server_.Config("static"));
  for (; index < static_cast<int>(cases.size()); ++index) {
    SCOPED_TRACE(cases[index].http);
    absl::Status status = client->Get(DataConnectionGvr(), "ns1", "a").status();
    EXPECT_EQ(status.code(), cases[index].code) << status;
    EXPECT_EQ(status.message(), "msg " + cases[index].reason);
  }
  EXPECT_TRUE(IsConflict(absl::AbortedError("")));
  EXPECT_TRUE(IsGone(absl::OutOfRangeError("")));
}

TEST_F(KubeClientTest, InvalidKeepsTheStatusMessageThatNamesTheField) {
  const std::string message =
      "DataConnection.kustodian.io \"a\" is invalid: spec.kind: Unsupported value: \"X\"";
  server_.SetHandler([&](const ServerRequest&) {
    return TestApiServer::Json(422, TestApiServer::StatusBody(422, "Invalid", message));
  });
  auto client = NewClient(server_.Config());
  absl::Status status = client->Create(DataConnectionGvr(), "ns1", Object("a", "")).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_EQ(status.message(), message);
}

TEST_F(KubeClientTest, RetryAfterIsAttachedFromHeaderOrDetails) {
  int call = 0;
  server_.SetHandler([&](const ServerRequest&) {
    if (call++ == 0) {
      return TestApiServer::Json(429, TestApiServer::StatusBody(429, "TooManyRequests", "slow"),
                                 {{"Retry-After", "7"}});
    }
    nlohmann::json body = TestApiServer::StatusBody(503, "ServiceUnavailable", "later");
    body["details"] = {{"retryAfterSeconds", 3}};
    return TestApiServer::Json(503, body);
  });
  auto client = NewClient(server_.Config());
  absl::Status first = client->Get(LeaseGvr(), "ns1", "l").status();
  EXPECT_TRUE(absl::IsUnavailable(first));
  EXPECT_EQ(GetRetryAfter(first), absl::Seconds(7));
  absl::Status second = client->Get(LeaseGvr(), "ns1", "l").status();
  EXPECT_TRUE(absl::IsUnavailable(second));
  EXPECT_EQ(GetRetryAfter(second), absl::Seconds(3));
}

TEST_F(KubeClientTest, NonStatusErrorBodyStillMapsByHttpStatus) {
  server_.SetHandler([](const ServerRequest&) {
    ServerResponse r;
    r.status = 502;
    r.body = "<html>bad gateway</html>";
    r.content_type = "text/html";
    return r;
  });
  auto client = NewClient(server_.Config());
  absl::Status status = client->Get(LeaseGvr(), "ns1", "l").status();
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "502")) << status;
}

TEST_F(KubeClientTest, TransportFailureIsUnavailable) {
  KubeConfig config = server_.Config();
  server_.Stop();
  auto client = NewClient(config);
  absl::Status status = client->Get(LeaseGvr(), "ns1", "l").status();
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
}

TEST_F(KubeClientTest, UnauthenticatedWithStaticTokenIsNotRetried) {
  server_.SetHandler([](const ServerRequest&) {
    return TestApiServer::Json(401, TestApiServer::StatusBody(401, "Unauthorized", "Unauthorized"));
  });
  auto client = NewClient(server_.Config());
  EXPECT_TRUE(absl::IsUnauthenticated(client->Get(LeaseGvr(), "ns1", "l").status()));
  EXPECT_EQ(server_.Requests().size(), 1u);
}

TEST_F(KubeClientTest, AnonymousWhenNoCredential) {
  server_.SetHandler(
      [](const ServerRequest&) { return TestApiServer::Json(200, Object("a", "1")); });
  KubeConfig config = server_.Config("");
  auto client = NewClient(config);
  ASSERT_TRUE(client->Get(DataConnectionGvr(), "ns1", "a").ok());
  EXPECT_FALSE(OnlyRequest().Header("Authorization").has_value());
}

TEST_F(KubeClientTest, BadServerUrlIsInvalidArgument) {
  KubeConfig config;
  config.server = "ftp://example";
  auto client = NewKubeClient(config, clock_, Logger::Null());
  EXPECT_TRUE(absl::IsInvalidArgument(client.status())) << client.status();
}

}  // namespace
}  // namespace kustodian::kube
