// Event Grid pieces without a network: subscription parsing (admin JSON and the world file),
// the retry schedule, and the event envelopes of both schemas.
#include "src/emulator/eventgrid_config.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "src/emulator/eventgrid_delivery.h"
#include "src/emulator/eventgrid_events.h"
#include "src/emulator/eventgrid_webhook.h"
#include "src/emulator/world.h"

namespace kustodian::emulator {
namespace {

TEST(EventGridConfigTest, DefaultsAreAzures) {
  absl::StatusOr<EventGridSubscriptionConfig> c =
      SubscriptionFromJson(nlohmann::json{{"endpoint", "http://127.0.0.1:9/eg?code=x"}}, "sub-1");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->name, "sub-1");
  EXPECT_EQ(c->schema, EventSchema::kEventGrid);
  EXPECT_EQ(c->max_events_per_batch, 1);
  EXPECT_EQ(c->preferred_batch_size_kb, 64);
  EXPECT_TRUE(c->Includes("microsoft.resources.resourcewritesuccess"));
  EXPECT_TRUE(c->Includes("Microsoft.Resources.ResourceDeleteSuccess"));
  EXPECT_FALSE(c->Includes("Microsoft.Resources.ResourceWriteFailure"));
  EXPECT_TRUE(c->headers.empty());
}

TEST(EventGridConfigTest, RejectsBadFieldsByName) {
  auto err = [](const nlohmann::json& body) {
    absl::StatusOr<EventGridSubscriptionConfig> c = SubscriptionFromJson(body, "s");
    return c.ok() ? std::string() : std::string(c.status().message());
  };
  nlohmann::json ok = {{"endpoint", "http://127.0.0.1:9/eg"}};
  EXPECT_TRUE(absl::StrContains(err(nlohmann::json::object()), "'endpoint' is required"));
  EXPECT_TRUE(absl::StrContains(err({{"endpoint", "ftp://x"}}), "not an absolute http(s) URL"));
  nlohmann::json b = ok;
  b["schema"] = "CustomInputSchema";
  EXPECT_TRUE(absl::StrContains(err(b), "'schema'"));
  b = ok;
  b["maxEventsPerBatch"] = 5001;
  EXPECT_TRUE(absl::StrContains(err(b), "'maxEventsPerBatch' must be an integer from 1 to 5000"));
  b = ok;
  b["includedEventTypes"] = {"Microsoft.Storage.BlobCreated"};
  EXPECT_TRUE(absl::StrContains(err(b), "unknown event type"));
  b = ok;
  b["headers"] = {{"bad header", "x"}};
  EXPECT_TRUE(absl::StrContains(err(b), "header 'bad header'"));
  b = ok;
  b["surprise"] = 1;
  EXPECT_TRUE(absl::StrContains(err(b), "unknown key 'surprise'"));
  b = ok;
  b["name"] = "other";
  EXPECT_TRUE(absl::StrContains(err(b), "agree"));
  EXPECT_TRUE(err(ok).empty());
}

TEST(EventGridConfigTest, WorldFileSection) {
  absl::StatusOr<World> w = ParseWorld(R"(
eventGridSubscriptions:
  - name: kustodian
    endpoint: http://127.0.0.1:8090/eventgrid?code=SECRET
    schema: CloudEventSchemaV1_0
    maxEventsPerBatch: 10
    preferredBatchSizeInKilobytes: 128
    includedEventTypes: [Microsoft.Resources.ResourceWriteSuccess]
    headers:
      x-secret: 12345
    maxDeliveryAttempts: 5
    eventTimeToLiveInMinutes: 30
)",
                                       "w.yaml");
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->eventgrid_subscriptions.size(), 1u);
  const EventGridSubscriptionConfig& c = w->eventgrid_subscriptions[0];
  EXPECT_EQ(c.endpoint, "http://127.0.0.1:8090/eventgrid?code=SECRET");
  EXPECT_EQ(c.schema, EventSchema::kCloudEvents);
  EXPECT_EQ(c.max_events_per_batch, 10);
  EXPECT_EQ(c.preferred_batch_size_kb, 128);
  EXPECT_FALSE(c.Includes("Microsoft.Resources.ResourceDeleteSuccess"));
  ASSERT_EQ(c.headers.size(), 1u);
  EXPECT_EQ(c.headers[0].second, "12345");
  EXPECT_EQ(c.max_delivery_attempts, 5);
  EXPECT_EQ(c.event_ttl, absl::Minutes(30));
}

TEST(EventGridConfigTest, WorldFileErrorsNameTheLine) {
  absl::StatusOr<World> w = ParseWorld(
      "eventGridSubscriptions:\n  - name: a\n    endpoint: http://127.0.0.1:1/\n"
      "  - name: b\n    endpoint: http://127.0.0.1:1/\n    maxEventsPerBatch: 0\n",
      "w.yaml");
  ASSERT_FALSE(w.ok());
  EXPECT_TRUE(absl::StartsWith(w.status().message(), "w.yaml:4:")) << w.status();
  w = ParseWorld(
      "eventGridSubscriptions:\n  - name: a\n    endpoint: http://127.0.0.1:1/\n"
      "    colour: red\n",
      "w.yaml");
  ASSERT_FALSE(w.ok());
  EXPECT_TRUE(absl::StrContains(w.status().message(), "w.yaml:4: unknown key 'colour'"))
      << w.status();
  w = ParseWorld(
      "eventGridSubscriptions:\n  - name: a\n    endpoint: http://127.0.0.1:1/\n"
      "  - name: A\n    endpoint: http://127.0.0.1:1/\n",
      "w.yaml");
  ASSERT_FALSE(w.ok());
  EXPECT_TRUE(absl::StrContains(w.status().message(), "listed twice")) << w.status();
}

TEST(EventGridRetryTest, AzureScheduleAndStatusMinimums) {
  EXPECT_EQ(RetryDelay(1, 500), absl::Seconds(10));
  EXPECT_EQ(RetryDelay(2, 500), absl::Seconds(30));
  EXPECT_EQ(RetryDelay(3, 0), absl::Minutes(1));
  EXPECT_EQ(RetryDelay(4, 500), absl::Minutes(5));
  EXPECT_EQ(RetryDelay(7, 500), absl::Hours(1));
  EXPECT_EQ(RetryDelay(8, 500), absl::Hours(3));
  EXPECT_EQ(RetryDelay(9, 500), absl::Hours(6));
  EXPECT_EQ(RetryDelay(10, 500), absl::Hours(12));
  EXPECT_EQ(RetryDelay(29, 500), absl::Hours(12));
  EXPECT_EQ(RetryDelay(1, 404), absl::Minutes(5));
  EXPECT_EQ(RetryDelay(1, 408), absl::Minutes(2));
  EXPECT_EQ(RetryDelay(1, 503), absl::Seconds(30));
  EXPECT_EQ(RetryDelay(6, 503), absl::Minutes(30));
  EXPECT_TRUE(IsNonRetriedStatus(400));
  EXPECT_TRUE(IsNonRetriedStatus(401));
  EXPECT_TRUE(IsNonRetriedStatus(403));
  EXPECT_TRUE(IsNonRetriedStatus(413));
  EXPECT_FALSE(IsNonRetriedStatus(404));
  EXPECT_FALSE(IsNonRetriedStatus(503));
}

TEST(EventGridEventsTest, EnvelopesOfBothSchemas) {
  ChangeContext change;
  change.resource_uri =
      "/subscriptions/S/resourceGroups/g/providers/Microsoft.Kusto/clusters/c/"
      "databases/d/dataConnections/n";
  change.subscription_id = "S";
  change.tenant_id = "T";
  change.correlation_id = "corr";
  absl::Time t = absl::FromUnixMillis(1'790'000'000'123);
  ResourceEvent e = MakeResourceEvent(change, ChangeKind::kDelete, true, "ev-1", t);
  nlohmann::json eg = nlohmann::json::parse(EventGridJson(e).dump());
  EXPECT_EQ(eg["id"], "ev-1");
  EXPECT_EQ(eg["topic"], "/subscriptions/S");
  EXPECT_EQ(eg["subject"], change.resource_uri);
  EXPECT_EQ(eg["eventType"], "Microsoft.Resources.ResourceDeleteSuccess");
  EXPECT_EQ(eg["eventTime"], "2026-09-21T14:13:20.1230000Z");
  EXPECT_EQ(eg["dataVersion"], "2");
  EXPECT_EQ(eg["metadataVersion"], "1");
  EXPECT_EQ(eg["data"]["operationName"],
            "Microsoft.Kusto/Clusters/Databases/DataConnections/delete");
  EXPECT_EQ(eg["data"]["authorization"]["action"], eg["data"]["operationName"]);
  EXPECT_EQ(eg["data"]["tenantId"], "T");
  nlohmann::json ce = nlohmann::json::parse(CloudEventJson(e).dump());
  EXPECT_EQ(ce["specversion"], "1.0");
  EXPECT_EQ(ce["type"], eg["eventType"]);
  EXPECT_EQ(ce["source"], eg["topic"]);
  EXPECT_EQ(ce["subject"], eg["subject"]);
  EXPECT_EQ(ce["time"], eg["eventTime"]);
  EXPECT_EQ(ce["data"], eg["data"]);
  ResourceEvent failed = MakeResourceEvent(change, ChangeKind::kWrite, false, "ev-2", t);
  EXPECT_EQ(failed.event_type, "Microsoft.Resources.ResourceWriteFailure");
  EXPECT_EQ(failed.data["status"], "Failed");
}

}  // namespace
}  // namespace kustodian::emulator
