// Fault injection: spec parsing, the injector's probability / next-N / filters, and the
// responses the emulator produces for each fault kind (flag-time and run-time rules).
#include "src/emulator/faults.h"

#include "tests/emulator/emulator_test_util.h"

namespace kustodian::emulator::testing {
namespace {

TEST(FaultSpecTest, ParsesProbabilityCountArgumentAndFilters) {
  absl::StatusOr<FaultRule> r = ParseFaultSpec("503:0.25");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kind, FaultKind::k503);
  EXPECT_DOUBLE_EQ(r->probability, 0.25);
  EXPECT_EQ(r->count, 0);

  r = ParseFaultSpec("429=5:x3:put:/dataConnections/");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kind, FaultKind::k429);
  EXPECT_EQ(r->retry_after_seconds, 5);
  EXPECT_EQ(r->count, 3);
  EXPECT_EQ(r->method, "PUT");
  EXPECT_EQ(r->path_contains, "/dataConnections/");

  r = ParseFaultSpec("latency=250:1:*");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->latency, absl::Milliseconds(250));
  EXPECT_TRUE(r->method.empty());

  EXPECT_TRUE(ParseFaultSpec("429-no-retry-after:1").ok());
  EXPECT_TRUE(ParseFaultSpec("drop:x1").ok());
  EXPECT_TRUE(ParseFaultSpec("lro-fail:x1:DELETE").ok());
}

TEST(FaultSpecTest, RejectsBadSpecs) {
  for (const char* bad :
       {"503", "418:1", "503:1.5", "503:x0", "latency:1", "500=3:1", "429=abc:1", "503:maybe"}) {
    EXPECT_FALSE(ParseFaultSpec(bad).ok()) << bad;
  }
}

TEST(FaultSpecTest, JsonFormsAndRoundTrip) {
  absl::StatusOr<std::vector<FaultRule>> rules = FaultRulesFromJson(nlohmann::json::parse(
      R"([{"spec":"504:x2"},{"kind":"latency","latencyMs":40,"method":"get","path":"/x"},
          {"kind":429,"count":1,"retryAfter":3}])"));
  ASSERT_TRUE(rules.ok()) << rules.status();
  ASSERT_EQ(rules->size(), 3u);
  EXPECT_EQ((*rules)[0].kind, FaultKind::k504);
  EXPECT_EQ((*rules)[1].latency, absl::Milliseconds(40));
  EXPECT_EQ((*rules)[1].method, "GET");
  EXPECT_EQ((*rules)[2].retry_after_seconds, 3);
  nlohmann::json out = FaultRuleToJson((*rules)[2]);
  EXPECT_EQ(out["kind"], "429");
  EXPECT_EQ(out["retryAfter"], 3);
  EXPECT_FALSE(FaultRulesFromJson(nlohmann::json::parse(R"({"kind":"teapot"})")).ok());
  EXPECT_FALSE(FaultRulesFromJson(nlohmann::json::parse(R"({"kind":"500","probability":2})")).ok());
}

TEST(FaultInjectorTest, NextNFiresExactlyNTimesThenExpires) {
  FaultInjector injector;
  RandomSource rng(1);
  injector.Add(*ParseFaultSpec("500:x2"));
  EXPECT_TRUE(injector.Decide("GET", "/a", rng).error.has_value());
  EXPECT_TRUE(injector.Decide("GET", "/a", rng).error.has_value());
  EXPECT_FALSE(injector.Decide("GET", "/a", rng).error.has_value());
  EXPECT_TRUE(injector.Rules().empty());
}

TEST(FaultInjectorTest, ProbabilityZeroNeverOneAlwaysAndSeededInBetween) {
  FaultInjector never;
  FaultInjector always;
  RandomSource rng(7);
  never.Add(*ParseFaultSpec("503:0"));
  always.Add(*ParseFaultSpec("503:1"));
  for (int i = 0; i < 20; ++i) {
    EXPECT_FALSE(never.Decide("GET", "/", rng).error.has_value());
    EXPECT_TRUE(always.Decide("GET", "/", rng).error.has_value());
  }
  // Same seed, same outcomes; roughly the asked rate.
  auto run = [] {
    FaultInjector half;
    RandomSource seeded(42);
    half.Add(*ParseFaultSpec("503:0.5"));
    std::string pattern;
    for (int i = 0; i < 200; ++i) {
      pattern.push_back(half.Decide("GET", "/", seeded).error.has_value() ? '1' : '0');
    }
    return pattern;
  };
  std::string a = run();
  EXPECT_EQ(a, run());
  size_t ones = std::count(a.begin(), a.end(), '1');
  EXPECT_GT(ones, 60u);
  EXPECT_LT(ones, 140u);
}

TEST(FaultInjectorTest, MethodAndPathFiltersAndCountOnlyMatching) {
  FaultInjector injector;
  RandomSource rng(1);
  injector.Add(*ParseFaultSpec("504:x1:PUT:dataconnections/dc1"));
  EXPECT_FALSE(injector.Decide("GET", "/x/dataConnections/dc1", rng).error.has_value());
  EXPECT_FALSE(injector.Decide("PUT", "/x/dataConnections/dc2", rng).error.has_value());
  EXPECT_TRUE(injector.Decide("PUT", "/x/dataConnections/dc1", rng).error.has_value());
}

TEST(FaultInjectorTest, LatencyAddsUpAndCombinesWithOneError) {
  FaultInjector injector;
  RandomSource rng(1);
  injector.Add(*ParseFaultSpec("latency=100:1"));
  injector.Add(*ParseFaultSpec("latency=50:1"));
  injector.Add(*ParseFaultSpec("500:x1"));
  injector.Add(*ParseFaultSpec("503:x1"));
  FaultDecision d = injector.Decide("GET", "/", rng);
  EXPECT_EQ(d.latency, absl::Milliseconds(150));
  ASSERT_TRUE(d.error.has_value());
  EXPECT_EQ(d.error->kind, FaultKind::k500);
  // The 503 kept its budget for the next call.
  EXPECT_EQ(injector.Decide("GET", "/", rng).error->kind, FaultKind::k503);
}

using FaultEmulatorTest = EmulatorTest;

TEST_F(FaultEmulatorTest, FlagFaultWithProbabilityOneAlwaysFires) {
  EmulatorOptions options = TestOptions();
  options.faults.push_back(*ParseFaultSpec("500:1:GET"));
  Start(options);
  for (int i = 0; i < 3; ++i) {
    ServerResponse r = Call("GET", std::string(kDc) + kApi);
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(ErrorCode(r), "InternalServerError");
    EXPECT_TRUE(Hdr(r, "x-ms-request-id").has_value());
  }
  EXPECT_EQ(Call("DELETE", std::string(kDc) + kApi).status, 204);
}

TEST_F(FaultEmulatorTest, NextNCallsThenNormal) {
  emulator_->AddFault(*ParseFaultSpec("503:x2"));
  EXPECT_EQ(Call("GET", std::string(kDc) + kApi).status, 503);
  EXPECT_EQ(Call("GET", std::string(kDc) + kApi).status, 503);
  EXPECT_EQ(Call("GET", std::string(kDc) + kApi).status, 404);
}

TEST_F(FaultEmulatorTest, Injected429WithAndWithoutRetryAfter) {
  emulator_->AddFault(*ParseFaultSpec("429=4:x1"));
  ServerResponse with = Call("GET", std::string(kDc) + kApi);
  EXPECT_EQ(with.status, 429);
  EXPECT_EQ(Hdr(with, "Retry-After"), "4");
  emulator_->AddFault(*ParseFaultSpec("429-no-retry-after:x1"));
  ServerResponse without = Call("GET", std::string(kDc) + kApi);
  EXPECT_EQ(without.status, 429);
  EXPECT_FALSE(Hdr(without, "Retry-After").has_value());
}

TEST_F(FaultEmulatorTest, GatewayTimeoutAndDrop) {
  emulator_->AddFault(*ParseFaultSpec("504:x1"));
  ServerResponse timeout = Call("GET", std::string(kDc) + kApi);
  EXPECT_EQ(timeout.status, 504);
  EXPECT_EQ(ErrorCode(timeout), "GatewayTimeout");
  emulator_->AddFault(*ParseFaultSpec("drop:x1:PUT"));
  ServerResponse dropped = Call("PUT", std::string(kDc) + kApi, EventHubBody());
  EXPECT_TRUE(dropped.drop_connection);
  // A dropped request did not reach the RP: nothing was created.
  EXPECT_EQ(Call("GET", std::string(kDc) + kApi).status, 404);
}

TEST_F(FaultEmulatorTest, LatencySleepsOnTheClock) {
  emulator_->AddFault(*ParseFaultSpec("latency=1500:x1"));
  absl::Time before = clock_.Now();
  EXPECT_EQ(Call("GET", std::string(kDc) + kApi).status, 404);
  EXPECT_EQ(clock_.Now() - before, absl::Milliseconds(1500));
}

TEST_F(FaultEmulatorTest, StatsCountInjectedFaults) {
  emulator_->AddFault(*ParseFaultSpec("503:x2"));
  Call("GET", std::string(kDc) + kApi);
  Call("GET", std::string(kDc) + kApi);
  nlohmann::json stats = BodyJson(Call(MakeRequest("GET", "/_admin/stats", "", false)));
  EXPECT_EQ(stats["faultsInjected"]["503"], 2);
  EXPECT_EQ(stats["faultsTotal"], 2);
}

}  // namespace
}  // namespace kustodian::emulator::testing
