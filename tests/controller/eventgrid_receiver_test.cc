// EventGridReceiver::Handle without a network (and one test over loopback): authentication,
// the HTTP error contract, the validation handshake and CloudEvents preflight, what each
// resource event does, own writes, redeliveries, storms, and the metrics.
#include "controller/eventgrid_receiver.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "src/http/http.h"
#include "src/metrics/kustodian_metrics.h"
#include "src/metrics/registry.h"
#include "tests/fakes/fake_clock.h"

namespace kustodian {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using json = nlohmann::json;

constexpr char kSecret[] = "s3cret-s3cret-s3cret";
constexpr char kDb[] =
    "/subscriptions/SUB/resourceGroups/rg-a/providers/Microsoft.Kusto/clusters/adx1/databases/db1";
constexpr char kDbKey[] =
    "/subscriptions/sub/resourcegroups/rg-a/providers/microsoft.kusto/clusters/adx1/databases/db1";

std::string Dc(const std::string& name) { return absl::StrCat(kDb, "/dataConnections/", name); }
std::string DcKey(const std::string& name) {
  return absl::StrCat(kDbKey, "/dataconnections/", absl::AsciiStrToLower(name));
}

json Event(const std::string& id, const std::string& resource, const std::string& correlation,
           const std::string& type = "Microsoft.Resources.ResourceWriteSuccess") {
  return json{{"id", id},
              {"topic", "/subscriptions/SUB"},
              {"subject", resource},
              {"eventType", type},
              {"eventTime", "2025-06-01T10:00:05Z"},
              {"dataVersion", "2"},
              {"metadataVersion", "1"},
              {"data",
               {{"resourceUri", resource},
                {"correlationId", correlation},
                {"operationName", "Microsoft.Kusto/Clusters/Databases/DataConnections/write"},
                {"status", "Succeeded"}}}};
}

class EventGridReceiverTest : public ::testing::Test {
 protected:
  EventGridReceiverTest()
      : logger_(LogLevel::kError, LogFormat::kText, clock_, [](std::string_view) {}),
        metrics_(registry_),
        own_(clock_) {
    options_.bind_address = "127.0.0.1:0";
    options_.secret = kSecret;
    managed_ = {DcKey("managed"), DcKey("other")};
    MakeReceiver();
  }

  void MakeReceiver() {
    EventGridReceiverDeps deps{clock_, logger_, &metrics_, own_};
    deps.is_managed = [this](const std::string& key) { return managed_.count(key) > 0; };
    deps.reconcile = [this](const std::string& key) { reconciled_.push_back(key); };
    deps.manages_scope = [this](const std::string& scope) {
      for (const std::string& k : managed_) {
        if (absl::StartsWith(k, scope + "/")) {
          return true;
        }
      }
      return false;
    };
    deps.relist = [this](const std::string& scope) { relisted_.push_back(scope); };
    receiver_ = std::make_unique<EventGridReceiver>(options_, std::move(deps));
  }

  ServerResponse Send(const std::string& method, const std::string& body,
                      std::multimap<std::string, std::string> query = {{"code", kSecret}},
                      HttpHeaders headers = {}, const std::string& path = "/eventgrid") {
    ServerRequest r;
    r.method = method;
    r.path = path;
    r.query = std::move(query);
    r.headers = std::move(headers);
    r.body = body;
    return receiver_->Handle(r);
  }
  ServerResponse Post(const json& body) { return Send("POST", body.dump()); }

  // Lets every coalescing window close.
  void Settle() {
    clock_.Advance(options_.coalesce_max + absl::Milliseconds(1));
    receiver_->FireDue();
  }

  double Count(const std::string& type, const std::string& outcome) {
    return metrics_.eventgrid_events.WithLabels({type, outcome}).Value();
  }

  FakeClock clock_;
  Logger logger_;
  Registry registry_;
  KustodianMetrics metrics_;
  OwnWrites own_;
  EventGridOptions options_;
  std::set<std::string> managed_;
  std::vector<std::string> reconciled_;
  std::vector<std::string> relisted_;
  std::unique_ptr<EventGridReceiver> receiver_;
};

TEST_F(EventGridReceiverTest, RequiresTheSecretInTheQueryOrTheHeader) {
  const std::string body = json::array({Event("1", Dc("managed"), "c1")}).dump();
  EXPECT_EQ(Send("POST", body, {}).status, 401);
  EXPECT_EQ(Send("POST", body, {{"code", "wrong-wrong-wrong-wrong"}}).status, 401);
  EXPECT_EQ(Send("POST", body, {{"code", std::string(kSecret) + "x"}}).status, 401);
  EXPECT_EQ(Send("POST", body, {{"code", ""}}).status, 401);
  EXPECT_EQ(Send("POST", body, {}, {{"X-Kustodian-Eventgrid-Secret", "nope"}}).status, 401);
  EXPECT_EQ(Send("OPTIONS", "", {}, {{"WebHook-Request-Origin", "eventgrid.azure.net"}}).status,
            401);
  EXPECT_EQ(Count("other", kEgUnauthorized), 6);
  Settle();
  EXPECT_TRUE(reconciled_.empty());
  EXPECT_EQ(Count("Microsoft.Resources.ResourceWriteSuccess", kEgEnqueued), 0);

  EXPECT_EQ(Send("POST", body, {}, {{"x-kustodian-eventgrid-secret", kSecret}}).status, 200);
  Settle();
  EXPECT_THAT(reconciled_, ElementsAre(DcKey("managed")));
}

TEST_F(EventGridReceiverTest, HttpErrorContract) {
  ServerResponse r = Send("GET", "");
  EXPECT_EQ(r.status, 405);
  EXPECT_THAT(r.headers, ::testing::Contains(
                             std::make_pair(std::string("Allow"), std::string("POST, OPTIONS"))));
  EXPECT_EQ(Send("POST", "", {{"code", kSecret}}, {}, "/eventgridx").status, 404);
  EXPECT_EQ(Send("POST", "", {{"code", kSecret}}, {}, "/metrics").status, 404);
  EXPECT_EQ(Send("POST", "{not json").status, 400);
  r = Send("POST", json::array({json{{"id", "1"}}}).dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("missing required field 'eventType'"));
  EXPECT_EQ(Count("other", kEgMalformed), 2);

  options_.max_body = 2048;
  MakeReceiver();
  json big = json::array();
  for (int i = 0; i < 20; ++i) {
    big.push_back(Event(std::to_string(i), Dc("managed"), "c"));
  }
  r = Send("POST", big.dump());
  EXPECT_EQ(r.status, 413);
  EXPECT_THAT(r.body, HasSubstr("--eventgrid-max-body"));
  EXPECT_EQ(Count("other", kEgTooLarge), 1);
  Settle();
  EXPECT_TRUE(reconciled_.empty());
}

TEST_F(EventGridReceiverTest, AnswersTheValidationHandshake) {
  json v = json::array({json{{"id", "v"},
                             {"topic", "/subscriptions/SUB"},
                             {"subject", ""},
                             {"eventType", "Microsoft.EventGrid.SubscriptionValidationEvent"},
                             {"eventTime", "2025-06-01T10:00:00Z"},
                             {"dataVersion", "1"},
                             {"data", {{"validationCode", "CODE-123"}}}}});
  ServerResponse r =
      Send("POST", v.dump(), {{"code", kSecret}}, {{"aeg-event-type", "SubscriptionValidation"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body), (json{{"validationResponse", "CODE-123"}}));
  EXPECT_EQ(Count("Microsoft.EventGrid.SubscriptionValidationEvent", kEgValidation), 1);
  // The handshake needs the secret too (it goes to the endpoint URL, ?code= included).
  EXPECT_EQ(Send("POST", v.dump(), {}, {{"aeg-event-type", "SubscriptionValidation"}}).status, 401);
}

TEST_F(EventGridReceiverTest, AnswersTheCloudEventsPreflight) {
  ServerResponse r =
      Send("OPTIONS", "", {{"code", kSecret}}, {{"WebHook-Request-Origin", "eventgrid.azure.net"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(FindHeader(r.headers, "WebHook-Allowed-Origin").value_or(""), "eventgrid.azure.net");
  EXPECT_EQ(FindHeader(r.headers, "WebHook-Allowed-Rate").value_or(""), "*");
  EXPECT_EQ(Send("OPTIONS", "").status, 400);  // not a preflight
  EXPECT_EQ(Count("other", kEgValidation), 1);
}

TEST_F(EventGridReceiverTest, CloudEventsSingleAndBatch) {
  json ce = {{"specversion", "1.0"},
             {"type", "Microsoft.Resources.ResourceDeleteSuccess"},
             {"source", "/subscriptions/SUB"},
             {"id", "ce-1"},
             {"subject", Dc("managed")},
             {"data", {{"resourceUri", Dc("managed")}, {"correlationId", "x"}}}};
  EXPECT_EQ(Send("POST", ce.dump(), {{"code", kSecret}},
                 {{"Content-Type", "application/cloudevents+json; charset=utf-8"}})
                .status,
            200);
  json ce2 = ce;
  ce2["id"] = "ce-2";
  ce2["subject"] = Dc("other");
  ce2["data"]["resourceUri"] = Dc("other");
  EXPECT_EQ(Send("POST", json::array({ce2}).dump(), {{"code", kSecret}},
                 {{"Content-Type", "application/cloudevents-batch+json"}})
                .status,
            200);
  Settle();
  EXPECT_THAT(reconciled_, ::testing::UnorderedElementsAre(DcKey("managed"), DcKey("other")));
  EXPECT_EQ(Count("Microsoft.Resources.ResourceDeleteSuccess", kEgEnqueued), 2);
}

TEST_F(EventGridReceiverTest, ManagedKeysAreEnqueuedCaseInsensitivelyOthersIgnored) {
  // Upper-cased segments and names, `resourcegroups` casing: still the managed key.
  std::string shouty = absl::StrCat(
      "/SUBSCRIPTIONS/sub/resourcegroups/RG-A/providers/microsoft.kusto/Clusters/ADX1/",
      "Databases/DB1/DataConnections/MANAGED");
  EXPECT_EQ(Post(json::array({Event("1", shouty, "c1"), Event("2", Dc("stranger"), "c2"),
                              Event("3",
                                    "/subscriptions/SUB/resourceGroups/rg-a/providers/"
                                    "Microsoft.Storage/storageAccounts/sa",
                                    "c3")}))
                .status,
            200);
  EXPECT_TRUE(reconciled_.empty());  // not before the coalescing window closes
  EXPECT_EQ(receiver_->PendingKeys(), 1);
  Settle();
  EXPECT_THAT(reconciled_, ElementsAre(DcKey("managed")));
  const std::string w = "Microsoft.Resources.ResourceWriteSuccess";
  EXPECT_EQ(Count(w, kEgEnqueued), 1);
  EXPECT_EQ(Count(w, kEgIgnored), 2);
}

TEST_F(EventGridReceiverTest, FailuresCancelsActionsAndForeignTypesAreIgnored) {
  json batch = json::array();
  int n = 0;
  for (const char* type :
       {"Microsoft.Resources.ResourceWriteFailure", "Microsoft.Resources.ResourceDeleteCancel",
        "Microsoft.Resources.ResourceActionSuccess", "Contoso.Items.ItemReceived"}) {
    batch.push_back(Event(std::to_string(++n), Dc("managed"), "c", type));
  }
  EXPECT_EQ(Post(batch).status, 200);
  Settle();
  EXPECT_TRUE(reconciled_.empty());
  EXPECT_EQ(Count("Microsoft.Resources.ResourceWriteFailure", kEgIgnored), 1);
  EXPECT_EQ(Count("other", kEgIgnored), 1);  // the foreign type is bounded to "other"
}

TEST_F(EventGridReceiverTest, OwnWritesCauseNothing) {
  own_.BeginWrite(DcKey("managed"));
  own_.EndWrite(DcKey("managed"), "ours");
  EXPECT_EQ(Post(json::array({Event("1", Dc("managed"), "ours")})).status, 200);
  Settle();
  EXPECT_TRUE(reconciled_.empty());
  EXPECT_EQ(Count("Microsoft.Resources.ResourceWriteSuccess", kEgOwnWrite), 1);
}

TEST_F(EventGridReceiverTest, AnEventThatOutrunsOurWriteWaitsForIt) {
  own_.BeginWrite(DcKey("managed"));
  EXPECT_EQ(Post(json::array({Event("1", Dc("managed"), "ours"),
                              Event("2", Dc("managed"), "someone-else")}))
                .status,
            200);
  Settle();
  EXPECT_TRUE(reconciled_.empty());
  own_.EndWrite(DcKey("managed"), "ours");
  Settle();
  EXPECT_THAT(reconciled_, ElementsAre(DcKey("managed")));  // for someone-else's change only
  EXPECT_EQ(Count("Microsoft.Resources.ResourceWriteSuccess", kEgOwnWrite), 1);
  EXPECT_EQ(Count("Microsoft.Resources.ResourceWriteSuccess", kEgEnqueued), 1);
}

TEST_F(EventGridReceiverTest, RedeliveriesAreDuplicates) {
  json e = json::array({Event("same-id", Dc("managed"), "c")});
  EXPECT_EQ(Post(e).status, 200);
  Settle();
  EXPECT_EQ(Post(e).status, 200);
  Settle();
  EXPECT_EQ(reconciled_.size(), 1u);
  EXPECT_EQ(Count("Microsoft.Resources.ResourceWriteSuccess", kEgDuplicate), 1);
}

TEST_F(EventGridReceiverTest, AStormOfAThousandEventsIsOneReconcile) {
  int id = 0;
  for (int request = 0; request < 50; ++request) {
    json batch = json::array();
    for (int i = 0; i < 20; ++i) {
      ++id;
      batch.push_back(Event(absl::StrCat("storm-", id), Dc("managed"), absl::StrCat("c-", id),
                            id % 2 ? "Microsoft.Resources.ResourceWriteSuccess"
                                   : "Microsoft.Resources.ResourceDeleteSuccess"));
    }
    ASSERT_EQ(Post(batch).status, 200);
    clock_.Advance(absl::Milliseconds(2));  // 100 ms for the whole storm
    receiver_->FireDue();
  }
  Settle();
  EXPECT_THAT(reconciled_, ElementsAre(DcKey("managed")));
  EXPECT_EQ(Count("Microsoft.Resources.ResourceWriteSuccess", kEgEnqueued) +
                Count("Microsoft.Resources.ResourceDeleteSuccess", kEgEnqueued),
            1000);
}

TEST_F(EventGridReceiverTest, DatabaseAndClusterEventsRelistOurDatabases) {
  json batch = json::array(
      {Event("1", kDb, "c", "Microsoft.Resources.ResourceDeleteSuccess"),
       Event("2", "/subscriptions/SUB/resourceGroups/RG-A/providers/Microsoft.Kusto/clusters/ADX1",
             "c"),
       Event("3", "/subscriptions/SUB/resourceGroups/rg-a/providers/Microsoft.Kusto/clusters/zzz",
             "c"),
       Event("4",
             "/subscriptions/SUB/resourceGroups/rg-a/providers/Microsoft.Kusto/clusters/adx1/"
             "databases/unmanaged",
             "c")});
  EXPECT_EQ(Post(batch).status, 200);
  Settle();
  EXPECT_TRUE(reconciled_.empty());
  EXPECT_THAT(relisted_, ::testing::UnorderedElementsAre(
                             kDbKey,
                             "/subscriptions/sub/resourcegroups/rg-a/providers/microsoft.kusto/"
                             "clusters/adx1"));
  EXPECT_EQ(Count("Microsoft.Resources.ResourceWriteSuccess", kEgRelisted), 1);
  EXPECT_EQ(Count("Microsoft.Resources.ResourceDeleteSuccess", kEgRelisted), 1);
  EXPECT_EQ(Count("Microsoft.Resources.ResourceWriteSuccess", kEgIgnored), 2);
}

TEST_F(EventGridReceiverTest, ServesOverLoopback) {
  options_.coalesce = absl::ZeroDuration();
  options_.coalesce_max = absl::ZeroDuration();
  MakeReceiver();
  ASSERT_TRUE(receiver_->Start().ok());
  ASSERT_GT(receiver_->port(), 0);
  std::unique_ptr<HttpTransport> http = NewHttpTransport(TransportOptions{});
  HttpRequest req;
  req.method = "POST";
  req.url = absl::StrCat("http://127.0.0.1:", receiver_->port(), "/eventgrid?code=", kSecret);
  req.headers = {{"Content-Type", "application/json"}};
  req.body = json::array({Event("1", Dc("managed"), "c")}).dump();
  absl::StatusOr<HttpResponse> resp = http->Send(req);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 200);
  EXPECT_THAT(reconciled_, ElementsAre(DcKey("managed")));
  req.url = absl::StrCat("http://127.0.0.1:", receiver_->port(), "/eventgrid?code=bad");
  resp = http->Send(req);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 401);
  receiver_->Stop();
}

TEST(EventGridOptionsTest, ProblemsAndParsers) {
  EventGridOptions o;
  EXPECT_TRUE(EventGridOptionProblems(o).empty());  // off
  o.bind_address = "127.0.0.1:9443";
  std::vector<std::string> p = EventGridOptionProblems(o);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_THAT(p[0], HasSubstr("--eventgrid-secret: required"));
  o.secret = "short";
  EXPECT_THAT(EventGridOptionProblems(o)[0], HasSubstr("too short"));
  o.secret = kSecret;
  EXPECT_TRUE(EventGridOptionProblems(o).empty());
  o.bind_address = "nonsense";
  o.max_body = 10;
  o.coalesce = absl::Seconds(5);
  EXPECT_EQ(EventGridOptionProblems(o).size(), 4u);  // address, body, coalesce, coalesce-max

  EXPECT_EQ(*ParseByteSize("--f", "1MiB"), size_t{1} << 20);
  EXPECT_EQ(*ParseByteSize("--f", "512KiB"), size_t{512} << 10);
  EXPECT_EQ(*ParseByteSize("--f", "4096"), 4096u);
  EXPECT_EQ(*ParseByteSize("--f", "2m"), size_t{2} << 20);
  for (const char* bad : {"", "MiB", "1.5MiB", "-1", "1GiB", "99999999999999999999"}) {
    absl::StatusOr<size_t> r = ParseByteSize("--eventgrid-max-body", bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("--eventgrid-max-body"));
  }

  EXPECT_TRUE(SecretsEqual("abc", "abc"));
  EXPECT_FALSE(SecretsEqual("abc", "abd"));
  EXPECT_FALSE(SecretsEqual("abc", "ab"));
  EXPECT_FALSE(SecretsEqual("abc", "abcabc"));
  EXPECT_FALSE(SecretsEqual("abc", ""));
  EXPECT_FALSE(SecretsEqual("", ""));
  EXPECT_EQ(EventTypeLabel("microsoft.resources.resourcewritesuccess"),
            "Microsoft.Resources.ResourceWriteSuccess");
  EXPECT_EQ(EventTypeLabel("x"), "other");
}

}  // namespace
}  // namespace kustodian
