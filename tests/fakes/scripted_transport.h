// ScriptedTransport: an HttpTransport for tests that answers from a script. Each step names the
// request it expects (method + URL, or any predicate) and the canned response or transport error
// to return; every request sent is recorded. A request that does not match the next step (or
// arrives after the script ran out) is recorded as a failure and answered with Internal.
#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "src/http/http.h"

namespace kustodian {

// Thread-safe.
class ScriptedTransport final : public HttpTransport {
 public:
  using Matcher = std::function<bool(const HttpRequest&)>;

  // Expects `method` on `url`: equal to the request URL, or a prefix of it when `url` ends
  // with '*'. An empty method or URL matches anything.
  ScriptedTransport& Expect(std::string method, std::string url, HttpResponse response);
  ScriptedTransport& ExpectError(std::string method, std::string url, absl::Status error);
  // Expects a request for which `matcher` returns true.
  ScriptedTransport& ExpectMatching(std::string description, Matcher matcher,
                                    absl::StatusOr<HttpResponse> result);

  // Called with every request before it is answered (e.g. to advance a FakeClock).
  void SetOnSend(std::function<void(const HttpRequest&)> on_send);

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override;

  // Every request received, in order.
  std::vector<HttpRequest> Requests() const;
  size_t RequestCount() const;
  // The i-th request received (a test failure and an empty request when out of range).
  HttpRequest Request(size_t i) const;
  // Steps not yet consumed.
  size_t Pending() const;
  // Success when every step was consumed and no request was unexpected.
  testing::AssertionResult Verify() const;

  // Responses for scripts.
  static HttpResponse Json(int status, const nlohmann::json& body, HttpHeaders headers = {});
  static HttpResponse Empty(int status, HttpHeaders headers = {});

 private:
  struct Step {
    std::string description;
    Matcher matcher;
    absl::StatusOr<HttpResponse> result;
  };
  static Matcher MethodAndUrl(std::string method, std::string url);

  mutable std::mutex mu_;
  std::deque<Step> steps_;                           // guarded by mu_
  std::vector<HttpRequest> requests_;                // guarded by mu_
  std::vector<std::string> failures_;                // guarded by mu_
  std::function<void(const HttpRequest&)> on_send_;  // guarded by mu_
};

}  // namespace kustodian
