// HttpServer over cpp-httplib: catch-all handlers for every method feed one longest-prefix
// router; responses become plain, chunked (streaming) or deliberately broken (fault injection).
#include "src/http/server.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace kustodian {
namespace {

constexpr size_t kWorkerThreads = 32;
constexpr size_t kKeepAliveMaxCount = 1000;
constexpr size_t kPayloadMaxLength = size_t{8} << 20;
// Matches any decoded path, newlines included (a plain ".*" would skip "%0A").
constexpr std::string_view kAnyPath = "[\\s\\S]*";
// Start() waits at most this many polls of 1 ms for the accept loop to run.
constexpr int kStartPolls = 10000;

// httplib adds these pseudo-headers to every request; they are not from the client.
bool IsPseudoHeader(const std::string& name) {
  return name == "REMOTE_ADDR" || name == "REMOTE_PORT" || name == "LOCAL_ADDR" ||
         name == "LOCAL_PORT";
}

std::string JsonError(std::string_view code, std::string_view message) {
  nlohmann::json body = {{"error", {{"code", code}, {"message", message}}}};
  return body.dump();
}

// httplib reads request bodies only for these methods (DELETE, depending on the release, only
// with a Content-Length); otherwise the body bytes would be parsed as the next request.
bool BodyIsRead(const httplib::Request& req) {
  return req.method == "POST" || req.method == "PUT" || req.method == "PATCH" ||
         (req.method == "DELETE" && req.has_header("Content-Length"));
}

bool DeclaresBody(const httplib::Request& req) {
  if (req.has_header("Transfer-Encoding")) {
    return true;
  }
  std::string length = req.get_header_value("Content-Length");
  return !length.empty() && length != "0";
}

// Sends a complete JSON error, then closes the connection (the provider reports failure after
// writing everything), so unread request bytes cannot poison the next request.
void RespondAndClose(httplib::Response& res, int status, std::string body) {
  res.status = status;
  size_t length = body.size();
  res.set_content_provider(
      length, "application/json; charset=utf-8",
      [body = std::move(body)](size_t offset, size_t, httplib::DataSink& sink) {
        sink.write(body.data() + offset, body.size() - offset);
        return false;
      });
}

struct RouteEntry {
  std::string method;
  std::string prefix;
  Handler handler;
};

ServerRequest ToServerRequest(const httplib::Request& req) {
  ServerRequest out;
  out.method = req.method;
  out.path = req.path;
  out.raw_target = req.target;
  out.query.insert(req.params.begin(), req.params.end());
  for (const auto& [name, value] : req.headers) {
    if (!IsPseudoHeader(name)) {
      out.headers.emplace_back(name, value);
    }
  }
  out.body = req.body;
  out.remote_addr = req.remote_addr;
  return out;
}

// Copies `response` into httplib's response. The Content-Type comes from the headers when the
// handler set one there, else from content_type; an empty plain body gets no Content-Type.
void FillResponse(ServerResponse response, httplib::Response& res) {
  res.status = response.status;
  std::string content_type = response.content_type;
  bool explicit_type = false;
  for (const auto& [name, value] : response.headers) {
    if (absl::EqualsIgnoreCase(name, "Content-Type")) {
      content_type = value;
      explicit_type = true;
    } else {
      res.set_header(name, value);
    }
  }
  if (response.drop_connection) {
    // Headers go out, then the body provider fails: the client sees a truncated response.
    res.set_chunked_content_provider(content_type,
                                     [](size_t, httplib::DataSink&) { return false; });
    return;
  }
  if (response.stream) {
    res.set_chunked_content_provider(
        content_type, [stream = std::move(response.stream)](size_t, httplib::DataSink& sink) {
          ChunkWriter write = [&sink](std::string_view chunk) {
            if (chunk.empty()) {
              return true;  // an empty chunk would end the chunked body early
            }
            return sink.write(chunk.data(), chunk.size());
          };
          if (!stream(write)) {
            return false;
          }
          sink.done();
          return true;
        });
    return;
  }
  if (!response.body.empty()) {
    res.set_content(response.body, content_type);
  } else if (explicit_type) {
    res.set_header("Content-Type", content_type);
  }
}

}  // namespace

struct HttpServer::Impl {
  std::vector<RouteEntry> routes;
  std::unique_ptr<httplib::Server> server;
  std::thread thread;
  std::atomic<bool> listen_returned{false};
  size_t worker_threads = kWorkerThreads;

  // The handler of the longest prefix matching `path` for `method`, or nullptr.
  const Handler* Find(const std::string& method, const std::string& path) const {
    const RouteEntry* best = nullptr;
    for (const RouteEntry& route : routes) {
      if ((route.method == "*" || route.method == method) && absl::StartsWith(path, route.prefix) &&
          (best == nullptr || route.prefix.size() > best->prefix.size())) {
        best = &route;
      }
    }
    return best == nullptr ? nullptr : &best->handler;
  }

  void Dispatch(const httplib::Request& req, httplib::Response& res) const {
    if (!BodyIsRead(req) && DeclaresBody(req)) {
      RespondAndClose(res, 400,
                      JsonError("BadRequest",
                                absl::StrCat("a request body is not supported for ", req.method)));
      return;
    }
    const Handler* handler = Find(req.method, req.path);
    if (handler == nullptr && req.method == "HEAD") {
      handler = Find("GET", req.path);  // HEAD falls back to GET; httplib drops the body
    }
    if (handler == nullptr) {
      res.status = 404;
      res.set_content(
          JsonError("NotFound", absl::StrCat("no route for ", req.method, " ", req.path)),
          "application/json; charset=utf-8");
      return;
    }
    FillResponse((*handler)(ToServerRequest(req)), res);
  }

  void Configure() {
    server->new_task_queue = [n = worker_threads] { return new httplib::ThreadPool(n); };
    server->set_keep_alive_max_count(kKeepAliveMaxCount);
    server->set_payload_max_length(kPayloadMaxLength);
    server->set_tcp_nodelay(true);
    // httplib's default also sets SO_REUSEPORT, which would let a second server share the port.
    server->set_socket_options([](socket_t sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    server->set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, const std::exception_ptr&) {
          res.status = 500;
          res.set_content(JsonError("InternalServerError", "the request handler failed"),
                          "application/json; charset=utf-8");
        });
    auto dispatch = [this](const httplib::Request& req, httplib::Response& res) {
      Dispatch(req, res);
    };
    server->Get(std::string(kAnyPath), dispatch);  // GET and HEAD
    server->Post(std::string(kAnyPath), dispatch);
    server->Put(std::string(kAnyPath), dispatch);
    server->Patch(std::string(kAnyPath), dispatch);
    server->Delete(std::string(kAnyPath), dispatch);
    server->Options(std::string(kAnyPath), dispatch);
  }

  // Binds host:port (0 = any) and runs the accept loop on `thread`. Returns the bound port,
  // or Unavailable when binding fails or the loop does not start.
  absl::StatusOr<int> Serve(const std::string& host, int port) {
    Configure();
    int bound = port;
    if (port == 0) {
      bound = server->bind_to_any_port(host);
    } else if (!server->bind_to_port(host, port)) {
      bound = -1;
    }
    if (bound <= 0) {
      server.reset();
      return absl::UnavailableError(absl::StrCat("cannot bind ", host, ":", port));
    }
    listen_returned = false;
    thread = std::thread([this] {
      server->listen_after_bind();
      listen_returned = true;
    });
    // Stop() only works once the accept loop runs, so wait for it (bounded).
    for (int i = 0; i < kStartPolls && !server->is_running() && !listen_returned; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (!server->is_running()) {
      Stop();
      return absl::UnavailableError(absl::StrCat("server on ", host, ":", bound, " did not start"));
    }
    return bound;
  }

  void Stop() {
    if (server == nullptr) {
      return;
    }
    server->stop();
    if (thread.joinable()) {
      thread.join();
    }
    server.reset();
  }
};

std::optional<std::string> ServerRequest::Query(std::string_view name) const {
  auto it = query.find(std::string(name));
  if (it == query.end()) {
    return std::nullopt;
  }
  return it->second;
}

HttpServer::HttpServer() : impl_(std::make_unique<Impl>()) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Route(const std::string& method, const std::string& prefix, Handler handler) {
  impl_->routes.push_back(RouteEntry{method, prefix, std::move(handler)});
}

void HttpServer::SetWorkerThreads(size_t count) {
  impl_->worker_threads = count == 0 ? kWorkerThreads : count;
}

absl::StatusOr<int> HttpServer::Start(const std::string& host, int port) {
  if (impl_->server != nullptr) {
    return absl::FailedPreconditionError("HttpServer already started");
  }
  impl_->server = std::make_unique<httplib::Server>();
  absl::StatusOr<int> bound = impl_->Serve(host, port);
  if (bound.ok()) {
    port_ = *bound;
  }
  return bound;
}

absl::StatusOr<int> HttpServer::StartTls(const std::string& host, int port,
                                         const std::string& cert_file,
                                         const std::string& key_file) {
  if (impl_->server != nullptr) {
    return absl::FailedPreconditionError("HttpServer already started");
  }
  auto tls = std::make_unique<httplib::SSLServer>(cert_file.c_str(), key_file.c_str());
  if (!tls->is_valid()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot load TLS certificate \"", cert_file, "\" / key \"", key_file, "\""));
  }
  impl_->server = std::move(tls);
  absl::StatusOr<int> bound = impl_->Serve(host, port);
  if (bound.ok()) {
    port_ = *bound;
  }
  return bound;
}

void HttpServer::Stop() { impl_->Stop(); }

}  // namespace kustodian
