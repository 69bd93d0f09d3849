// Regression: a pooled keep-alive connection that the server closed while it sat idle (the
// server's keep-alive timeout) must not fail the next request. The transport retries only
// idempotent methods on a fresh connection after a failure, so for a POST or PATCH the dead
// socket has to be noticed before the request is written (IdleSocketAlive in TakeIdle).
// Over plain TCP httplib's own liveness check (a MSG_PEEK that sees the EOF) already catches
// it; over TLS the server's close_notify is readable data to that check, so only the
// transport's check saves the request: the TLS cases are the ones that fail without it.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "src/http/http.h"
#include "tests/http/raw_server.h"

namespace kustodian {
namespace {

constexpr int kIdleTimeoutMs = 100;

bool WaitFor(const std::function<bool()>& condition,
             std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// Sockets of this process's network namespace connected to 127.0.0.1:`port` whose peer has
// closed (CLOSE_WAIT in /proc/net/tcp): the client has received the server's FIN.
int ClientSocketsInCloseWait(int port) {
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // header
  const std::string remote = absl::StrCat(
      "0100007F:", absl::AsciiStrToUpper(absl::StrCat(absl::Hex(port, absl::kZeroPad4))));
  int n = 0;
  while (std::getline(in, line)) {
    std::vector<std::string> fields =
        absl::StrSplit(line, ' ', absl::SkipWhitespace());  // sl local rem st ...
    if (fields.size() > 3 && fields[2] == remote && fields[3] == "08") {
      ++n;
    }
  }
  return n;
}

HttpRequest Request(const std::string& method, const std::string& url) {
  HttpRequest request;
  request.method = method;
  request.url = url;
  request.body = R"({"n":1})";
  request.headers = {{"Content-Type", "application/json"}};
  request.timeout = absl::Seconds(10);
  return request;
}

// Sends `method` once, lets the server close the pooled connection for idleness, and checks
// the next `method` goes out on a new connection and succeeds.
void ExpectSurvivesIdleClose(http_test::RawServer& server, const TransportOptions& options,
                             const std::string& method) {
  auto transport = NewHttpTransport(options);
  auto first = transport->Send(Request(method, server.Url("/first")));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->body, "conn=0 req=0");

  // The server's keep-alive timeout closes the idle connection, and its FIN has reached the
  // client's socket, which sits in the transport's pool.
  ASSERT_TRUE(WaitFor([&] {
    return server.IdleClosed() == 1 && ClientSocketsInCloseWait(server.Port()) == 1;
  })) << "idle closes: "
      << server.IdleClosed();

  auto second = transport->Send(Request(method, server.Url("/second")));
  ASSERT_TRUE(second.ok()) << method
                           << " on a connection the server closed while idle: " << second.status();
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(second->body, "conn=1 req=0");
  EXPECT_EQ(server.Connections(), 2);
  EXPECT_EQ(server.Requests(), 2);
}

TEST(KeepAliveTest, PostAfterServerClosedIdleConnectionSucceeds) {
  http_test::RawServer server(nullptr, kIdleTimeoutMs);
  ExpectSurvivesIdleClose(server, TransportOptions{}, "POST");
}

TEST(KeepAliveTest, PatchAfterServerClosedIdleConnectionSucceeds) {
  http_test::RawServer server(nullptr, kIdleTimeoutMs);
  ExpectSurvivesIdleClose(server, TransportOptions{}, "PATCH");
}

// TLS: a self-signed certificate for 127.0.0.1 made by the openssl CLI.
class KeepAliveTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v openssl >/dev/null 2>&1") != 0) {
      GTEST_SKIP() << "openssl CLI not found";
    }
    std::string tmpl = (std::filesystem::path(::testing::TempDir()) / "kus_ka_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    std::string cmd = absl::StrCat(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1",
        " -subj /CN=kustodian-test -addext subjectAltName=IP:127.0.0.1 -keyout '", Key(),
        "' -out '", Cert(), "' >/dev/null 2>&1");
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  void TearDown() override {
    if (!dir_.empty()) {
      std::filesystem::remove_all(dir_);
    }
  }
  std::string Cert() const { return (dir_ / "server.crt").string(); }
  std::string Key() const { return (dir_ / "server.key").string(); }
  TransportOptions Options() const {
    TransportOptions options;
    options.ca_file = Cert();
    return options;
  }

  std::filesystem::path dir_;
};

TEST_F(KeepAliveTlsTest, PostAfterServerClosedIdleConnectionSucceeds) {
  http_test::RawServer server(nullptr, kIdleTimeoutMs, Cert(), Key());
  ASSERT_TRUE(server.TlsReady());
  ExpectSurvivesIdleClose(server, Options(), "POST");
}

TEST_F(KeepAliveTlsTest, PatchAfterServerClosedIdleConnectionSucceeds) {
  http_test::RawServer server(nullptr, kIdleTimeoutMs, Cert(), Key());
  ASSERT_TRUE(server.TlsReady());
  ExpectSurvivesIdleClose(server, Options(), "PATCH");
}

TEST_F(KeepAliveTlsTest, LivePooledConnectionIsReusedForPost) {
  http_test::RawServer server(nullptr, /*idle_timeout_ms=*/10000, Cert(), Key());
  ASSERT_TRUE(server.TlsReady());
  auto transport = NewHttpTransport(Options());
  for (int i = 0; i < 3; ++i) {
    auto response = transport->Send(Request("POST", server.Url("/p")));
    ASSERT_TRUE(response.ok()) << i << ": " << response.status();
    EXPECT_EQ(response->body, absl::StrCat("conn=0 req=", i));
  }
  EXPECT_EQ(server.Connections(), 1);
}

// A live pooled connection is still reused (the check does not throw every socket away).
TEST(KeepAliveTest, LivePooledConnectionIsReusedForPost) {
  http_test::RawServer server(nullptr, /*idle_timeout_ms=*/10000);
  auto transport = NewHttpTransport(TransportOptions{});
  for (int i = 0; i < 3; ++i) {
    auto response = transport->Send(Request("POST", server.Url("/p")));
    ASSERT_TRUE(response.ok()) << i << ": " << response.status();
    EXPECT_EQ(response->body, absl::StrCat("conn=0 req=", i));
  }
  EXPECT_EQ(server.Connections(), 1);
}

}  // namespace
}  // namespace kustodian
