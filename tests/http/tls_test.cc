// TLS: HttpServer::StartTls with certificates made at test time by the openssl CLI, and the
// transport's verification (no CA: refused; the cert as CA: accepted; wrong name: refused).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "src/http/http.h"
#include "src/http/server.h"
#include "tests/http/raw_server.h"

namespace kustodian {
namespace {

namespace fs = std::filesystem;

bool HaveOpenssl() { return std::system("command -v openssl >/dev/null 2>&1") == 0; }

// Writes a self-signed EC certificate for `san` into dir/name.{crt,key}. True on success.
bool MakeCert(const fs::path& dir, const std::string& name, const std::string& san) {
  std::string cmd = absl::StrCat(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1",
      " -subj /CN=kustodian-test -addext subjectAltName=", san, " -keyout '",
      (dir / (name + ".key")).string(), "' -out '", (dir / (name + ".crt")).string(),
      "' >/dev/null 2>&1");
  return std::system(cmd.c_str()) == 0;
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveOpenssl()) {
      GTEST_SKIP() << "openssl CLI not found";
    }
    http_test::IgnoreSigpipe();
    std::string tmpl = (fs::path(::testing::TempDir()) / "kus_tls_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(MakeCert(dir_, "good", "IP:127.0.0.1,DNS:localhost"));
    ASSERT_TRUE(MakeCert(dir_, "other", "DNS:other.example"));
  }
  void TearDown() override {
    server_.Stop();
    if (!dir_.empty()) {
      fs::remove_all(dir_);
    }
  }
  void StartWith(const std::string& name) {
    server_.Route("*", "/", [](const ServerRequest& req) {
      ServerResponse r;
      r.body = "secure " + req.method;
      r.content_type = "text/plain";
      return r;
    });
    auto port = server_.StartTls("127.0.0.1", 0, Path(name + ".crt"), Path(name + ".key"));
    ASSERT_TRUE(port.ok()) << port.status();
  }
  std::string Path(const std::string& file) const { return (dir_ / file).string(); }
  absl::StatusOr<HttpResponse> Get(const TransportOptions& options,
                                   const std::string& host = "127.0.0.1") {
    HttpRequest request;
    request.method = "GET";
    request.url = absl::StrCat("https://", host, ":", server_.port(), "/s");
    request.timeout = absl::Seconds(10);
    return NewHttpTransport(options)->Send(request);
  }

  fs::path dir_;
  HttpServer server_;
};

TEST_F(TlsTest, UnknownCaIsRefused) {
  StartWith("good");
  auto response = Get(TransportOptions{});
  ASSERT_EQ(response.status().code(), absl::StatusCode::kUnavailable) << response.status();
  EXPECT_NE(std::string(response.status().message()).find("GET https://127.0.0.1:"),
            std::string::npos)
      << response.status();
}

TEST_F(TlsTest, CertAsCaIsAccepted) {
  StartWith("good");
  TransportOptions options;
  options.ca_file = Path("good.crt");
  for (const char* host : {"127.0.0.1", "localhost"}) {
    auto response = Get(options, host);
    ASSERT_TRUE(response.ok()) << host << ": " << response.status();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "secure GET");
  }
}

TEST_F(TlsTest, NameMismatchIsRefused) {
  StartWith("other");
  TransportOptions options;
  options.ca_file = Path("other.crt");
  auto response = Get(options);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable) << response.status();
}

TEST_F(TlsTest, VerificationOffAcceptsAnyCert) {
  StartWith("other");
  TransportOptions options;
  options.verify_tls = false;
  auto response = Get(options);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body, "secure GET");
}

TEST_F(TlsTest, MissingCaFileIsInvalidArgument) {
  StartWith("good");
  TransportOptions options;
  options.ca_file = Path("missing.crt");
  auto response = Get(options);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument) << response.status();
}

TEST_F(TlsTest, UnreadableClientCertIsInvalidArgument) {
  StartWith("good");
  TransportOptions options;
  options.ca_file = Path("good.crt");
  options.client_cert_file = Path("missing.crt");
  options.client_key_file = Path("missing.key");
  auto response = Get(options);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument) << response.status();
}

TEST_F(TlsTest, BadServerCertFileFailsStart) {
  HttpServer server;
  auto port = server.StartTls("127.0.0.1", 0, Path("missing.crt"), Path("missing.key"));
  EXPECT_EQ(port.status().code(), absl::StatusCode::kInvalidArgument) << port.status();
}

}  // namespace
}  // namespace kustodian
