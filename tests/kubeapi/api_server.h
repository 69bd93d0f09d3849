// KubeApiServer: the test-only Kubernetes API server. Serves discovery, OpenAPI v3, namespaced
// CRUD with the status subresource, generation, resourceVersion conflicts, finalizers, merge /
// JSON / strategic / apply patches, watches with bookmarks and 410 Gone, Table output, CRD
// schema + CEL validation, and /_test/ fault endpoints (see tests/kubeapi/README.md).
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "src/http/server.h"
#include "tests/kubeapi/resource_types.h"
#include "tests/kubeapi/store.h"

namespace kustodian::kubeapi {

struct ApiServerOptions {
  std::string bind = "127.0.0.1";
  int port = 0;                        // 0 = any free port
  std::vector<std::string> crd_files;  // CRD YAML files (several documents allowed)
  std::vector<nlohmann::json> crds;    // CRD documents given in-process
  std::string token;                   // required bearer token; empty = no authentication
  size_t watch_cache_size = 1000;      // events kept for watches; older versions are 410
  absl::Duration bookmark_interval = absl::Seconds(1);
  absl::Duration default_watch_timeout = absl::Minutes(30);
  bool log_requests = false;  // one line per request on stderr
  std::string tls_cert;       // both set = serve https
  std::string tls_key;
  size_t worker_threads = 128;  // concurrent requests, watches included
};

// One entry of GET /_test/requests.
struct RequestRecord {
  std::string method;
  std::string path;
  std::string query;
  std::string user_agent;
  std::string content_type;
  int status = 0;
  std::string time;
};

class Api;

// Thread-safe. Start() once, Stop() (or destruction) ends watches and the listener.
class KubeApiServer {
 public:
  explicit KubeApiServer(ApiServerOptions options);
  ~KubeApiServer();
  KubeApiServer(const KubeApiServer&) = delete;
  KubeApiServer& operator=(const KubeApiServer&) = delete;

  // Loads the CRDs (InvalidArgument naming the file and field when one is bad), creates the
  // "default" and "kube-system" namespaces, binds. Unavailable when binding fails.
  absl::Status Start();
  void Stop();

  int port() const { return port_; }
  std::string url() const;
  // A kubeconfig (YAML) pointing at url() with the bearer token.
  std::string Kubeconfig() const;

  ObjectStore& store() { return *store_; }
  const Registry& registry() const { return registry_; }
  std::vector<RequestRecord> Requests() const;

 private:
  ServerResponse Handle(const ServerRequest& req);
  ServerResponse HandleAdmin(const ServerRequest& req);
  void Record(const ServerRequest& req, int status);

  ApiServerOptions options_;
  Registry registry_;
  std::unique_ptr<ObjectStore> store_;
  std::unique_ptr<Api> api_;
  HttpServer http_;
  int port_ = 0;
  bool started_ = false;

  mutable std::mutex mu_;
  std::deque<RequestRecord> requests_;  // guarded by mu_
  absl::Time paused_until_;             // guarded by mu_
};

}  // namespace kustodian::kubeapi
