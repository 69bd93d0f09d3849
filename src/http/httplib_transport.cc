// The real HttpTransport over cpp-httplib: one keep-alive pool of client objects per
// scheme://host:port, TLS verification on by default, plain http only to loopback unless allowed.
// Errors name the method and the URL without its query; header values never appear in them.
#include <httplib.h>
#include <poll.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "src/http/http.h"

namespace kustodian {
namespace {

constexpr int64_t kMaxTimeoutMicros = int64_t{24} * 3600 * 1000 * 1000;

// Splits a duration into the (sec, usec) pair httplib wants; non-positive or infinite durations
// become a day, so a caller's mistake never turns into "no timeout at all".
std::pair<time_t, time_t> ToSecUsec(absl::Duration d) {
  int64_t micros = absl::ToInt64Microseconds(d);
  if (micros <= 0 || micros > kMaxTimeoutMicros) {
    micros = kMaxTimeoutMicros;
  }
  return {static_cast<time_t>(micros / 1000000), static_cast<time_t>(micros % 1000000)};
}

bool IsIdempotent(const std::string& method) {
  return method == "GET" || method == "PUT" || method == "DELETE" || method == "HEAD" ||
         method == "OPTIONS";
}

// RFC 9110 token (method and header names).
bool IsToken(const std::string& s) {
  static constexpr std::string_view kTokenPunct = "!#$%&'*+-.^_`|~";
  if (s.empty()) {
    return false;
  }
  for (unsigned char c : s) {
    if (!absl::ascii_isalnum(c) && kTokenPunct.find(static_cast<char>(c)) == kTokenPunct.npos) {
      return false;
    }
  }
  return true;
}

bool HasCrLfOrNul(const std::string& s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos;
}

// Errors worth one retry on a fresh connection: the pooled socket died under us.
bool IsStaleConnectionError(httplib::Error err) {
  return err == httplib::Error::Read || err == httplib::Error::Write ||
         err == httplib::Error::Connection || err == httplib::Error::Unknown;
}

// Whether a pooled keep-alive socket can still carry a request: open, no error, and nothing to
// read (a peer that closed the idle connection, e.g. an httplib server after its 5 s keep-alive
// timeout, makes it readable with EOF or a TLS close_notify). A dead one would fail the request
// with "Write"/"Read", and a POST or PATCH cannot be repeated on a new connection after that.
bool IdleSocketAlive(const httplib::ClientImpl& client) {
  if (client.is_socket_open() == 0) {
    return false;
  }
  pollfd p{};
  p.fd = client.socket();
  p.events = POLLIN;
  return poll(&p, 1, 0) == 0;
}

std::string PoolKey(const ParsedUrl& url) {
  return absl::StrCat(url.scheme, "://", url.host, ":", url.port);
}

// scheme://host[:port]/path, without the query (which may carry signatures).
std::string UrlForMessage(const ParsedUrl& url) {
  std::string_view path = url.path_and_query;
  path = path.substr(0, path.find('?'));
  bool v6 = url.host.find(':') != std::string::npos;
  return absl::StrCat(url.scheme, "://", v6 ? "[" : "", url.host, v6 ? "]" : "", ":", url.port,
                      std::string(path));
}

httplib::Request ToHttplibRequest(const HttpRequest& request, const ParsedUrl& url) {
  httplib::Request req;
  req.method = request.method;
  req.path = url.path_and_query;
  for (const auto& [name, value] : request.headers) {
    req.headers.emplace(name, value);
  }
  req.body = request.body;
  return req;
}

HttpResponse FromHttplibResponse(httplib::Response& res) {
  HttpResponse out;
  out.status = res.status;
  out.headers.reserve(res.headers.size());
  for (auto& [name, value] : res.headers) {
    out.headers.emplace_back(name, value);
  }
  out.body = std::move(res.body);
  return out;
}

class HttplibTransport final : public HttpTransport {
 public:
  explicit HttplibTransport(TransportOptions options) : options_(std::move(options)) {}

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override;
  absl::Status SendStreaming(const HttpRequest& request,
                             const std::function<bool(int status, const HttpHeaders&)>& on_headers,
                             const std::function<bool(std::string_view chunk)>& on_data,
                             const std::atomic<bool>* cancel) override;

 private:
  using ClientPtr = std::unique_ptr<httplib::ClientImpl>;

  // Takes an idle client for `key`, or nullptr when none is idle.
  ClientPtr TakeIdle(const std::string& key);
  // Returns `client` to the idle pool of `key`, or destroys it when the pool is full.
  void ReturnIdle(const std::string& key, ClientPtr client);
  // The parsed URL of a request that may be sent, or InvalidArgument.
  absl::StatusOr<ParsedUrl> Validate(const HttpRequest& request) const;
  // A new client for `url`; InvalidArgument when the client certificate cannot be loaded.
  absl::StatusOr<ClientPtr> NewClient(const ParsedUrl& url) const;
  // Maps an httplib failure to a status naming the method and URL (never header values).
  absl::Status FailureStatus(const HttpRequest& request, const ParsedUrl& url,
                             httplib::ClientImpl& client, httplib::Error err) const;

  const TransportOptions options_;
  std::mutex mu_;
  std::map<std::string, std::vector<ClientPtr>> idle_;  // guarded by mu_
};

HttplibTransport::ClientPtr HttplibTransport::TakeIdle(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = idle_.find(key);
  if (it == idle_.end()) {
    return nullptr;
  }
  while (!it->second.empty()) {
    ClientPtr client = std::move(it->second.back());
    it->second.pop_back();
    if (IdleSocketAlive(*client)) {
      return client;
    }
    // Closed by the server while idle: destroyed here, and the next one is tried.
  }
  return nullptr;
}

void HttplibTransport::ReturnIdle(const std::string& key, ClientPtr client) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& pool = idle_[key];
  if (static_cast<int>(pool.size()) < options_.max_idle_per_host) {
    pool.push_back(std::move(client));
  }
  // Otherwise `client` is destroyed here, closing its socket.
}

absl::StatusOr<HttplibTransport::ClientPtr> HttplibTransport::NewClient(
    const ParsedUrl& url) const {
  ClientPtr client;
  if (url.scheme == "https") {
    auto tls = std::make_unique<httplib::SSLClient>(url.host, url.port, options_.client_cert_file,
                                                    options_.client_key_file);
    if (!tls->is_valid()) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot set up TLS client (client certificate \"", options_.client_cert_file,
                       "\" / key \"", options_.client_key_file, "\" unreadable or mismatched)"));
    }
    tls->enable_server_certificate_verification(options_.verify_tls);
    if (!options_.ca_file.empty()) {
      tls->set_ca_cert_path(options_.ca_file);
    }
    client = std::move(tls);
  } else {
    client = std::make_unique<httplib::ClientImpl>(url.host, url.port);
  }
  auto [csec, cusec] = ToSecUsec(options_.connect_timeout);
  client->set_connection_timeout(csec, cusec);
  client->set_keep_alive(true);
  client->set_follow_location(false);
  client->set_url_encode(false);  // request URLs arrive already encoded
  client->set_tcp_nodelay(true);
  return client;
}

absl::Status HttplibTransport::FailureStatus(const HttpRequest& request, const ParsedUrl& url,
                                             httplib::ClientImpl& client,
                                             httplib::Error err) const {
  std::string what = httplib::to_string(err);
  if (err == httplib::Error::SSLServerVerification) {
    if (auto* tls = dynamic_cast<httplib::SSLClient*>(&client); tls != nullptr) {
      absl::StrAppend(&what, " (", X509_verify_cert_error_string(tls->get_openssl_verify_result()),
                      ")");
    }
  }
  std::string message = absl::StrCat(request.method, " ", UrlForMessage(url), " failed: ", what);
  if (err == httplib::Error::SSLLoadingCerts) {
    // A bad CA file is configuration, not a passing outage: retrying will not help.
    return absl::InvalidArgumentError(
        absl::StrCat(message, " (check the CA file \"", options_.ca_file, "\")"));
  }
  return absl::UnavailableError(message);
}

absl::StatusOr<ParsedUrl> HttplibTransport::Validate(const HttpRequest& request) const {
  absl::StatusOr<ParsedUrl> url = ParseUrl(request.url);
  if (!url.ok()) {
    return url.status();
  }
  if (url->scheme == "http" && !options_.allow_plain_http_remote && !IsLoopbackHost(url->host)) {
    return absl::InvalidArgumentError(absl::StrCat("plain http to non-loopback host ", url->host,
                                                   " refused (use https): ", request.method, " ",
                                                   UrlForMessage(*url)));
  }
  if (!IsToken(request.method)) {
    return absl::InvalidArgumentError("HTTP method is empty or not a token");
  }
  for (const auto& [name, value] : request.headers) {
    if (!IsToken(name) || HasCrLfOrNul(value)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "request header \"", IsToken(name) ? name : "?", "\" has an invalid name or value"));
    }
  }
  return url;
}

absl::StatusOr<HttpResponse> HttplibTransport::Send(const HttpRequest& request) {
  absl::StatusOr<ParsedUrl> url = Validate(request);
  if (!url.ok()) {
    return url.status();
  }

  const std::string key = PoolKey(*url);
  auto [rsec, rusec] = ToSecUsec(request.timeout);
  // First attempt on a pooled client if any; one more on a fresh one when the pooled
  // keep-alive socket turned out dead and the method is safe to repeat.
  for (int attempt = 0;; ++attempt) {
    ClientPtr client = attempt == 0 ? TakeIdle(key) : nullptr;
    if (client == nullptr) {
      absl::StatusOr<ClientPtr> fresh = NewClient(*url);
      if (!fresh.ok()) {
        return fresh.status();
      }
      client = std::move(fresh).value();
    }
    client->set_read_timeout(rsec, rusec);
    client->set_write_timeout(rsec, rusec);
    const bool reused_socket = client->is_socket_open() != 0;

    httplib::Request req = ToHttplibRequest(request, *url);
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    if (client->send(req, res, err)) {
      HttpResponse out = FromHttplibResponse(res);
      ReturnIdle(key, std::move(client));
      return out;
    }
    if (attempt == 0 && reused_socket && IsIdempotent(request.method) &&
        IsStaleConnectionError(err)) {
      continue;  // the failed client is dropped; retry on a new connection
    }
    return FailureStatus(request, *url, *client, err);
  }
}

// Streams on a dedicated (never pooled) connection. A watchdog thread polls `cancel` and, once
// it is set, shuts the socket down (httplib's stop() is the one call safe across threads), which
// wakes a read blocked on a quiet stream.
absl::Status HttplibTransport::SendStreaming(
    const HttpRequest& request,
    const std::function<bool(int status, const HttpHeaders&)>& on_headers,
    const std::function<bool(std::string_view chunk)>& on_data, const std::atomic<bool>* cancel) {
  absl::StatusOr<ParsedUrl> url = Validate(request);
  if (!url.ok()) {
    return url.status();
  }
  if (cancel != nullptr && cancel->load()) {
    return absl::OkStatus();
  }
  absl::StatusOr<ClientPtr> fresh = NewClient(*url);
  if (!fresh.ok()) {
    return fresh.status();
  }
  ClientPtr client = std::move(fresh).value();
  auto [rsec, rusec] = ToSecUsec(request.timeout);
  client->set_read_timeout(rsec, rusec);
  client->set_write_timeout(rsec, rusec);
  client->set_keep_alive(false);

  bool stopped_by_callback = false;
  bool headers_delivered = false;
  auto deliver_headers = [&](const httplib::Response& res) {
    headers_delivered = true;
    HttpHeaders headers;
    headers.reserve(res.headers.size());
    for (const auto& [name, value] : res.headers) {
      headers.emplace_back(name, value);
    }
    return on_headers(res.status, headers);
  };
  httplib::Request req = ToHttplibRequest(request, *url);
  req.response_handler = [&](const httplib::Response& res) {
    if (!deliver_headers(res)) {
      stopped_by_callback = true;
      return false;
    }
    return true;
  };
  req.content_receiver = [&](const char* data, size_t length, uint64_t, uint64_t) {
    if (cancel != nullptr && cancel->load()) {
      return false;
    }
    if (!on_data(std::string_view(data, length))) {
      stopped_by_callback = true;
      return false;
    }
    return true;
  };

  std::mutex done_mu;
  std::condition_variable done_cv;
  bool done = false;
  std::thread watchdog;
  if (cancel != nullptr) {
    watchdog = std::thread([&] {
      std::unique_lock<std::mutex> lock(done_mu);
      while (!done) {
        if (cancel->load()) {
          client->stop();  // repeated until send() returns: the socket may not exist yet
        }
        done_cv.wait_for(lock, std::chrono::milliseconds(50));
      }
    });
  }
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  const bool sent = client->send(req, res, err);
  if (watchdog.joinable()) {
    {
      std::lock_guard<std::mutex> lock(done_mu);
      done = true;
    }
    done_cv.notify_all();
    watchdog.join();
  }
  if (sent && !headers_delivered) {
    deliver_headers(res);  // httplib skips the handler for bodiless responses (204, HEAD)
  }
  if (sent || stopped_by_callback || (cancel != nullptr && cancel->load())) {
    return absl::OkStatus();
  }
  return FailureStatus(request, *url, *client, err);
}

}  // namespace

std::unique_ptr<HttpTransport> NewHttpTransport(const TransportOptions& options) {
  return std::make_unique<HttplibTransport>(options);
}

}  // namespace kustodian
