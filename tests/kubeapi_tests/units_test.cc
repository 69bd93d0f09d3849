// Unit tests of the pieces: CEL subset, JSONPath, human durations, schema validation messages.
#include "gtest/gtest.h"
#include "tests/kubeapi/cel.h"
#include "tests/kubeapi/json_path.h"
#include "tests/kubeapi/k8s_time.h"
#include "tests/kubeapi/schema.h"
#include "tests/kubeapi_tests/test_util.h"

namespace kustodian::kubeapi::testing {
namespace {

json CelEval(const std::string& expr, const json& self, const json* old = nullptr) {
  auto p = cel::Program::Compile(expr);
  EXPECT_TRUE(p.ok()) << expr << ": " << p.status();
  auto v = p->Eval(self, old);
  return v.ok() ? *v : json("error: " + std::string(v.status().message()));
}

TEST(CelTest, Subset) {
  json self = {{"kind", "EventHub"}, {"a", {{"b", 3}}}, {"list", {1, 2, 3}}, {"s", "abc"}};
  EXPECT_EQ(CelEval("has(self.a.b) && self.a.b == 3", self), true);
  EXPECT_EQ(CelEval("has(self.missing)", self), false);
  EXPECT_EQ(CelEval("self.kind in ['EventHub', 'IotHub'] && !(self.kind == 'x')", self), true);
  EXPECT_EQ(CelEval("size(self.list) == 3 && self.s.size() == 3", self), true);
  EXPECT_EQ(CelEval("self.list.all(x, x > 0) && self.list.exists(x, x == 2)", self), true);
  EXPECT_EQ(CelEval("self.s.startsWith('ab') ? 1 : 2", self), 1);
  EXPECT_EQ(CelEval("self.kind != 'EventHub' || self.a.b + 1 == 4", self), true);
  EXPECT_EQ(CelEval("self.missing == 1", self), "error: no such key: missing");
  EXPECT_EQ(CelEval("true || self.missing == 1", self), true) << "short circuit absorbs errors";
  json old = {{"kind", "IotHub"}};
  EXPECT_EQ(CelEval("self.kind == oldSelf.kind", self, &old), false);
  EXPECT_TRUE(cel::Program::Compile("self.x == oldSelf.x")->UsesOldSelf());
  EXPECT_FALSE(cel::Program::Compile("self.x.quantity()").ok());
  EXPECT_FALSE(cel::Program::Compile("self.x ==").ok());
}

TEST(JsonPathTest, FilterAndFields) {
  json obj = {
      {"status",
       {{"conditions",
         {{{"type", "Stalled"}, {"status", "False"}}, {{"type", "Ready"}, {"status", "True"}}}}}}};
  auto p = JsonPath::Parse(R"(.status.conditions[?(@.type=="Ready")].status)");
  ASSERT_TRUE(p.ok());
  auto found = p->Find(obj);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0], "True");
  EXPECT_EQ(JsonPath::Parse(".status.conditions[0].type")->Find(obj)[0], "Stalled");
  EXPECT_TRUE(JsonPath::Parse(".spec.kind")->Find(obj).empty());
  EXPECT_FALSE(JsonPath::Parse(".a..b").ok());
}

TEST(HumanDurationTest, LikeKubectl) {
  EXPECT_EQ(HumanDuration(absl::Seconds(5)), "5s");
  EXPECT_EQ(HumanDuration(absl::Seconds(119)), "119s");
  EXPECT_EQ(HumanDuration(absl::Seconds(200)), "3m20s");
  EXPECT_EQ(HumanDuration(absl::Minutes(3)), "3m");
  EXPECT_EQ(HumanDuration(absl::Minutes(45)), "45m");
  EXPECT_EQ(HumanDuration(absl::Hours(5) + absl::Minutes(10)), "5h10m");
  EXPECT_EQ(HumanDuration(absl::Hours(50)), "2d2h");
}

class ValidationTest : public ApiServerTest {};

TEST_F(ValidationTest, SchemaErrorsReadLikeTheRealServer) {
  Resp r = Post(kDcs, Dc("a", "Foo"));
  ASSERT_EQ(r.status, 422) << r.body;
  json s = r.Json();
  EXPECT_EQ(s["reason"], "Invalid");
  EXPECT_EQ(s["message"],
            "DataConnection.kustodian.io \"a\" is invalid: spec.kind: Unsupported value: \"Foo\": "
            "supported values: \"EventHub\", \"EventHubWithManagedIdentity\", \"EventGrid\", "
            "\"IotHub\", \"CosmosDb\"");
  EXPECT_EQ(s["details"]["causes"][0]["field"], "spec.kind");
  EXPECT_EQ(s["details"]["causes"][0]["reason"], "FieldValueNotSupported");
  EXPECT_EQ(s["details"]["kind"], "DataConnection");
  EXPECT_EQ(s["details"]["group"], "kustodian.io");

  Resp many = Post(
      kDcs,
      absl::StrCat(
          R"({"metadata":{"name":"b"},"spec":{"target":{"subscriptionId":"nope","resourceGroup":"rg",)",
          R"("cluster":"c","database":"db"},"kind":"IotHub","properties":{},"policy":{"maxRetries":500}}})"));
  ASSERT_EQ(many.status, 422);
  std::string msg = many.Json()["message"];
  EXPECT_NE(msg.find("is invalid: ["), std::string::npos) << msg;
  EXPECT_NE(
      msg.find("spec.target.subscriptionId: Invalid value: \"nope\": spec.target.subscriptionId "
               "in body should match"),
      std::string::npos)
      << msg;
  EXPECT_NE(msg.find("spec.target.cluster: Invalid value: \"c\": spec.target.cluster in body "
                     "should be at least 4 chars long"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("spec.policy.maxRetries: Invalid value: 500: spec.policy.maxRetries in body "
                     "should be less than or equal to 100"),
            std::string::npos)
      << msg;

  Resp required = Post(kDcs, R"({"metadata":{"name":"c"},"spec":{"kind":"IotHub"}})");
  EXPECT_NE(required.Json()["message"].get<std::string>().find("spec.target: Required value"),
            std::string::npos);
}

TEST_F(ValidationTest, CelRulesAndTransitionRules) {
  std::string no_id = Dc("a");
  no_id.replace(no_id.find("\"eventHubResourceId\":\"/x\","), 26, "");
  Resp r = Post(kDcs, no_id);
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.Json()["details"]["causes"][0]["message"],
            "Invalid value: \"object\": kind EventHub needs properties.eventHubResourceId");
  EXPECT_EQ(r.Json()["details"]["causes"][0]["field"], "spec");
  ASSERT_EQ(Post(kDcs, Dc("a")).status, 201);
  Resp moved = Patch(std::string(kDcs) + "/a", R"({"spec":{"target":{"cluster":"othercluster"}}})");
  EXPECT_EQ(moved.status, 422);
  EXPECT_NE(moved.Json()["message"].get<std::string>().find("target.cluster is immutable"),
            std::string::npos);
}

TEST_F(ValidationTest, UnknownFieldsArePrunedOrRefusedWhenStrict) {
  std::string extra = Dc("a", "EventHub", R"(,"bogus":1)");
  Resp pruned = Post(kDcs, extra);
  ASSERT_EQ(pruned.status, 201);
  EXPECT_FALSE(pruned.Json()["spec"].contains("bogus"));
  EXPECT_NE(pruned.headers["warning"].find("unknown field \\\"spec.bogus\\\""), std::string::npos)
      << pruned.headers["warning"];
  EXPECT_TRUE(pruned.Json()["spec"]["properties"].contains("consumerGroup"))
      << "preserve-unknown-fields keeps properties";
  Resp strict =
      Post(std::string(kDcs) + "?fieldValidation=Strict", Dc("b", "EventHub", R"(,"bogus":1)"));
  EXPECT_EQ(strict.status, 400);
  EXPECT_NE(strict.Json()["message"].get<std::string>().find("unknown field \"spec.bogus\""),
            std::string::npos);
}

TEST(SchemaCompileTest, UnsupportedCelIsAStartupError) {
  json crd = {{"type", "object"},
              {"x-kubernetes-validations", {{{"rule", "self.quantity().isGreaterThan(1)"}}}}};
  auto s = Schema::Compile(crd);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("outside the CEL subset"), std::string::npos);
}

}  // namespace
}  // namespace kustodian::kubeapi::testing
