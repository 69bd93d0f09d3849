// A small HTTP server helper over cpp-httplib, for the emulator, the daemon's status/metrics
// endpoints and the test API server. Handlers see plain structs; routing is by method and path
// prefix or by a catch-all. Responses may stream (chunked) for watch-style endpoints.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "src/http/http.h"

namespace kustodian {

struct ServerRequest {
  std::string method;
  std::string path;        // decoded path, no query
  std::string raw_target;  // the request target exactly as received (path?query)
  std::multimap<std::string, std::string> query;  // decoded query parameters
  HttpHeaders headers;
  std::string body;
  std::string remote_addr;
  std::optional<std::string> Header(std::string_view name) const {
    return FindHeader(headers, name);
  }
  // The first value of query parameter `name`, or nullopt.
  std::optional<std::string> Query(std::string_view name) const;
};

// Writes one chunk; returns false when the client went away.
using ChunkWriter = std::function<bool(std::string_view chunk)>;

struct ServerResponse {
  int status = 200;
  HttpHeaders headers;
  std::string body;
  std::string content_type = "application/json; charset=utf-8";
  // When set, the response is sent chunked: the function writes chunks until it returns.
  // Returning false aborts the connection (used to simulate a dropped connection).
  std::function<bool(const ChunkWriter& write)> stream;
  // Close the connection without a valid response (fault injection).
  bool drop_connection = false;
};

using Handler = std::function<ServerResponse(const ServerRequest&)>;

// Not copyable. Start() then Stop(); handlers run on the server's thread pool.
class HttpServer {
 public:
  HttpServer();
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Routes requests whose method is `method` ("*" = any) and whose path starts with `prefix`.
  // The longest matching prefix wins. Must be called before Start().
  void Route(const std::string& method, const std::string& prefix, Handler handler);
  // How many requests are served at once (streams included); default 32. Before Start().
  void SetWorkerThreads(size_t count);

  // Binds host:port (port 0 = any free port) and serves on a background thread.
  // Returns the bound port, or Unavailable when binding fails.
  absl::StatusOr<int> Start(const std::string& host, int port);
  // With TLS (PEM files). Same contract as Start.
  absl::StatusOr<int> StartTls(const std::string& host, int port, const std::string& cert_file,
                               const std::string& key_file);
  // Stops listening and joins the thread. Idempotent.
  void Stop();
  int port() const { return port_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace kustodian
