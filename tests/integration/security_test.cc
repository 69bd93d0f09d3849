// Security promises (docs/security.md), checked on a full scenario with the real daemon and
// emulator: the client secret, the bearer tokens and Authorization headers appear in no log
// line, status document, status file or metric; TLS verification cannot be turned off silently.
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/integration/daemon_harness.h"
#include "tests/integration/harness.h"

namespace kustodian::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kTenant[] = "72f988bf-86f1-41af-91ab-2d7cd011db47";
constexpr char kClientId[] = "11111111-1111-1111-1111-111111111111";
constexpr char kSecret[] = "Sup3r-S3cret-Value~with.chars_42";

std::string WorldWithPrincipal() {
  return DaemonWorld() + absl::StrCat("principals:\n  - clientId: ", kClientId,
                                      "\n    clientSecret: ", kSecret, "\n");
}

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Every place a secret could leak to: each finding names where it was found.
std::vector<std::string> FindLeaks(const std::string& where, const std::string& text) {
  std::vector<std::string> leaks;
  static const std::regex jwt(R"(eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})");
  static const std::regex bearer(R"(Bearer\s+[A-Za-z0-9._~+/-]{8,})", std::regex::icase);
  if (absl::StrContains(text, kSecret)) leaks.push_back(where + ": the client secret");
  if (std::regex_search(text, jwt)) leaks.push_back(where + ": a JWT (token)");
  if (std::regex_search(text, bearer)) leaks.push_back(where + ": a bearer token");
  if (absl::StrContains(text, kItToken)) leaks.push_back(where + ": the static token");
  return leaks;
}

TEST(SecurityTest, NoSecretOrTokenInLogsStatusOrMetrics) {
  DaemonFixture f({}, WorldWithPrincipal());
  std::vector<std::string> keys;
  for (const auto& [name, kind] : std::vector<std::pair<std::string, std::string>>{
           {"sec-hub", "EventHub"}, {"sec-grid", "EventGrid"}, {"sec-cosmos", "CosmosDb"}}) {
    std::ofstream(f.config_dir + "/" + name + ".yaml")
        << Manifest(name, kind, "clu1", "db1", "Secure");
    keys.push_back(ConnKey("clu1", "db1", name));
  }
  // A broken manifest and an ARM failure make error paths log too.
  std::ofstream(f.config_dir + "/broken.yaml") << "spec: [unclosed\n";
  f.StartDaemon({"--token", "", "--log-level", "debug"},
                {{"AZURE_TENANT_ID", kTenant},
                 {"AZURE_CLIENT_ID", kClientId},
                 {"AZURE_CLIENT_SECRET", kSecret},
                 {"AZURE_AUTHORITY_HOST", f.emulator.base_url}});
  ASSERT_TRUE(
      WaitUntil([&] { return f.AllReady(keys) || !f.daemon->Running(); }, absl::Seconds(30)))
      << f.daemon->Log();
  // An out-of-band edit and a delete so the daemon logs drift and recovery.
  ASSERT_TRUE(f.http
                  .Request("DELETE", f.emulator.base_url + "/_admin/connections" +
                                         ConnPath("clu1", "db1", "sec-hub"))
                  .ok());
  ASSERT_TRUE(
      WaitUntil([&] { return f.EmulatorConnection(keys[0]).has_value(); }, absl::Seconds(30)));

  std::vector<std::string> leaks;
  auto check = [&](const std::string& where, const std::string& text) {
    ASSERT_FALSE(text.empty()) << where << " is empty: nothing was checked";
    for (std::string& l : FindLeaks(where, text)) leaks.push_back(std::move(l));
  };
  check("daemon log", f.daemon->Log());
  check("GET /status", f.DaemonStatus().dump());
  check("GET /metrics", f.Metrics());
  for (const std::string& key : keys) {
    auto r =
        f.http.Request("GET", absl::StrCat("http://127.0.0.1:", f.daemon_port, "/status/", key));
    ASSERT_TRUE(r.ok());
    check("GET /status/" + key, r->body);
  }
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(f.dir.path())) {
    const std::string name = e.path().string();
    // The emulator's own files (its world declares the secret) are not ours to check.
    if (!e.is_regular_file() || absl::StrContains(name, "emulator") ||
        absl::StrContains(name, "world")) {
      continue;
    }
    if (absl::StartsWith(name, f.state_dir) || absl::StartsWith(name, f.status_dir)) {
      check(name, ReadAll(e.path()));
      ++files;
    }
  }
  EXPECT_GT(files, 3);
  // The daemon did authenticate with the secret (so the check above means something).
  EXPECT_GT(f.Stats().value("byRoute", nlohmann::json::object()).dump().size(), 2u);
  EXPECT_TRUE(leaks.empty()) << absl::StrJoin(leaks, "\n");
  EXPECT_EQ(f.StopDaemon(), 0);
}

TEST(SecurityTest, SkippingTlsVerificationIsLoggedAtEveryStart) {
  DaemonFixture f;
  for (int run = 0; run < 2; ++run) {
    f.StartDaemon({"--insecure-skip-tls-verify"});
    EXPECT_TRUE(WaitUntil(
        [&] { return absl::StrContains(f.daemon->Log(), "--insecure-skip-tls-verify is set"); },
        absl::Seconds(10)))
        << f.daemon->Log();
    EXPECT_EQ(f.StopDaemon(), 0);
  }
}

TEST(SecurityTest, PlainHttpToANonLoopbackArmEndpointIsRefused) {
  DaemonFixture f;
  auto [code, out] = f.RunCli({"plan", "--config-dir", f.config_dir, "--arm-endpoint",
                               "http://management.example.com", "--token", "t"});
  EXPECT_NE(code, 0);
  EXPECT_TRUE(absl::StrContains(out, "http")) << out;
}

}  // namespace
}  // namespace kustodian::testing
