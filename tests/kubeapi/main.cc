// kube-test-apiserver: a test-only Kubernetes API server that real kubectl (v1.32) and the
// Kustodian KubeClient talk to. See tests/kubeapi/README.md.
//
// Flags:
//   --bind 127.0.0.1  --port 0 (any)  --port-file FILE (bound port written there)
//   --crd FILE (repeatable; CustomResourceDefinition YAML to serve)
//   --kubeconfig-out FILE (a kubeconfig pointing here, with the bearer token)
//   --token TOKEN (required bearer token; without it: 401)  --watch-cache-size N
//   --bookmark-interval-ms N  --log-requests  --tls-cert FILE --tls-key FILE
//   --self-signed-tls DIR (generate a certificate into DIR and serve https; kubectl sends
//                          bearer tokens only over https, the kubeconfig trusts the certificate)
//
// Test endpoints (no authentication):
//   POST /_test/break-watches                 end every open watch stream (clients reconnect)
//   POST /_test/compact                        every older resourceVersion becomes 410 Gone
//   POST /_test/conflict?resource=R&count=N    the next N writes to R ("dataconnections" or
//                                              "dataconnections/status"; empty = any) get 409
//   POST /_test/fail?resource=R&count=N&code=C[&verb=PUT|PATCH|POST|DELETE|GET|write|any]
//                                              the next N matching requests get status C
//   POST /_test/pause?seconds=S                every API request gets 503 + Retry-After for S s
//   GET  /_test/requests                       the request log (method, path, query, userAgent,
//                                              contentType, status, time); DELETE clears it
//   GET  /_test/watches                        {"open": number of open watch streams}
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <iostream>

#include "CLI/CLI.hpp"
#include "tests/kubeapi/api_server.h"
#include "tests/kubeapi/self_signed.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

bool WriteFile(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << content;
    if (!out) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  kustodian::kubeapi::ApiServerOptions options;
  std::string port_file;
  std::string kubeconfig_out;
  int64_t bookmark_ms = 1000;
  CLI::App app{"kube-test-apiserver: a test-only Kubernetes API server"};
  app.add_option("--bind", options.bind, "address to listen on")->capture_default_str();
  app.add_option("--port", options.port, "port (0 = any free port)")->capture_default_str();
  app.add_option("--port-file", port_file, "write the bound port to this file");
  app.add_option("--crd", options.crd_files, "CRD YAML file to serve (repeatable)")
      ->check(CLI::ExistingFile);
  app.add_option("--kubeconfig-out", kubeconfig_out, "write a kubeconfig for this server here");
  app.add_option("--token", options.token, "bearer token every request must carry");
  app.add_option("--watch-cache-size", options.watch_cache_size,
                 "recent events kept for watches; older resourceVersions are 410 Gone")
      ->capture_default_str();
  app.add_option("--bookmark-interval-ms", bookmark_ms, "watch bookmark interval")
      ->capture_default_str();
  app.add_flag("--log-requests", options.log_requests, "log every request on stderr");
  app.add_option("--tls-cert", options.tls_cert, "serve https with this PEM certificate");
  app.add_option("--tls-key", options.tls_key, "PEM key of --tls-cert");
  std::string self_signed_dir;
  app.add_option("--self-signed-tls", self_signed_dir,
                 "generate a self-signed certificate into this directory and serve https")
      ->check(CLI::ExistingDirectory);
  CLI11_PARSE(app, argc, argv);
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    std::cerr << "kube-test-apiserver: --tls-cert and --tls-key go together; give both or neither"
              << std::endl;
    return 2;
  }
  if (bookmark_ms <= 0) {
    std::cerr << "kube-test-apiserver: --bookmark-interval-ms must be positive" << std::endl;
    return 2;
  }
  options.bookmark_interval = absl::Milliseconds(bookmark_ms);
  if (!self_signed_dir.empty()) {
    if (!options.tls_cert.empty()) {
      std::cerr << "kube-test-apiserver: --self-signed-tls replaces --tls-cert/--tls-key; give one"
                << std::endl;
      return 2;
    }
    options.tls_cert = self_signed_dir + "/apiserver.crt";
    options.tls_key = self_signed_dir + "/apiserver.key";
    absl::Status cert = kustodian::kubeapi::WriteSelfSignedCert(options.tls_cert, options.tls_key);
    if (!cert.ok()) {
      std::cerr << "kube-test-apiserver: --self-signed-tls: " << cert.message() << std::endl;
      return 1;
    }
  }
  std::signal(SIGPIPE, SIG_IGN);
  kustodian::kubeapi::KubeApiServer server(options);
  absl::Status st = server.Start();
  if (!st.ok()) {
    std::cerr << "kube-test-apiserver: " << st.message() << std::endl;
    return 1;
  }
  if (!kubeconfig_out.empty() && !WriteFile(kubeconfig_out, server.Kubeconfig())) {
    std::cerr << "kube-test-apiserver: cannot write --kubeconfig-out " << kubeconfig_out
              << std::endl;
    return 1;
  }
  if (!port_file.empty() && !WriteFile(port_file, std::to_string(server.port()) + "\n")) {
    std::cerr << "kube-test-apiserver: cannot write --port-file " << port_file << std::endl;
    return 1;
  }
  std::cerr << "kube-test-apiserver: serving on " << server.url() << std::endl;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  while (g_stop == 0) {
    pause();
  }
  server.Stop();
  return 0;
}
