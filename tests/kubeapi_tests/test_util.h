// Helpers for kubeapi tests: an in-process KubeApiServer with the test CRD, a raw HTTP/1.1
// client (Connection: close, chunked decoding) and a watch reader that yields one event per line.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/kubeapi/api_server.h"

namespace kustodian::kubeapi::testing {

using json = nlohmann::json;

inline std::string TestCrdPath() {
  return std::string(KUSTODIAN_SOURCE_DIR) +
         "/tests/kubeapi_tests/testdata/dataconnections.kustodian.io.yaml";
}

struct Resp {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  json Json() const { return json::parse(body, nullptr, false); }
};

// A connected loopback socket, or -1.
inline int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline std::string RequestText(const std::string& method, const std::string& target,
                               const std::string& body, const std::string& content_type,
                               const std::map<std::string, std::string>& headers) {
  std::string req = absl::StrCat(method, " ", target, " HTTP/1.1\r\nHost: 127.0.0.1\r\n",
                                 "Connection: close\r\n");
  for (const auto& [k, v] : headers) absl::StrAppend(&req, k, ": ", v, "\r\n");
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    absl::StrAppend(&req, "Content-Type: ", content_type, "\r\nContent-Length: ", body.size(),
                    "\r\n");
  }
  return absl::StrCat(req, "\r\n", body);
}

// Reads until `fd` closes (or `timeout`), returns everything.
inline std::string ReadAll(int fd, absl::Duration timeout) {
  std::string out;
  absl::Time deadline = absl::Now() + timeout;
  char buf[8192];
  while (absl::Now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

inline std::string Dechunk(const std::string& raw) {
  std::string out;
  size_t i = 0;
  while (i < raw.size()) {
    size_t eol = raw.find("\r\n", i);
    if (eol == std::string::npos) break;
    size_t len = std::stoul(raw.substr(i, eol - i), nullptr, 16);
    if (len == 0) break;
    out += raw.substr(eol + 2, len);
    i = eol + 2 + len + 2;
  }
  return out;
}

inline Resp ParseResponse(const std::string& raw) {
  Resp r;
  size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos) return r;
  std::string head = raw.substr(0, head_end);
  std::string body = raw.substr(head_end + 4);
  size_t line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  absl::SimpleAtoi(status_line.substr(9, 3), &r.status);
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string::npos) end = head.size();
    std::string line = head.substr(pos, end - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = absl::AsciiStrToLower(line.substr(0, colon));
      std::string value = line.substr(colon + 1);
      if (!value.empty() && value[0] == ' ') value.erase(0, 1);
      r.headers[name] += r.headers.count(name) ? "\n" + value : value;
    }
    pos = end + 2;
  }
  r.body = r.headers["transfer-encoding"] == "chunked" ? Dechunk(body) : body;
  return r;
}

inline Resp Http(int port, const std::string& method, const std::string& target,
                 const std::string& body = "", const std::string& content_type = "application/json",
                 const std::map<std::string, std::string>& headers = {}) {
  int fd = Connect(port);
  if (fd < 0) return {};
  std::string req = RequestText(method, target, body, content_type, headers);
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string raw = ReadAll(fd, absl::Seconds(10));
  ::close(fd);
  return ParseResponse(raw);
}

// An open watch: Next() returns each event as it arrives.
class WatchReader {
 public:
  WatchReader(int port, const std::string& target) {
    fd_ = Connect(port);
    std::string req = RequestText("GET", target, "", "", {});
    ::send(fd_, req.data(), req.size(), MSG_NOSIGNAL);
  }
  ~WatchReader() {
    if (fd_ >= 0) ::close(fd_);
  }
  // The next event, or nullopt on timeout / end of stream.
  std::optional<json> Next(absl::Duration timeout = absl::Seconds(5)) {
    absl::Time deadline = absl::Now() + timeout;
    for (;;) {
      std::string body = Dechunk(raw_.substr(std::min(raw_.size(), BodyStart())));
      size_t start = 0;
      int seen = 0;
      while (true) {
        size_t nl = body.find('\n', start);
        if (nl == std::string::npos) break;
        if (seen++ == consumed_) {
          ++consumed_;
          return json::parse(body.substr(start, nl - start));
        }
        start = nl + 1;
      }
      if (closed_ || absl::Now() >= deadline) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      char buf[8192];
      ssize_t n = ::read(fd_, buf, sizeof(buf));
      if (n <= 0) {
        closed_ = true;
      } else {
        raw_.append(buf, static_cast<size_t>(n));
      }
    }
  }
  // The next non-BOOKMARK event.
  std::optional<json> NextChange(absl::Duration timeout = absl::Seconds(5)) {
    absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      auto e = Next(deadline - absl::Now());
      if (!e || (*e)["type"] != "BOOKMARK") return e;
    }
    return std::nullopt;
  }
  int Status() const {
    int s = 0;
    if (raw_.size() > 12) absl::SimpleAtoi(raw_.substr(9, 3), &s);
    return s;
  }
  // True once the server ended the stream (waits up to `timeout`).
  bool Ended(absl::Duration timeout) {
    absl::Time deadline = absl::Now() + timeout;
    while (!closed_ && absl::Now() < deadline) Next(absl::Milliseconds(50));
    return closed_;
  }

 private:
  size_t BodyStart() const {
    size_t p = raw_.find("\r\n\r\n");
    return p == std::string::npos ? raw_.size() : p + 4;
  }
  int fd_ = -1;
  std::string raw_;
  int consumed_ = 0;
  bool closed_ = false;
};

// A fixture with an in-process server (no token) serving the test CRD and namespace "adx".
class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(Options()); }
  virtual ApiServerOptions Options() {
    ApiServerOptions o;
    o.crd_files = {TestCrdPath()};
    o.bookmark_interval = absl::Milliseconds(200);
    o.watch_cache_size = 50;
    return o;
  }
  void StartServer(ApiServerOptions o) {
    server_ = std::make_unique<KubeApiServer>(o);
    ASSERT_TRUE(server_->Start().ok());
    port_ = server_->port();
    ASSERT_EQ(Post("/api/v1/namespaces", R"({"metadata":{"name":"adx"}})").status, 201);
  }
  Resp Get(const std::string& t, const std::map<std::string, std::string>& h = {}) {
    return Http(port_, "GET", t, "", "", h);
  }
  Resp Post(const std::string& t, const std::string& body) { return Http(port_, "POST", t, body); }
  Resp Put(const std::string& t, const std::string& body) { return Http(port_, "PUT", t, body); }
  Resp Patch(const std::string& t, const std::string& body,
             const std::string& type = "application/merge-patch+json") {
    return Http(port_, "PATCH", t, body, type);
  }
  Resp Delete(const std::string& t) { return Http(port_, "DELETE", t); }

  static std::string Dc(const std::string& name, const std::string& kind = "EventHub",
                        const std::string& extra = "") {
    return absl::StrCat(
        R"({"apiVersion":"kustodian.io/v1alpha1","kind":"DataConnection","metadata":{"name":")",
        name, R"(","namespace":"adx","labels":{"app":"x"}},"spec":{"target":{"subscriptionId":)",
        R"("00000000-0000-0000-0000-000000000001","resourceGroup":"rg","cluster":"mycluster",)",
        R"("database":"db"},"kind":")", kind,
        R"(","properties":{"eventHubResourceId":"/x","consumerGroup":"$Default"})", extra, "}}");
  }
  static constexpr const char* kDcs = "/apis/kustodian.io/v1alpha1/namespaces/adx/dataconnections";

  std::unique_ptr<KubeApiServer> server_;
  int port_ = 0;
};

}  // namespace kustodian::kubeapi::testing
