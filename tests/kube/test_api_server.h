// A scriptable API server for kube tests: an HttpServer on 127.0.0.1 whose every request goes to
// the test's handler (set and replaced at any time) and is recorded. Helpers build meta/v1 Status
// bodies and chunked watch streams.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/http/server.h"
#include "src/kube/kube_client_impl.h"
#include "src/kube/kube_config.h"

namespace kustodian::kube::testing {

class TestApiServer {
 public:
  TestApiServer() {
    server_.Route("*", "/", [this](const ServerRequest& request) {
      Handler handler;
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(request);
        handler = handler_;
      }
      if (handler == nullptr) {
        return Json(404, StatusBody(404, "NotFound", "no handler"));
      }
      return handler(request);
    });
    auto port = server_.Start("127.0.0.1", 0);
    EXPECT_TRUE(port.ok()) << port.status();
  }

  void SetHandler(Handler handler) {
    std::lock_guard<std::mutex> lock(mu_);
    handler_ = std::move(handler);
  }
  std::vector<ServerRequest> Requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::string Url() const { return absl::StrCat("http://127.0.0.1:", server_.port()); }
  void Stop() { server_.Stop(); }

  // A config for a client of this server with a static token.
  KubeConfig Config(const std::string& token = "test-token") const {
    KubeConfig config;
    config.server = Url();
    config.token = token;
    config.request_timeout = absl::Seconds(10);
    return config;
  }

  static ServerResponse Json(int status, const nlohmann::json& body, HttpHeaders headers = {}) {
    ServerResponse response;
    response.status = status;
    response.body = body.dump();
    response.headers = std::move(headers);
    return response;
  }
  static nlohmann::json StatusBody(int code, const std::string& reason,
                                   const std::string& message) {
    return {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", nlohmann::json::object()},
            {"status", "Failure"}, {"message", message}, {"reason", reason},
            {"code", code}};
  }
  // A 200 chunked stream writing `chunks` in order; `cut` ends it with a broken connection.
  static ServerResponse Stream(std::vector<std::string> chunks, bool cut = false) {
    ServerResponse response;
    response.stream = [chunks = std::move(chunks), cut](const ChunkWriter& write) {
      for (const std::string& chunk : chunks) {
        if (!write(chunk)) {
          return false;
        }
      }
      return !cut;
    };
    return response;
  }
  static std::string EventLine(const std::string& type, const nlohmann::json& object) {
    return nlohmann::json({{"type", type}, {"object", object}}).dump() + "\n";
  }

 private:
  HttpServer server_;
  mutable std::mutex mu_;
  Handler handler_;                      // guarded by mu_
  std::vector<ServerRequest> requests_;  // guarded by mu_
};

inline nlohmann::json Object(const std::string& name, const std::string& rv,
                             const std::string& ns = "ns1") {
  return {{"apiVersion", "kustodian.io/v1alpha1"},
          {"kind", "DataConnection"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"resourceVersion", rv}}}};
}

inline std::string EventLine(const std::string& type, const nlohmann::json& object) {
  return TestApiServer::EventLine(type, object);
}

}  // namespace kustodian::kube::testing
