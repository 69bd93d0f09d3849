// ParseEventGridPayload: the Event Grid schema and CloudEvents 1.0 bodies of §5, and every way
// a body can be wrong (each with an error naming the event and field).
#include "controller/eventgrid_payload.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace kustodian {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

constexpr char kDc[] =
    "/subscriptions/SUB/resourceGroups/rg-a/providers/Microsoft.Kusto/clusters/adx1/databases/"
    "db1/dataConnections/dc-orders";

// The §5.6 example, verbatim in shape.
json WriteEvent(const std::string& id = "8c0c-1") {
  return json{{"id", id},
              {"topic", "/subscriptions/SUB/resourceGroups/rg-a"},
              {"subject", kDc},
              {"eventType", "Microsoft.Resources.ResourceWriteSuccess"},
              {"eventTime", "2025-06-01T10:00:05Z"},
              {"dataVersion", "2"},
              {"metadataVersion", "1"},
              {"data",
               {{"authorization",
                 {{"scope", kDc},
                  {"action", "Microsoft.Kusto/Clusters/Databases/DataConnections/write"},
                  {"evidence", {{"role", "Contributor"}}}}},
                {"claims", {{"appid", "client"}}},
                {"correlationId", "corr-1"},
                {"httpRequest", {{"method", "PUT"}, {"url", "https://management.azure.com/x"}}},
                {"resourceProvider", "Microsoft.Kusto"},
                {"resourceUri", kDc},
                {"operationName", "Microsoft.Kusto/Clusters/Databases/DataConnections/write"},
                {"status", "Succeeded"},
                {"subscriptionId", "SUB"},
                {"tenantId", "TENANT"}}}};
}

json CloudEvent(const std::string& id = "ce-1") {
  return json{{"specversion", "1.0"},
              {"type", "Microsoft.Resources.ResourceDeleteSuccess"},
              {"source", "/subscriptions/SUB"},
              {"id", id},
              {"time", "2025-06-01T10:00:05Z"},
              {"subject", kDc},
              {"data", {{"resourceUri", kDc}, {"correlationId", "corr-2"}}}};
}

std::string ErrorOf(const std::string& body) {
  absl::StatusOr<EventGridPayload> p = ParseEventGridPayload(body);
  EXPECT_FALSE(p.ok()) << body;
  return p.ok() ? "" : std::string(p.status().message());
}

TEST(EventGridPayloadTest, ParsesTheEventGridSchemaResourceEvent) {
  absl::StatusOr<EventGridPayload> p = ParseEventGridPayload(json::array({WriteEvent()}).dump());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->schema, EventSchema::kEventGrid);
  EXPECT_TRUE(p->batch);
  ASSERT_EQ(p->events.size(), 1u);
  const EventGridEvent& e = p->events[0];
  EXPECT_EQ(e.id, "8c0c-1");
  EXPECT_EQ(e.type, kEventTypeWriteSuccess);
  EXPECT_EQ(e.source, "/subscriptions/SUB/resourceGroups/rg-a");
  EXPECT_EQ(e.subject, kDc);
  EXPECT_EQ(e.time, "2025-06-01T10:00:05Z");
  EXPECT_EQ(e.resource_uri, kDc);
  EXPECT_EQ(e.correlation_id, "corr-1");
  EXPECT_EQ(e.operation_name, "Microsoft.Kusto/Clusters/Databases/DataConnections/write");
  EXPECT_EQ(e.status, "Succeeded");
  EXPECT_EQ(e.Resource(), kDc);
}

TEST(EventGridPayloadTest, ResourceFallsBackToTheSubject) {
  json e = WriteEvent();
  e["data"].erase("resourceUri");
  absl::StatusOr<EventGridPayload> p = ParseEventGridPayload(json::array({e}).dump());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->events[0].resource_uri, "");
  EXPECT_EQ(p->events[0].Resource(), kDc);
}

TEST(EventGridPayloadTest, ParsesTheValidationEvent) {
  json v = {{"id", "v1"},
            {"topic", "/subscriptions/SUB/resourceGroups/rg"},
            {"subject", ""},
            {"eventType", "Microsoft.EventGrid.SubscriptionValidationEvent"},
            {"eventTime", "2025-06-01T10:00:00Z"},
            {"metadataVersion", "1"},
            {"dataVersion", "1"},
            {"data", {{"validationCode", "512d38b6"}, {"validationUrl", "https://rp/validate"}}}};
  absl::StatusOr<EventGridPayload> p = ParseEventGridPayload(json::array({v}).dump());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->events[0].validation_code, "512d38b6");
  EXPECT_EQ(p->events[0].validation_url, "https://rp/validate");

  v["data"].erase("validationCode");
  EXPECT_THAT(ErrorOf(json::array({v}).dump()), HasSubstr("data.validationCode"));
}

TEST(EventGridPayloadTest, ParsesCloudEventsSingleAndBatch) {
  absl::StatusOr<EventGridPayload> single = ParseEventGridPayload(CloudEvent().dump());
  ASSERT_TRUE(single.ok()) << single.status();
  EXPECT_EQ(single->schema, EventSchema::kCloudEvents);
  EXPECT_FALSE(single->batch);
  ASSERT_EQ(single->events.size(), 1u);
  EXPECT_EQ(single->events[0].type, kEventTypeDeleteSuccess);
  EXPECT_EQ(single->events[0].source, "/subscriptions/SUB");
  EXPECT_EQ(single->events[0].correlation_id, "corr-2");

  absl::StatusOr<EventGridPayload> batch =
      ParseEventGridPayload(json::array({CloudEvent("a"), CloudEvent("b")}).dump());
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_TRUE(batch->batch);
  ASSERT_EQ(batch->events.size(), 2u);
  EXPECT_EQ(batch->events[1].id, "b");

  json no_data = CloudEvent();
  no_data.erase("data");
  EXPECT_TRUE(ParseEventGridPayload(no_data.dump()).ok());
}

TEST(EventGridPayloadTest, RejectsBodiesThatAreNotEvents) {
  EXPECT_THAT(ErrorOf(""), HasSubstr("not valid JSON"));
  EXPECT_THAT(ErrorOf("[{\"id\": "), HasSubstr("not valid JSON"));
  EXPECT_THAT(ErrorOf("\"hello\""), HasSubstr("must be a JSON array"));
  EXPECT_THAT(ErrorOf("[]"), HasSubstr("empty array"));
  EXPECT_THAT(ErrorOf("[1]"), HasSubstr("event [0]: must be a JSON object"));
  EXPECT_THAT(ErrorOf(WriteEvent().dump()), HasSubstr("without 'specversion'"));
  EXPECT_THAT(ErrorOf(json::array({WriteEvent(), CloudEvent()}).dump()),
              HasSubstr("event [1]: mixes"));
}

TEST(EventGridPayloadTest, RejectsMissingAndMistypedFields) {
  struct Case {
    std::string field;
    json value;  // null = erase
    std::string want;
  };
  for (const Case& c : std::vector<Case>{
           {"id", nullptr, "missing required field 'id'"},
           {"id", "", "'id' is empty"},
           {"eventType", nullptr, "'eventType'"},
           {"eventType", 7, "'eventType' must be a string, found number"},
           {"subject", nullptr, "'subject'"},
           {"data", nullptr, "missing required field 'data'"},
           {"data", "text", "'data' must be an object, found string"},
           {"topic", json::array(), "'topic' must be a string"},
       }) {
    json e = WriteEvent();
    if (c.value.is_null()) {
      e.erase(c.field);
    } else {
      e[c.field] = c.value;
    }
    EXPECT_THAT(ErrorOf(json::array({WriteEvent("ok"), e}).dump()), HasSubstr("event [1]: "))
        << c.field;
    EXPECT_THAT(ErrorOf(json::array({e}).dump()), HasSubstr(c.want)) << c.field;
  }
  json e = WriteEvent();
  e["data"]["correlationId"] = json::object();
  EXPECT_THAT(ErrorOf(json::array({e}).dump()),
              HasSubstr("'data.correlationId' must be a string, found object"));
  e = WriteEvent();
  e["data"]["resourceUri"] = true;
  EXPECT_THAT(ErrorOf(json::array({e}).dump()), HasSubstr("'data.resourceUri'"));

  json ce = CloudEvent();
  ce["specversion"] = "0.3";
  EXPECT_THAT(ErrorOf(ce.dump()), HasSubstr("specversion '0.3'"));
  ce = CloudEvent();
  ce.erase("source");
  EXPECT_THAT(ErrorOf(ce.dump()), HasSubstr("'source'"));
  ce = CloudEvent();
  ce["data"] = json::array();
  EXPECT_THAT(ErrorOf(ce.dump()), HasSubstr("'data' must be an object"));
}

TEST(EventGridPayloadTest, EnforcesItsLimits) {
  EventGridPayloadLimits limits;
  limits.max_events = 3;
  json four = json::array({WriteEvent("1"), WriteEvent("2"), WriteEvent("3"), WriteEvent("4")});
  absl::StatusOr<EventGridPayload> p = ParseEventGridPayload(four.dump(), limits);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("4 events; the limit is 3"));

  limits = {};
  limits.max_body = 100;
  p = ParseEventGridPayload(json::array({WriteEvent()}).dump(), limits);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("the limit is 100"));

  limits = {};
  limits.max_field = 10;
  p = ParseEventGridPayload(json::array({WriteEvent()}).dump(), limits);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("the limit is 10"));

  // Deep nesting is refused before the JSON parser sees it; brackets inside strings do not count.
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_THAT(ErrorOf(deep), HasSubstr("nested deeper than 32"));
  json e = WriteEvent();
  e["data"]["claims"]["note"] = std::string(200, '[');
  EXPECT_TRUE(ParseEventGridPayload(json::array({e}).dump()).ok());
  json nested = json::object();
  for (int i = 0; i < 40; ++i) {
    nested = json{{"x", nested}};
  }
  e["data"]["claims"] = nested;
  EXPECT_THAT(ErrorOf(json::array({e}).dump()), HasSubstr("nested deeper"));
}

TEST(EventGridPayloadTest, HostileBytesNeverCrash) {
  // A few shapes a fuzzer finds first: invalid UTF-8, NUL bytes, huge numbers, lone surrogates.
  for (std::string body :
       {std::string("[\"\xff\xfe\"]"), std::string("[{\"id\":\"a\0b\"}]", 15),
        std::string("[1e999999]"), std::string("[\"\\ud800\"]"), std::string("{\"specversion\":1}"),
        std::string("[{\"specversion\":\"1.0\",\"id\":\"1\",\"type\":\"t\",\"source\":\"s\"},"
                    "{\"id\":\"2\"}]")}) {
    EXPECT_FALSE(ParseEventGridPayload(body).ok()) << body;
  }
}

}  // namespace
}  // namespace kustodian
