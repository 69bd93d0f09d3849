// Shared fixtures for the ARM client tests: a client wired to a ScriptedTransport, a FakeClock,
// a static token and a Logger whose lines are captured, plus ids and bodies for scripts.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "src/arm/arm_client_impl.h"
#include "src/arm/token_sources.h"
#include "src/core/arm_id.h"
#include "src/core/logging.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/scripted_transport.h"

namespace kustodian::testing_arm {

inline constexpr char kToken[] = "eyJ0eXAiOiJKV1QiLCJhbGciOi.SECRET-TOKEN-VALUE.sig";
inline constexpr char kSub[] = "00000000-0000-0000-0000-000000000001";
inline constexpr char kEndpoint[] = "https://management.azure.com";
inline constexpr char kApi[] = "2024-04-13";
inline constexpr char kApi2025[] = "2025-02-14";

inline DataConnectionId TestId(const std::string& name = "dc-orders") {
  DataConnectionId id;
  id.subscription_id = kSub;
  id.resource_group = "rg-a";
  id.cluster = "adx1";
  id.database = "db1";
  id.name = name;
  return id;
}

inline std::string ResourceUrl(const DataConnectionId& id, const std::string& api = kApi) {
  return absl::StrCat(kEndpoint, id.RequestPath(), "?api-version=", api);
}

inline std::string OperationUrl(const std::string& op_id,
                                const std::string& location = "westeurope") {
  return absl::StrCat(kEndpoint, "/subscriptions/", kSub, "/providers/Microsoft.Kusto/locations/",
                      location, "/operationResults/", op_id, "?api-version=", kApi);
}

// A data connection as ARM returns it.
inline nlohmann::json ConnectionJson(const DataConnectionId& id,
                                     const std::string& state = "Succeeded",
                                     const std::string& kind = "EventHub") {
  nlohmann::json properties = {
      {"eventHubResourceId",
       "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-a/providers/"
       "Microsoft.EventHub/namespaces/ns1/eventhubs/orders"},
      {"consumerGroup", "adx"},
      {"tableName", "Orders"},
      {"compression", "None"}};
  if (!state.empty()) {
    properties["provisioningState"] = state;
  }
  return {{"id", id.ResponseId()},
          {"name", id.ArmName()},
          {"type", "Microsoft.Kusto/Clusters/Databases/DataConnections"},
          {"location", "West Europe"},
          {"kind", kind},
          {"properties", properties}};
}

inline DataConnectionSpec TestSpec(ConnectionKind kind = ConnectionKind::kEventHub,
                                   const std::string& name = "dc-orders") {
  DataConnectionSpec spec;
  spec.id = TestId(name);
  spec.location = "westeurope";
  spec.kind = kind;
  spec.properties = {{"eventHubResourceId",
                      "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-a/"
                      "providers/Microsoft.EventHub/namespaces/ns1/eventhubs/orders"},
                     {"consumerGroup", "adx"},
                     {"tableName", "Orders"}};
  return spec;
}

inline nlohmann::json ArmError(const std::string& code, const std::string& message) {
  return {{"error", {{"code", code}, {"message", message}}}};
}

inline std::string Header(const HttpRequest& request, std::string_view name) {
  return FindHeader(request.headers, name).value_or("<absent>");
}

// application/x-www-form-urlencoded body -> decoded fields.
inline std::map<std::string, std::string> FormFields(const std::string& body) {
  std::map<std::string, std::string> out;
  for (absl::string_view pair : absl::StrSplit(body, '&')) {
    std::vector<std::string> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
    out[PercentDecode(kv[0])] = kv.size() > 1 ? PercentDecode(kv[1]) : "";
  }
  return out;
}

// True for a lower-case RFC 4122 GUID.
inline bool IsGuid(const std::string& s) {
  if (s.size() != 36) {
    return false;
  }
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    char c = s[i];
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

class ArmClientTest : public ::testing::Test {
 protected:
  ArmClientTest()
      : tokens_(kToken, clock_),
        logger_(LogLevel::kDebug, LogFormat::kText, clock_, [this](std::string_view line) {
          std::lock_guard<std::mutex> lock(mu_);
          log_lines_.emplace_back(line);
        }) {}

  // Default options with no jitter, so waits are exact on the FakeClock.
  static ArmClientOptions TestOptions() {
    ArmClientOptions options;
    options.retry.jitter = 0;
    return options;
  }

  ArmClientImpl& Client(ArmClientOptions options = TestOptions(), TokenSource* tokens = nullptr) {
    ArmClientHooks hooks;
    hooks.on_request = [this](const std::string& method, int code, absl::Duration) {
      std::lock_guard<std::mutex> lock(mu_);
      requests_seen_.push_back(absl::StrCat(method, " ", code));
    };
    hooks.on_throttled = [this] {
      std::lock_guard<std::mutex> lock(mu_);
      ++throttled_;
    };
    client_ = std::make_unique<ArmClientImpl>(std::move(options), transport_,
                                              tokens != nullptr ? *tokens : tokens_, clock_,
                                              logger_, std::move(hooks));
    return *client_;
  }

  std::vector<std::string> LogLines() {
    std::lock_guard<std::mutex> lock(mu_);
    return log_lines_;
  }

  FakeClock clock_;
  ScriptedTransport transport_;
  StaticTokenSource tokens_;
  std::mutex mu_;
  std::vector<std::string> log_lines_;
  std::vector<std::string> requests_seen_;  // "METHOD code" per hook call
  int throttled_ = 0;
  Logger logger_;
  std::unique_ptr<ArmClientImpl> client_;
};

}  // namespace kustodian::testing_arm
