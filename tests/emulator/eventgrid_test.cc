// Event Grid delivery end to end against an in-process webhook: the validation handshake of
// both schemas, the events of API and out-of-band writes and deletes (fields, correlation ids),
// batching, retries, dead-lettering, filters, and the admin API.
#include "absl/strings/str_cat.h"
#include "tests/emulator/eventgrid_test_util.h"

namespace kustodian::emulator::testing {
namespace {

const std::string kDcPath = std::string(kDb) + "/dataConnections/";

TEST_F(EventGridTest, EventGridSchemaHandshakeThenOutOfBandWrite) {
  Subscribe("kustodian", {{"headers", {{"x-shared-secret", "hunter2"}}}});
  ASSERT_TRUE(WaitValidated("kustodian"));
  std::vector<ReceivedCall> calls = receiver_.Calls();
  ASSERT_GE(calls.size(), 1u);
  const ReceivedCall& v = calls[0];
  EXPECT_EQ(v.method, "POST");
  EXPECT_EQ(v.target, "/eventgrid?code=s3cret");
  EXPECT_EQ(v.Header("aeg-event-type"), "SubscriptionValidation");
  EXPECT_EQ(v.Header("x-shared-secret"), "hunter2");
  nlohmann::json vb = nlohmann::json::parse(v.body);
  ASSERT_TRUE(vb.is_array());
  ASSERT_EQ(vb.size(), 1u);
  EXPECT_EQ(vb[0]["eventType"], "Microsoft.EventGrid.SubscriptionValidationEvent");
  EXPECT_FALSE(vb[0]["data"]["validationCode"].get<std::string>().empty());
  EXPECT_TRUE(absl::StrContains(vb[0]["data"]["validationUrl"].get<std::string>(), "validate"));

  AdminCreate("drift", "corr-admin-1");
  ASSERT_TRUE(WaitUntil([&] { return receiver_.Notifications().size() == 1; }));
  ReceivedCall n = receiver_.Notifications()[0];
  EXPECT_EQ(n.target, "/eventgrid?code=s3cret");
  EXPECT_EQ(n.Header("aeg-subscription-name"), "KUSTODIAN");
  EXPECT_EQ(n.Header("aeg-delivery-count"), "0");
  EXPECT_EQ(n.Header("x-shared-secret"), "hunter2");
  EXPECT_TRUE(absl::StartsWith(n.Header("Content-Type"), "application/json"));
  nlohmann::json body = nlohmann::json::parse(n.body);
  ASSERT_TRUE(body.is_array());
  ASSERT_EQ(body.size(), 1u);
  const nlohmann::json& e = body[0];
  std::string id = kDcPath + "drift";
  EXPECT_FALSE(e["id"].get<std::string>().empty());
  EXPECT_EQ(e["topic"], std::string("/subscriptions/") + kSub);
  EXPECT_EQ(e["subject"], id);
  EXPECT_EQ(e["eventType"], "Microsoft.Resources.ResourceWriteSuccess");
  EXPECT_TRUE(e["eventTime"].is_string());
  EXPECT_EQ(e["dataVersion"], "2");
  EXPECT_EQ(e["metadataVersion"], "1");
  const nlohmann::json& d = e["data"];
  EXPECT_EQ(d["correlationId"], "corr-admin-1");
  EXPECT_EQ(d["resourceProvider"], "Microsoft.Kusto");
  EXPECT_EQ(d["resourceUri"], id);
  EXPECT_EQ(d["operationName"], "Microsoft.Kusto/Clusters/Databases/DataConnections/write");
  EXPECT_EQ(d["status"], "Succeeded");
  EXPECT_EQ(d["subscriptionId"], kSub);
  EXPECT_EQ(d["tenantId"], kTenant);
  EXPECT_EQ(d["authorization"]["scope"], id);
  EXPECT_TRUE(d["claims"].is_object());
  EXPECT_FALSE(d.contains("httpRequest"));  // a create (§5.6)
}

TEST_F(EventGridTest, ApiWritesAndDeletesCarryTheClientsCorrelationId) {
  Subscribe("kustodian");
  ASSERT_TRUE(WaitValidated("kustodian"));
  ServerRequest put = MakeRequest("PUT", kDcPath + "dc1" + kApi, EventHubBody());
  put.headers.emplace_back("x-ms-correlation-request-id", "c-put");
  ASSERT_EQ(Call(put).status, 201);
  EXPECT_EQ(Counters()["published"], 0);  // not before the operation completes
  clock_.Advance(absl::Seconds(11));
  ASSERT_EQ(Call("GET", kDcPath + "dc1" + kApi).status, 200);
  EXPECT_EQ(Counters()["published"], 1);

  ServerRequest update = MakeRequest("PUT", kDcPath + "dc1" + kApi, EventHubBody());
  update.headers.emplace_back("x-ms-correlation-request-id", "c-update");
  update.headers.emplace_back("x-ms-client-request-id", "client-1");
  ASSERT_EQ(Call(update).status, 200);
  clock_.Advance(absl::Seconds(11));
  ServerResponse del = Call("DELETE", kDcPath + "dc1" + kApi);  // no correlation id sent
  ASSERT_EQ(del.status, 202);
  clock_.Advance(absl::Seconds(11));
  ASSERT_EQ(Call("GET", kDcPath + "dc1" + kApi).status, 404);

  ASSERT_TRUE(WaitUntil([&] { return receiver_.Events().size() == 3; }));
  std::vector<nlohmann::json> events = receiver_.Events();
  EXPECT_EQ(events[0]["eventType"], "Microsoft.Resources.ResourceWriteSuccess");
  EXPECT_EQ(events[0]["data"]["correlationId"], "c-put");
  EXPECT_EQ(events[0]["subject"], kDcPath + "dc1");
  EXPECT_FALSE(events[0]["data"].contains("httpRequest"));
  EXPECT_EQ(events[1]["data"]["correlationId"], "c-update");
  EXPECT_EQ(events[1]["data"]["httpRequest"]["method"], "PUT");
  EXPECT_EQ(events[1]["data"]["httpRequest"]["clientRequestId"], "client-1");
  EXPECT_EQ(events[1]["data"]["httpRequest"]["url"],
            "https://management.azure.com" + kDcPath + "dc1" + kApi);
  EXPECT_EQ(events[2]["eventType"], "Microsoft.Resources.ResourceDeleteSuccess");
  EXPECT_EQ(events[2]["data"]["operationName"],
            "Microsoft.Kusto/Clusters/Databases/DataConnections/delete");
  // Without a client correlation id the event carries the one the emulator answered with.
  EXPECT_EQ(events[2]["data"]["correlationId"], Hdr(del, "x-ms-correlation-request-id").value());
  EXPECT_EQ(events[2]["data"]["httpRequest"]["method"], "DELETE");
  EXPECT_NE(events[0]["id"], events[1]["id"]);
}

TEST_F(EventGridTest, OperationsCompleteOnTheirOwnWhileSubscribed) {
  Subscribe("kustodian");
  ASSERT_TRUE(WaitValidated("kustodian"));
  ASSERT_EQ(Call("PUT", kDcPath + "dc1" + kApi, EventHubBody()).status, 201);
  clock_.Advance(absl::Seconds(11));  // no request follows: the ticker applies the completion
  ASSERT_TRUE(WaitUntil([&] { return receiver_.Events().size() == 1; }));
}

TEST_F(EventGridTest, OutOfBandDeleteWithGeneratedCorrelationId) {
  AdminCreate("gone");
  Subscribe("kustodian");
  ASSERT_TRUE(WaitValidated("kustodian"));
  ASSERT_EQ(Admin("DELETE", "/connections" + kDcPath + "gone").status, 204);
  ASSERT_EQ(Admin("DELETE", "/connections" + kDcPath + "gone").status, 404);  // no event
  ASSERT_TRUE(WaitUntil([&] { return receiver_.Events().size() == 1; }));
  nlohmann::json e = receiver_.Events()[0];
  EXPECT_EQ(e["eventType"], "Microsoft.Resources.ResourceDeleteSuccess");
  EXPECT_EQ(e["data"]["correlationId"].get<std::string>().size(), 36u);  // a GUID
  EXPECT_EQ(e["data"]["httpRequest"]["method"], "DELETE");
  EXPECT_EQ(Counters()["published"], 2);  // the create too, before there was a subscription
  EXPECT_EQ(SubState("kustodian")["matched"], 1);
}

TEST_F(EventGridTest, CloudEventsPreflightAndSingleEvents) {
  Subscribe("ce", {{"schema", "CloudEventSchemaV1_0"}});
  ASSERT_TRUE(WaitValidated("ce"));
  ReceivedCall pre = receiver_.Calls()[0];
  EXPECT_EQ(pre.method, "OPTIONS");
  EXPECT_EQ(pre.Header("WebHook-Request-Origin"), "eventgrid.azure.net");
  AdminCreate("c1", "corr-ce");
  ASSERT_TRUE(WaitUntil([&] { return receiver_.Notifications().size() == 1; }));
  ReceivedCall n = receiver_.Notifications()[0];
  EXPECT_TRUE(absl::StartsWith(n.Header("Content-Type"), "application/cloudevents+json"));
  nlohmann::json e = nlohmann::json::parse(n.body);
  ASSERT_TRUE(e.is_object());
  EXPECT_EQ(e["specversion"], "1.0");
  EXPECT_EQ(e["type"], "Microsoft.Resources.ResourceWriteSuccess");
  EXPECT_EQ(e["source"], std::string("/subscriptions/") + kSub);
  EXPECT_EQ(e["subject"], kDcPath + "c1");
  EXPECT_TRUE(e["time"].is_string());
  EXPECT_FALSE(e["id"].get<std::string>().empty());
  EXPECT_EQ(e["data"]["correlationId"], "corr-ce");
}

TEST_F(EventGridTest, CloudEventsWithoutAllowedOriginStayUnvalidated) {
  receiver_.answer_validation = false;
  Subscribe("ce", {{"schema", "CloudEventSchemaV1_0"}});
  ASSERT_TRUE(WaitUntil([&] { return SubState("ce")["validationAttempts"] >= 2; }));
  nlohmann::json s = SubState("ce");
  EXPECT_FALSE(s["validated"].get<bool>());
  EXPECT_TRUE(
      absl::StrContains(s["lastValidationError"].get<std::string>(), "WebHook-Allowed-Origin"));
}

TEST_F(EventGridTest, NothingIsDeliveredBeforeValidation) {
  receiver_.answer_validation = false;
  Subscribe("kustodian");
  AdminCreate("a");
  AdminCreate("b");
  ASSERT_TRUE(WaitUntil([&] { return SubState("kustodian")["validationAttempts"] >= 2; }));
  nlohmann::json s = SubState("kustodian");
  EXPECT_EQ(s["state"], "AwaitingValidation");
  EXPECT_EQ(s["pending"], 2);
  EXPECT_TRUE(absl::StrContains(s["lastValidationError"].get<std::string>(), "validationResponse"));
  EXPECT_TRUE(receiver_.Notifications().empty());
  receiver_.answer_validation = true;  // the next retry (60 ms, 300 ms, ...) passes
  ASSERT_TRUE(WaitUntil([&] { return receiver_.Events().size() == 2; }));
  std::vector<nlohmann::json> events = receiver_.Events();
  EXPECT_EQ(events[0]["subject"], kDcPath + "a");  // order kept
  EXPECT_EQ(events[1]["subject"], kDcPath + "b");
  EXPECT_TRUE(SubState("kustodian")["validated"].get<bool>());
}

TEST_F(EventGridTest, FailedValidationDropsTheQueue) {
  receiver_.answer_validation = false;
  Subscribe("kustodian", {{"maxDeliveryAttempts", 2}});
  AdminCreate("a");
  ASSERT_TRUE(WaitUntil([&] { return SubState("kustodian")["state"] == "ValidationFailed"; }));
  nlohmann::json s = SubState("kustodian");
  EXPECT_EQ(s["pending"], 0);
  EXPECT_EQ(s["deadLettered"], 1);
  EXPECT_EQ(s["deadLetters"][0]["deadLetterReason"], "SubscriptionValidationFailed");
  // A PUT of the subscription starts the handshake again.
  receiver_.answer_validation = true;
  Subscribe("kustodian");
  ASSERT_TRUE(WaitValidated("kustodian"));
}

TEST_F(EventGridTest, BatchesUpToMaxEventsInOrder) {
  Start([] {
    EmulatorOptions options = EventGridOptionsForTest();
    options.eventgrid.batch_window = absl::Milliseconds(300);
    return options;
  }());
  Subscribe("batched", {{"maxEventsPerBatch", 3}});
  ASSERT_TRUE(WaitValidated("batched"));
  for (int i = 0; i < 7; ++i) {
    AdminCreate(absl::StrCat("c", i));
  }
  ASSERT_TRUE(WaitUntil([&] { return receiver_.Events().size() == 7; }));
  std::vector<ReceivedCall> posts = receiver_.Notifications();
  ASSERT_EQ(posts.size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(posts[0].body).size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(posts[1].body).size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(posts[2].body).size(), 1u);
  std::vector<nlohmann::json> events = receiver_.Events();
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(events[i]["subject"], kDcPath + absl::StrCat("c", i));
  }
  EXPECT_TRUE(WaitUntil([&] { return SubState("batched")["deliveredBatches"] == 3; }));
}

TEST_F(EventGridTest, CloudEventBatchesAreArrays) {
  Subscribe("ce", {{"schema", "CloudEventSchemaV1_0"}, {"maxEventsPerBatch", 2}});
  ASSERT_TRUE(WaitValidated("ce"));
  AdminCreate("x");
  AdminCreate("y");
  ASSERT_TRUE(WaitUntil([&] { return receiver_.Events().size() == 2; }));
  ReceivedCall n = receiver_.Notifications()[0];
  EXPECT_TRUE(absl::StartsWith(n.Header("Content-Type"), "application/cloudevents-batch+json"));
  EXPECT_TRUE(nlohmann::json::parse(n.body).is_array());
}

TEST_F(EventGridTest, RetriesFailedDeliveriesWithTheSameEvent) {
  Subscribe("kustodian");
  ASSERT_TRUE(WaitValidated("kustodian"));
  receiver_.fail_notifications = 2;
  AdminCreate("r");
  ASSERT_TRUE(WaitUntil([&] { return SubState("kustodian")["delivered"] == 1; }));
  std::vector<ReceivedCall> posts = receiver_.Notifications();
  ASSERT_EQ(posts.size(), 3u);
  EXPECT_EQ(posts[0].Header("aeg-delivery-count"), "0");
  EXPECT_EQ(posts[1].Header("aeg-delivery-count"), "1");
  EXPECT_EQ(posts[2].Header("aeg-delivery-count"), "2");
  EXPECT_EQ(nlohmann::json::parse(posts[0].body)[0]["id"],
            nlohmann::json::parse(posts[2].body)[0]["id"]);
  nlohmann::json c = Counters();
  EXPECT_EQ(c["failedAttempts"], 2);
  EXPECT_EQ(c["delivered"], 1);
  EXPECT_EQ(c["deadLettered"], 0);
}

TEST_F(EventGridTest, RetryWaitsBehindAFailedBatch) {
  Subscribe("kustodian");
  ASSERT_TRUE(WaitValidated("kustodian"));
  receiver_.fail_notifications = 1;
  receiver_.fail_status = 404;  // retried, after at least 5 min (x 0.001)
  AdminCreate("first");
  AdminCreate("second");
  ASSERT_TRUE(WaitUntil([&] { return receiver_.Events().size() == 3; }));
  std::vector<nlohmann::json> events = receiver_.Events();
  EXPECT_EQ(events[0]["subject"], kDcPath + "first");  // the failed attempt
  EXPECT_EQ(events[1]["subject"], kDcPath + "first");
  EXPECT_EQ(events[2]["subject"], kDcPath + "second");
}

TEST_F(EventGridTest, DeadLettersAfterMaxAttempts) {
  Subscribe("kustodian", {{"maxDeliveryAttempts", 3}});
  ASSERT_TRUE(WaitValidated("kustodian"));
  receiver_.fail_notifications = 1000;
  AdminCreate("doomed");
  ASSERT_TRUE(WaitUntil([&] { return SubState("kustodian")["deadLettered"] == 1; }));
  nlohmann::json s = SubState("kustodian");
  EXPECT_EQ(receiver_.Notifications().size(), 3u);
  EXPECT_EQ(s["pending"], 0);
  EXPECT_EQ(s["deadLetters"][0]["deadLetterReason"], "MaxDeliveryAttemptsExceeded");
  EXPECT_EQ(s["deadLetters"][0]["deliveryAttempts"], 3);
  EXPECT_EQ(s["deadLetters"][0]["lastDeliveryOutcome"], "HTTP 500");
  EXPECT_EQ(Counters()["deadLettered"], 1);
  // The next event is delivered normally.
  receiver_.fail_notifications = 0;
  AdminCreate("fine");
  ASSERT_TRUE(WaitUntil([&] { return SubState("kustodian")["delivered"] == 1; }));
}

TEST_F(EventGridTest, BadRequestIsNotRetried) {
  Subscribe("kustodian");
  ASSERT_TRUE(WaitValidated("kustodian"));
  receiver_.fail_notifications = 1;
  receiver_.fail_status = 400;
  AdminCreate("rejected");
  ASSERT_TRUE(WaitUntil([&] { return SubState("kustodian")["deadLettered"] == 1; }));
  EXPECT_EQ(receiver_.Notifications().size(), 1u);
  EXPECT_EQ(SubState("kustodian")["deadLetters"][0]["deadLetterReason"], "NonRetriableStatusCode");
}

TEST_F(EventGridTest, DeadLettersWhenTheTimeToLivePasses) {
  Start([] {
    EmulatorOptions options = EventGridOptionsForTest();
    options.eventgrid.ttl = absl::Milliseconds(150);
    return options;
  }());
  Subscribe("kustodian");
  ASSERT_TRUE(WaitValidated("kustodian"));
  receiver_.fail_notifications = 1000;
  AdminCreate("stale");
  ASSERT_TRUE(WaitUntil([&] { return SubState("kustodian")["deadLettered"] == 1; }));
  EXPECT_EQ(SubState("kustodian")["deadLetters"][0]["deadLetterReason"], "TimeToLiveExceeded");
}

TEST_F(EventGridTest, IncludedEventTypesFilter) {
  Subscribe("deletes", {{"includedEventTypes", {"Microsoft.Resources.ResourceDeleteSuccess"}}});
  ASSERT_TRUE(WaitValidated("deletes"));
  AdminCreate("f");
  ASSERT_EQ(Admin("DELETE", "/connections" + kDcPath + "f").status, 204);
  ASSERT_TRUE(WaitUntil([&] { return receiver_.Events().size() == 1; }));
  EXPECT_EQ(receiver_.Events()[0]["eventType"], "Microsoft.Resources.ResourceDeleteSuccess");
  EXPECT_EQ(SubState("deletes")["matched"], 1);
  EXPECT_EQ(Counters()["published"], 2);
}

TEST_F(EventGridTest, DeliveryNeverBlocksArmRequests) {
  Subscribe("kustodian");
  ASSERT_TRUE(WaitValidated("kustodian"));
  receiver_.block = true;
  AdminCreate("slow1");
  ASSERT_TRUE(WaitUntil([&] { return receiver_.Calls().size() == 2; }));  // delivery hangs
  absl::Time start = absl::Now();
  AdminCreate("slow2");
  EXPECT_EQ(Call("GET", kDcPath + "slow1" + kApi).status, 200);
  EXPECT_EQ(Admin("GET", "/eventgrid/subscriptions").status, 200);
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  receiver_.Release();
  ASSERT_TRUE(WaitUntil([&] { return SubState("kustodian")["delivered"] == 2; }));
}

TEST_F(EventGridTest, AdminApi) {
  EXPECT_EQ(Admin("PUT", "/eventgrid/subscriptions/bad", R"({"endpoint":"nope"})").status, 400);
  ServerResponse r = Admin("PUT", "/eventgrid/subscriptions/bad",
                           R"({"endpoint":"http://127.0.0.1:1/x","maxEventsPerBatch":0})");
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(absl::StrContains(r.body, "maxEventsPerBatch")) << r.body;
  EXPECT_EQ(Admin("GET", "/eventgrid/subscriptions/none").status, 404);
  EXPECT_EQ(Admin("DELETE", "/eventgrid/subscriptions/none").status, 404);
  Subscribe("one");
  Subscribe("two", {{"schema", "CloudEventSchemaV1_0"}});
  nlohmann::json list = BodyJson(Admin("GET", "/eventgrid/subscriptions"))["subscriptions"];
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["name"], "one");
  EXPECT_EQ(list[0]["schema"], "EventGridSchema");
  EXPECT_EQ(list[0]["maxEventsPerBatch"], 1);
  EXPECT_EQ(list[0]["preferredBatchSizeInKilobytes"], 64);
  EXPECT_EQ(list[0]["includedEventTypes"].size(), 2u);
  EXPECT_EQ(list[1]["schema"], "CloudEventSchemaV1_0");
  EXPECT_EQ(Admin("DELETE", "/eventgrid/subscriptions/ONE").status, 204);
  EXPECT_EQ(BodyJson(Admin("GET", "/eventgrid/subscriptions"))["subscriptions"].size(), 1u);
  EXPECT_EQ(Counters()["subscriptions"], 1);
}

TEST_F(EventGridTest, WorldFileSubscriptions) {
  std::string yaml =
      absl::StrCat("eventGridSubscriptions:\n  - name: fromworld\n    endpoint: ", receiver_.Url(),
                   "\n    maxEventsPerBatch: 2\n");
  ServerResponse r = Admin("POST", "/world", yaml);
  ASSERT_EQ(r.status, 204) << r.body;
  ASSERT_TRUE(WaitValidated("fromworld"));
  EXPECT_EQ(SubState("fromworld")["maxEventsPerBatch"], 2);
}

}  // namespace
}  // namespace kustodian::emulator::testing
