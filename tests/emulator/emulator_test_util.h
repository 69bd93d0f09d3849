// Shared helpers for the emulator tests: a standard world, an Emulator on a FakeClock, and
// request/response shortcuts (Handle is called directly, no network).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "src/core/arm_id.h"
#include "src/emulator/emulator.h"
#include "src/emulator/http_util.h"
#include "src/emulator/world.h"
#include "tests/fakes/fake_clock.h"

namespace kustodian::emulator::testing {

inline constexpr const char* kSub = "00000000-0000-0000-0000-000000000001";
inline constexpr const char* kDb =
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/testrg/providers/"
    "Microsoft.Kusto/clusters/mykustocluster/databases/mydb";
inline constexpr const char* kDc =
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/testrg/providers/"
    "Microsoft.Kusto/clusters/mykustocluster/databases/mydb/dataConnections/dc1";
inline constexpr const char* kApi = "?api-version=2024-04-13";
inline constexpr const char* kApi25 = "?api-version=2025-02-14";
inline constexpr const char* kTenant = "10000000-0000-0000-0000-000000000001";
inline constexpr const char* kClientId = "11111111-1111-1111-1111-111111111111";
inline constexpr const char* kSecret = "s3cret";
inline constexpr const char* kEventHubId =
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/testrg/providers/"
    "Microsoft.EventHub/namespaces/ns1/eventhubs/orders";

inline constexpr const char* kWorldYaml = R"(
subscriptions:
  - id: 00000000-0000-0000-0000-000000000001
    resourceGroups:
      - name: testrg
        clusters:
          - name: mykustocluster
            location: East US 2
            databases:
              - name: mydb
              - name: db2
          - name: weucluster
            location: westeurope
            databases:
              - name: weudb
principals:
  - clientId: 11111111-1111-1111-1111-111111111111
    clientSecret: s3cret
    tenantId: 10000000-0000-0000-0000-000000000001
    objectId: 21111111-1111-1111-1111-111111111111
  - clientId: 33333333-3333-3333-3333-333333333333
    tenantId: 10000000-0000-0000-0000-000000000001
    federated: true
  - clientId: 55555555-5555-5555-5555-555555555555
    objectId: 65555555-5555-5555-5555-555555555555
    managedIdentity: true
)";

// Options for tests: auth via the dev token, throttling on, 10 s operations.
inline EmulatorOptions TestOptions() {
  EmulatorOptions options;
  options.dev_token = "devtok";
  options.lro_duration = absl::Seconds(10);
  options.public_base_url = "https://management.azure.com";
  return options;
}

// A request for `target` ("path?query"), with the dev token unless `auth` is false.
inline ServerRequest MakeRequest(std::string method, const std::string& target,
                                 std::string body = "", bool auth = true) {
  ServerRequest request;
  request.method = std::move(method);
  request.raw_target = target;
  size_t q = target.find('?');
  request.path = target.substr(0, q);
  if (q != std::string::npos) {
    for (auto& [k, v] : ParseForm(target.substr(q + 1))) {
      request.query.emplace(k, v);
    }
  }
  request.body = std::move(body);
  request.remote_addr = "127.0.0.1";
  request.headers.emplace_back("Host", "management.azure.com");
  if (auth) {
    request.headers.emplace_back("Authorization", "Bearer devtok");
  }
  if (!request.body.empty()) {
    request.headers.emplace_back("Content-Type", "application/json");
  }
  return request;
}

inline nlohmann::json BodyJson(const ServerResponse& response) {
  return response.body.empty() ? nlohmann::json() : nlohmann::json::parse(response.body);
}

inline std::optional<std::string> Hdr(const ServerResponse& response, std::string_view name) {
  return GetHeader(response.headers, name);
}

inline std::string ErrorCode(const ServerResponse& response) {
  nlohmann::json body = BodyJson(response);
  return body.is_object() && body.contains("error") ? body["error"].value("code", "") : "";
}

// {"location":..., "kind":"EventHub", "properties":{eventHubResourceId, consumerGroup} + extra}.
inline std::string EventHubBody(const std::string& location = "eastus2",
                                const nlohmann::json& extra = nlohmann::json::object()) {
  nlohmann::json body = {
      {"location", location},
      {"kind", "EventHub"},
      {"properties", {{"eventHubResourceId", kEventHubId}, {"consumerGroup", "$Default"}}}};
  body["properties"].update(extra);
  return body.dump();
}

// The path part of an absolute URL, with literal spaces encoded (what a client must do).
inline std::string UrlTarget(const std::string& url) {
  std::string target = url.substr(url.find('/', url.find("//") + 2));
  std::string out;
  for (char c : target) {
    if (c == ' ') {
      out += "%20";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// A target with %20 decoded in the path (what HttpServer hands the handler).
inline ServerRequest PollRequest(const std::string& url) {
  std::string target = UrlTarget(url);
  ServerRequest request = MakeRequest("GET", target);
  request.path = PercentDecode(request.path);
  return request;
}

class EmulatorTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(TestOptions()); }

  void Start(EmulatorOptions options) {
    emulator_ = std::make_unique<Emulator>(std::move(options), clock_);
    absl::StatusOr<World> world = ParseWorld(kWorldYaml, "test-world.yaml");
    ASSERT_TRUE(world.ok()) << world.status();
    ASSERT_TRUE(emulator_->LoadWorld(*world).ok());
  }

  ServerResponse Call(const std::string& method, const std::string& target,
                      const std::string& body = "") {
    return emulator_->Handle(MakeRequest(method, target, body));
  }
  ServerResponse Call(const ServerRequest& request) { return emulator_->Handle(request); }

  // PUTs an EventHub connection `name` in mydb and lets its operation finish.
  void CreateConnection(const std::string& name = "dc1",
                        const nlohmann::json& extra = nlohmann::json::object()) {
    ServerResponse r = Call("PUT", std::string(kDb) + "/dataConnections/" + name + kApi,
                            EventHubBody("eastus2", extra));
    ASSERT_EQ(r.status, 201) << r.body;
    clock_.Advance(absl::Seconds(11));
  }

  FakeClock clock_;
  std::unique_ptr<Emulator> emulator_;
};

}  // namespace kustodian::emulator::testing
