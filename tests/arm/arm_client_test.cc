// ArmClientImpl: request shape, GET/LIST/PUT/DELETE answers and error mapping.
#include <atomic>
#include <functional>
#include <set>
#include <string_view>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/core/status.h"
#include "src/model/arm_codec.h"
#include "tests/arm/arm_test_util.h"

namespace kustodian::testing_arm {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST_F(ArmClientTest, GetSendsTheStandardHeadersAndDecodes) {
  DataConnectionId id = TestId();
  transport_.Expect("GET", ResourceUrl(id), ScriptedTransport::Json(200, ConnectionJson(id)));
  absl::StatusOr<LiveConnection> live = Client().Get(id);
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_EQ(live->id, id);
  EXPECT_EQ(live->kind_name, "EventHub");
  EXPECT_EQ(live->provisioning_state, "Succeeded");
  ASSERT_TRUE(transport_.Verify());
  HttpRequest sent = transport_.Request(0);
  EXPECT_EQ(Header(sent, "Authorization"), absl::StrCat("Bearer ", kToken));
  EXPECT_TRUE(IsGuid(Header(sent, "x-ms-client-request-id")))
      << Header(sent, "x-ms-client-request-id");
  EXPECT_EQ(Header(sent, "Accept"), "application/json");
  EXPECT_EQ(Header(sent, "User-Agent"), "kustodian/0.1");
  EXPECT_EQ(Header(sent, "Content-Type"), "<absent>");
  EXPECT_EQ(Header(sent, "x-ms-correlation-request-id"), "<absent>");
  EXPECT_EQ(sent.body, "");
  EXPECT_THAT(requests_seen_, ElementsAre("GET 200"));
}

TEST_F(ArmClientTest, EveryCallGetsAFreshClientRequestId) {
  DataConnectionId id = TestId();
  transport_.Expect("GET", ResourceUrl(id), ScriptedTransport::Json(200, ConnectionJson(id)));
  transport_.Expect("GET", ResourceUrl(id), ScriptedTransport::Json(200, ConnectionJson(id)));
  ArmClientImpl& client = Client();
  ASSERT_TRUE(client.Get(id).ok());
  ASSERT_TRUE(client.Get(id).ok());
  EXPECT_NE(Header(transport_.Request(0), "x-ms-client-request-id"),
            Header(transport_.Request(1), "x-ms-client-request-id"));
}

TEST_F(ArmClientTest, GetMissingIsNotFoundWithArmCode) {
  DataConnectionId id = TestId();
  transport_.Expect("GET", ResourceUrl(id),
                    ScriptedTransport::Json(404, ArmError("ResourceNotFound",
                                                          "The resource with identifier 'x' is "
                                                          "not found.")));
  absl::StatusOr<LiveConnection> live = Client().Get(id);
  EXPECT_EQ(live.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(GetArmErrorCode(live.status()), "ResourceNotFound");
  std::string crid = Header(transport_.Request(0), "x-ms-client-request-id");
  EXPECT_THAT(std::string(live.status().message()),
              HasSubstr(absl::StrCat("-> 404 ResourceNotFound: The resource with identifier 'x' "
                                     "is not found. (client-request-id ",
                                     crid, ")")));
  EXPECT_TRUE(transport_.Verify());
}

TEST_F(ArmClientTest, CapitalizedErrorBodyIsMapped) {
  DataConnectionId id = TestId();
  transport_.Expect(
      "GET", ResourceUrl(id),
      ScriptedTransport::Json(
          403, {{"Error", {{"Code", "AuthorizationFailed"}, {"Message", "no rights"}}}}));
  absl::StatusOr<LiveConnection> live = Client().Get(id);
  EXPECT_EQ(live.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(GetArmErrorCode(live.status()), "AuthorizationFailed");
  EXPECT_THAT(std::string(live.status().message()), HasSubstr("no rights"));
}

TEST_F(ArmClientTest, BadRequestIsNotRetried) {
  DataConnectionSpec spec = TestSpec();
  transport_.Expect("PUT", ResourceUrl(spec.id),
                    ScriptedTransport::Json(400, ArmError("EventHubValidationErorFound",
                                                          "[BadRequest] table does not exist")));
  absl::Time start = clock_.Now();
  absl::StatusOr<WriteResult> result = Client().Put(spec);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetArmErrorCode(result.status()), "EventHubValidationErorFound");
  EXPECT_EQ(transport_.RequestCount(), 1u);
  EXPECT_EQ(clock_.Now(), start);
  EXPECT_TRUE(transport_.Verify());
}

TEST_F(ArmClientTest, ConflictIsAborted) {
  DataConnectionId id = TestId();
  transport_.Expect("DELETE", ResourceUrl(id),
                    ScriptedTransport::Json(409, ArmError("RequestConflict", "not terminal")));
  EXPECT_EQ(Client().Delete(id).status().code(), absl::StatusCode::kAborted);
}

TEST_F(ArmClientTest, ListFollowsNextLink) {
  DatabaseId db = TestId().Database();
  std::string first =
      absl::StrCat(kEndpoint, db.RequestPath(), "/dataConnections?api-version=", kApi);
  std::string next = absl::StrCat(kEndpoint, db.RequestPath(),
                                  "/dataConnections?api-version=2025-02-14&$skiptoken=abc%3D%3D");
  transport_.Expect("GET", first,
                    ScriptedTransport::Json(
                        200, {{"value", {ConnectionJson(TestId("a")), ConnectionJson(TestId("b"))}},
                              {"nextLink", next}}));
  transport_.Expect("GET", next,
                    ScriptedTransport::Json(
                        200, {{"value", {ConnectionJson(TestId("c"))}}, {"nextLink", nullptr}}));
  absl::StatusOr<std::vector<LiveConnection>> list = Client().List(db);
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].id.name, "a");
  EXPECT_EQ((*list)[2].id.name, "c");
  EXPECT_TRUE(transport_.Verify());
}

TEST_F(ArmClientTest, ListRefusesANextLinkToAnotherHost) {
  DatabaseId db = TestId().Database();
  transport_.Expect("GET", "*",
                    ScriptedTransport::Json(200, {{"value", nlohmann::json::array()},
                                                  {"nextLink", "https://evil.example/steal"}}));
  absl::StatusOr<std::vector<LiveConnection>> list = Client().List(db);
  EXPECT_FALSE(list.ok());
  EXPECT_EQ(transport_.RequestCount(), 1u);  // the token never went to evil.example
}

// Issue 6: ListIfChanged tells an answer byte-identical to the previous one without decoding it.
TEST_F(ArmClientTest, ListIfChangedDecodesOnlyAChangedAnswer) {
  DatabaseId db = TestId().Database();
  std::string url =
      absl::StrCat(kEndpoint, db.RequestPath(), "/dataConnections?api-version=", kApi);
  nlohmann::json two = {{"value", {ConnectionJson(TestId("a")), ConnectionJson(TestId("b"))}}};
  nlohmann::json changed = two;
  changed["value"][1]["properties"]["consumerGroup"] = "other";
  transport_.Expect("GET", url, ScriptedTransport::Json(200, two));
  transport_.Expect("GET", url, ScriptedTransport::Json(200, two));
  transport_.Expect("GET", url, ScriptedTransport::Json(200, changed));

  absl::StatusOr<ListAnswer> first = Client().ListIfChanged(db, nullptr);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->unchanged);
  ASSERT_EQ(first->items.size(), 2u);
  ASSERT_EQ(first->fingerprint.pages.size(), 1u);
  EXPECT_EQ(first->fingerprint.pages[0].next_link, "");

  absl::StatusOr<ListAnswer> same = Client().ListIfChanged(db, &first->fingerprint);
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_TRUE(same->unchanged);
  EXPECT_TRUE(same->items.empty());
  EXPECT_EQ(same->fingerprint, first->fingerprint);

  absl::StatusOr<ListAnswer> differs = Client().ListIfChanged(db, &first->fingerprint);
  ASSERT_TRUE(differs.ok()) << differs.status();
  EXPECT_FALSE(differs->unchanged);
  ASSERT_EQ(differs->items.size(), 2u);
  EXPECT_EQ(differs->items[1].properties["consumerGroup"], "other");
  EXPECT_FALSE(differs->fingerprint == first->fingerprint);
  EXPECT_EQ(transport_.RequestCount(), 3u) << "one request per LIST page, as List";
  EXPECT_TRUE(transport_.Verify());
}

// An unchanged answer is not even parsed: a body that is not JSON, fingerprinted as the
// previous answer, is "unchanged" (List would fail on it).
TEST_F(ArmClientTest, ListIfChangedParsesNothingWhenTheBytesAreTheSame) {
  DatabaseId db = TestId().Database();
  const std::string body = "this is not JSON";
  HttpResponse response;
  response.status = 200;
  response.body = body;
  transport_.Expect("GET", "*", response);
  transport_.Expect("GET", "*", response);
  ListFingerprint previous;
  previous.pages.push_back(
      ListFingerprint::Page{std::hash<std::string_view>{}(body), body.size(), ""});
  absl::StatusOr<ListAnswer> answer = Client().ListIfChanged(db, &previous);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_TRUE(answer->unchanged);
  EXPECT_FALSE(Client().List(db).ok()) << "decoded, the same body is an error";
}

// Paged answers: identical pages are followed by the nextLink recorded for them; when a later
// page differs, every page is decoded. A different number of pages is a change.
TEST_F(ArmClientTest, ListIfChangedComparesEveryPage) {
  DatabaseId db = TestId().Database();
  std::string first_url =
      absl::StrCat(kEndpoint, db.RequestPath(), "/dataConnections?api-version=", kApi);
  std::string next = absl::StrCat(first_url, "&$skiptoken=1");
  nlohmann::json page1 = {{"value", {ConnectionJson(TestId("a"))}}, {"nextLink", next}};
  nlohmann::json page2 = {{"value", {ConnectionJson(TestId("b"))}}};
  nlohmann::json page2_changed = {{"value", {ConnectionJson(TestId("b"), "Updating")}}};
  for (const nlohmann::json* second : {&page2, &page2, &page2_changed}) {
    transport_.Expect("GET", first_url, ScriptedTransport::Json(200, page1));
    transport_.Expect("GET", next, ScriptedTransport::Json(200, *second));
  }
  absl::StatusOr<ListAnswer> first = Client().ListIfChanged(db, nullptr);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->fingerprint.pages.size(), 2u);
  EXPECT_EQ(first->fingerprint.pages[0].next_link, next);

  absl::StatusOr<ListAnswer> same = Client().ListIfChanged(db, &first->fingerprint);
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_TRUE(same->unchanged);
  EXPECT_TRUE(same->items.empty());

  absl::StatusOr<ListAnswer> differs = Client().ListIfChanged(db, &first->fingerprint);
  ASSERT_TRUE(differs.ok()) << differs.status();
  EXPECT_FALSE(differs->unchanged);
  ASSERT_EQ(differs->items.size(), 2u) << "the unchanged first page is decoded too";
  EXPECT_EQ(differs->items[0].id.name, "a");
  EXPECT_EQ(differs->items[1].provisioning_state, "Updating");
  EXPECT_EQ(transport_.RequestCount(), 6u);
  EXPECT_TRUE(transport_.Verify());

  // Identical pages, but the previous answer had one more: a change.
  transport_.Expect("GET", first_url, ScriptedTransport::Json(200, page1));
  transport_.Expect("GET", next, ScriptedTransport::Json(200, page2));
  ListFingerprint two_pages = first->fingerprint;
  two_pages.pages.push_back(first->fingerprint.pages[1]);  // three pages before
  absl::StatusOr<ListAnswer> fewer = Client().ListIfChanged(db, &two_pages);
  ASSERT_TRUE(fewer.ok()) << fewer.status();
  EXPECT_FALSE(fewer->unchanged) << "the answer has fewer pages than the previous one";
  EXPECT_EQ(fewer->items.size(), 2u);
}

TEST_F(ArmClientTest, PutSendsBodyAndCorrelationId) {
  DataConnectionSpec spec = TestSpec();
  transport_.Expect("PUT", ResourceUrl(spec.id),
                    ScriptedTransport::Json(200, ConnectionJson(spec.id, "Succeeded")));
  absl::StatusOr<WriteResult> result = Client().Put(spec);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->operation.has_value());
  ASSERT_TRUE(result->resource.has_value());
  EXPECT_EQ(result->resource->provisioning_state, "Succeeded");
  HttpRequest sent = transport_.Request(0);
  EXPECT_EQ(Header(sent, "Content-Type"), "application/json");
  EXPECT_EQ(nlohmann::json::parse(sent.body), EncodePutBody(spec));
  EXPECT_TRUE(IsGuid(result->correlation_id));
  EXPECT_EQ(Header(sent, "x-ms-correlation-request-id"), result->correlation_id);
  EXPECT_EQ(Header(sent, "x-ms-client-request-id"), result->client_request_id);
  EXPECT_NE(result->client_request_id, result->correlation_id);
}

TEST_F(ArmClientTest, ManagedIdentityKindsUseApi2025) {
  DataConnectionSpec spec = TestSpec(ConnectionKind::kEventHubWithManagedIdentity);
  transport_.Expect("PUT", ResourceUrl(spec.id, kApi2025),
                    ScriptedTransport::Json(
                        201, ConnectionJson(spec.id, "Creating", "EventHubWithManagedIdentity"),
                        {{"Azure-AsyncOperation", OperationUrl("op1")}}));
  DataConnectionSpec grid = TestSpec(ConnectionKind::kEventGridWithManagedIdentity, "grid");
  transport_.Expect("PUT", ResourceUrl(grid.id, kApi2025),
                    ScriptedTransport::Json(
                        200, ConnectionJson(grid.id, "Succeeded", "EventGridWithManagedIdentity")));
  DataConnectionSpec plain = TestSpec(ConnectionKind::kEventHub, "plain");
  transport_.Expect("PUT", ResourceUrl(plain.id, kApi),
                    ScriptedTransport::Json(200, ConnectionJson(plain.id)));
  ArmClientImpl& client = Client();
  absl::StatusOr<WriteResult> result = client.Put(spec);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->operation.has_value());
  EXPECT_EQ(result->operation->api_version, kApi2025);
  EXPECT_TRUE(client.Put(grid).ok());
  EXPECT_TRUE(client.Put(plain).ok());
  EXPECT_TRUE(transport_.Verify());
}

TEST_F(ArmClientTest, DeleteAnswers) {
  DataConnectionId id = TestId();
  transport_.Expect("DELETE", ResourceUrl(id), ScriptedTransport::Empty(200));
  transport_.Expect("DELETE", ResourceUrl(id), ScriptedTransport::Empty(204));
  transport_.Expect("DELETE", ResourceUrl(id),
                    ScriptedTransport::Json(404, ArmError("ResourceNotFound", "gone")));
  ArmClientImpl& client = Client();
  absl::StatusOr<WriteResult> deleted = client.Delete(id);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_TRUE(deleted->existed);
  EXPECT_FALSE(deleted->operation.has_value());
  absl::StatusOr<WriteResult> absent = client.Delete(id);
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent->existed);
  absl::StatusOr<WriteResult> not_found = client.Delete(id);
  ASSERT_TRUE(not_found.ok()) << not_found.status();
  EXPECT_FALSE(not_found->existed);
  EXPECT_TRUE(IsGuid(Header(transport_.Request(0), "x-ms-correlation-request-id")));
  EXPECT_TRUE(transport_.Verify());
}

TEST_F(ArmClientTest, UndecodableBodyIsInternal) {
  DataConnectionId id = TestId();
  transport_.Expect("GET", ResourceUrl(id), ScriptedTransport::Json(200, {{"name", "x"}}));
  EXPECT_EQ(Client().Get(id).status().code(), absl::StatusCode::kInternal);
}

TEST_F(ArmClientTest, EndpointOverrideAndTrailingSlash) {
  ArmClientOptions options = TestOptions();
  options.endpoint = "http://127.0.0.1:8123/";
  DataConnectionId id = TestId();
  transport_.Expect("GET",
                    absl::StrCat("http://127.0.0.1:8123", id.RequestPath(), "?api-version=", kApi),
                    ScriptedTransport::Json(200, ConnectionJson(id)));
  EXPECT_TRUE(Client(options).Get(id).ok());
  EXPECT_TRUE(transport_.Verify());
}

TEST_F(ArmClientTest, ConcurrentCallsAreSafeAndDistinct) {
  constexpr int kThreads = 8;
  constexpr int kCallsPerThread = 10;
  DataConnectionId id = TestId();
  for (int i = 0; i < kThreads * kCallsPerThread; ++i) {
    transport_.Expect("GET", ResourceUrl(id), ScriptedTransport::Json(200, ConnectionJson(id)));
  }
  ArmClientImpl& client = Client();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        if (client.Get(id).ok()) {
          ++ok;
        }
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(ok.load(), kThreads * kCallsPerThread);
  EXPECT_TRUE(transport_.Verify());
  std::set<std::string> ids;
  for (const HttpRequest& request : transport_.Requests()) {
    ids.insert(Header(request, "x-ms-client-request-id"));
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kThreads * kCallsPerThread));
}

}  // namespace
}  // namespace kustodian::testing_arm
