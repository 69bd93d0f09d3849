// Small pieces: routing, timestamps, ids, HTTP helpers, the request log.
#include "src/emulator/ids.h"
#include "src/emulator/request_log.h"
#include "src/emulator/routing.h"
#include "src/emulator/time_format.h"
#include "tests/emulator/emulator_test_util.h"

namespace kustodian::emulator::testing {
namespace {

TEST(RoutingTest, ParsesEveryRouteInEitherCasing) {
  Route r = ParseRoute(std::string(kDc));
  EXPECT_EQ(r.kind, RouteKind::kConnection);
  EXPECT_EQ(r.subscription, kSub);
  EXPECT_EQ(r.resource_group, "testrg");
  EXPECT_EQ(r.cluster, "mykustocluster");
  EXPECT_EQ(r.database, "mydb");
  EXPECT_EQ(r.name, "dc1");
  r = ParseRoute(
      "/SUBSCRIPTIONS/s/resourcegroups/g/Providers/microsoft.kusto/Clusters/c/Databases/d/"
      "DataConnections/n/");
  EXPECT_EQ(r.kind, RouteKind::kConnection);
  EXPECT_EQ(r.name, "n");
  EXPECT_EQ(ParseRoute(std::string(kDb) + "/DataConnections").kind, RouteKind::kConnectionList);
  EXPECT_EQ(ParseRoute(std::string(kDb) + "/dataConnectionValidation").kind,
            RouteKind::kValidation);
  EXPECT_EQ(ParseRoute(std::string(kDb) + "/checkNameAvailability").kind, RouteKind::kCheckName);
  r = ParseRoute(
      "/subscriptions/s/providers/Microsoft.Kusto/locations/East%20US%202/"
      "operationresults/op1");
  EXPECT_EQ(r.kind, RouteKind::kOperationResult);
  EXPECT_EQ(r.location, "East US 2");
  EXPECT_EQ(r.operation_id, "op1");
  r = ParseRoute("/tenant-1/oauth2/v2.0/token");
  EXPECT_EQ(r.kind, RouteKind::kToken);
  EXPECT_EQ(r.tenant, "tenant-1");
  EXPECT_EQ(ParseRoute("/metadata/identity/oauth2/token").kind, RouteKind::kImds);
  r = ParseRoute("/_admin/stats");
  EXPECT_EQ(r.kind, RouteKind::kAdmin);
  EXPECT_EQ(r.admin_path, "/stats");
  EXPECT_EQ(ParseRoute(std::string(kDb)).kind, RouteKind::kUnknown);
  EXPECT_EQ(ParseRoute("/_adminx").kind, RouteKind::kUnknown);
}

TEST(RoutingTest, Templates) {
  EXPECT_EQ(RouteTemplate(ParseRoute(std::string(kDc)), "PUT", false), "PUT dataConnection");
  EXPECT_EQ(RouteTemplate(ParseRoute(std::string(kDb) + "/dataConnections"), "GET", false),
            "GET list");
  Route op = ParseRoute(
      "/subscriptions/s/providers/Microsoft.Kusto/locations/l/"
      "operationResults/x");
  EXPECT_EQ(RouteTemplate(op, "GET", false), "GET operationResult");
  EXPECT_EQ(RouteTemplate(op, "GET", true), "GET operationResultLocation");
}

TEST(TimeFormatTest, SevenDigitsTrimmedAndPaddedYears) {
  EXPECT_EQ(FormatArmTime(absl::FromUnixSeconds(0)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatArmTime(absl::FromUnixSeconds(0) + absl::Milliseconds(500)),
            "1970-01-01T00:00:00.5Z");
  EXPECT_EQ(FormatArmTime(absl::FromUnixSeconds(0) + absl::Nanoseconds(123456789)),
            "1970-01-01T00:00:00.1234567Z");
  std::optional<absl::Time> t = ParseArmTime("0001-01-01T00:00:00.0000000Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(FormatArmTime(*t), "0001-01-01T00:00:00Z");
  t = ParseArmTime("2022-07-29T14:00:00.6554616+02:00");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(FormatArmTime(*t), "2022-07-29T12:00:00.6554616Z");
  EXPECT_FALSE(ParseArmTime("yesterday").has_value());
  EXPECT_FALSE(ParseArmTime("2022-07-29").has_value());
}

TEST(IdsTest, GuidsAreSeededAndWellFormed) {
  RandomSource a(5);
  RandomSource b(5);
  std::string g = a.NewGuid();
  EXPECT_EQ(g, b.NewGuid());
  EXPECT_EQ(g.size(), 36u);
  EXPECT_EQ(g[14], '4');
  EXPECT_NE(a.NewGuid(), g);
  EXPECT_EQ(StableGuid("Key"), StableGuid("KEY"));
  EXPECT_NE(StableGuid("a"), StableGuid("b"));
}

TEST(HttpUtilTest, FormBase64AndLoopback) {
  std::map<std::string, std::string> form = ParseForm("a=1&b=x+y%2Fz&c=&a=2");
  EXPECT_EQ(form["a"], "1");
  EXPECT_EQ(form["b"], "x y/z");
  EXPECT_EQ(form["c"], "");
  EXPECT_EQ(Base64UrlEncode("hi?"), "aGk_");
  EXPECT_EQ(Base64Decode("aGk_"), "hi?");
  EXPECT_EQ(Base64Decode("aGk/"), "hi?");
  EXPECT_FALSE(Base64Decode("a*b").has_value());
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackAddress("::1"));
  EXPECT_FALSE(IsLoopbackAddress("192.168.0.1"));
  EXPECT_EQ(HttpDate(absl::FromUnixSeconds(0)), "Thu, 01 Jan 1970 00:00:00 GMT");
}

TEST(HttpUtilTest, QueryFallsBackToRawTarget) {
  ServerRequest request;
  request.raw_target = "/x?api-version=2024-04-13&operationResultResponseType=Location";
  EXPECT_EQ(GetQuery(request, "api-version"), "2024-04-13");
  EXPECT_EQ(GetQuery(request, "operationResultResponseType"), "Location");
  EXPECT_FALSE(GetQuery(request, "missing").has_value());
}

TEST(RequestLogTest, CapacityAndSince) {
  RequestLog log(2);
  for (int i = 0; i < 3; ++i) {
    RequestRecord r;
    r.method = "GET";
    r.route = "GET list";
    r.status = 200;
    log.Add(r);
  }
  OrderedJson all = log.RequestsSince(0);
  ASSERT_EQ(all["requests"].size(), 2u);  // the oldest fell off
  EXPECT_EQ(all["requests"][0]["seq"], 2);
  EXPECT_EQ(all["lastSeq"], 3);
  EXPECT_EQ(log.Stats()["total"], 3);
  log.ResetStats();
  EXPECT_EQ(log.Stats()["total"], 0);
  EXPECT_EQ(log.RequestsSince(0)["requests"].size(), 2u);
}

}  // namespace
}  // namespace kustodian::emulator::testing
