// The one HTTP seam. HttpTransport sends a request and returns the response; the real
// implementation (NewHttpTransport) sits on cpp-httplib with OpenSSL and a keep-alive pool per
// host; tests use a scripted fake (tests/fakes/scripted_transport.h). Only src/http includes
// httplib.h.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kustodian {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive header lookup; the first match, or nullopt.
std::optional<std::string> FindHeader(const HttpHeaders& headers, std::string_view name);

struct HttpRequest {
  std::string method;  // "GET", "PUT", ...
  std::string url;     // absolute: scheme://host[:port]/path?query (already encoded)
  HttpHeaders headers;
  std::string body;
  absl::Duration timeout = absl::Seconds(60);
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;
  std::string body;
  std::optional<std::string> Header(std::string_view name) const {
    return FindHeader(headers, name);
  }
};

// Thread-safe in every implementation.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Sends `request`. Any HTTP status is a successful return (the caller maps it). Transport
  // failures (refused, reset, timeout, TLS) return Unavailable; a malformed URL or a plain-http
  // URL to a non-loopback host (unless allowed) returns InvalidArgument.
  virtual absl::StatusOr<HttpResponse> Send(const HttpRequest& request) = 0;

  // Sends `request` and delivers the response as it arrives (for watch streams): `on_headers`
  // once with the status and headers, then `on_data` for each piece of the body, in order
  // (chunk boundaries are arbitrary). `request.timeout` bounds each wait for data, not the whole
  // exchange. Returns OK when the body ended, when a callback returned false, or when `*cancel`
  // became true (noticed within about 100 ms, even while no data flows); Unavailable when the
  // connection failed or broke mid-body; InvalidArgument as Send does.
  // The default implementation calls Send and delivers the whole body at once (for fakes).
  virtual absl::Status SendStreaming(
      const HttpRequest& request,
      const std::function<bool(int status, const HttpHeaders&)>& on_headers,
      const std::function<bool(std::string_view chunk)>& on_data,
      const std::atomic<bool>* cancel = nullptr);
};

struct TransportOptions {
  bool verify_tls = true;  // off only with an explicit flag (logged at start)
  std::string ca_file;     // PEM CA bundle that replaces the system store; "" = system
  bool allow_plain_http_remote = false;  // plain http is always allowed to loopback
  absl::Duration connect_timeout = absl::Seconds(10);
  int max_idle_per_host = 8;     // keep-alive connections kept per scheme://host:port
  std::string client_cert_file;  // optional TLS client certificate (PEM)
  std::string client_key_file;   // and its key
};

std::unique_ptr<HttpTransport> NewHttpTransport(const TransportOptions& options);

struct ParsedUrl {
  std::string scheme;          // "http" or "https"
  std::string host;            // lower-cased; an IPv6 literal without its brackets ("::1")
  int port = 0;                // explicit, or 80/443 by scheme
  std::string path_and_query;  // starts with '/'
};
// Parses an absolute http(s) URL. InvalidArgument otherwise.
absl::StatusOr<ParsedUrl> ParseUrl(std::string_view url);
// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(std::string_view host);
// application/x-www-form-urlencoded / query component encoding.
std::string UrlEncode(std::string_view s);

}  // namespace kustodian
