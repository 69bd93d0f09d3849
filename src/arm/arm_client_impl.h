// The real ArmClient: speaks ARM's REST API for Kusto data connections through HttpTransport,
// with bearer tokens from a TokenSource, client-side token buckets, bounded inline retries
// (anything longer goes back to the caller as Unavailable + Retry-After), long-running
// operation polling that never sleeps, and request hooks for metrics.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "src/arm/arm_client.h"
#include "src/arm/credentials.h"
#include "src/arm/rate_limiter.h"
#include "src/arm/retry.h"
#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/http/http.h"

namespace kustodian {

struct ArmClientOptions {
  std::string endpoint = "https://management.azure.com";  // no trailing '/'
  std::string api_version = "2024-04-13";
  // Used automatically for PUT and validation of the *WithManagedIdentity kinds.
  std::string api_version_2025 = "2025-02-14";
  RetryOptions retry;
  RateLimitOptions rate_limit;
  absl::Duration request_timeout = absl::Seconds(60);  // per HTTP request
  // The longest a call may wait inline (rate limiter + retry backoff) before it gives up with
  // Unavailable + Retry-After. Poll() never waits.
  absl::Duration max_inline_wait = absl::Seconds(2);
  std::string user_agent = "kustodian/0.1";
};

struct ArmClientHooks {
  // After every HTTP attempt: the HTTP method ("GET", "PUT", "DELETE", "POST"), the status
  // code (0 = transport error) and the latency measured on the Clock.
  std::function<void(const std::string& method, int code, absl::Duration latency)> on_request;
  // On every 429 answer.
  std::function<void()> on_throttled;
};

// Thread-safe.
class ArmClientImpl final : public ArmClient {
 public:
  ArmClientImpl(ArmClientOptions options, HttpTransport& transport, TokenSource& tokens,
                Clock& clock, Logger& logger, ArmClientHooks hooks = {});

  absl::StatusOr<LiveConnection> Get(const DataConnectionId& id) override;
  absl::StatusOr<std::vector<LiveConnection>> List(const DatabaseId& db) override;
  // Pages whose raw body hashes (and sizes) as the same page of `previous` are kept raw and
  // followed by the nextLink `previous` recorded for them; the first page that differs and every
  // page before it are decoded (so a changed answer costs one hash per page more than List).
  absl::StatusOr<ListAnswer> ListIfChanged(const DatabaseId& db,
                                           const ListFingerprint* previous) override;
  absl::StatusOr<WriteResult> Put(const DataConnectionSpec& spec) override;
  absl::StatusOr<WriteResult> Delete(const DataConnectionId& id) override;
  // Not done: retry_after is Retry-After if sent, else PollBackoff(op.polls). Failures to read
  // the operation's status are returned as errors (Unavailable for 429/5xx/transport).
  absl::StatusOr<PollResult> Poll(const ArmOperation& op) override;
  absl::StatusOr<std::vector<std::string>> Validate(const DataConnectionSpec& spec) override;

  const ArmClientOptions& Options() const { return options_; }
  // The client-side buckets (for tests and diagnostics).
  RateLimiter& Limiter() { return limiter_; }

 private:
  // One logical ARM request (retried as a unit).
  struct Call {
    std::string method;  // HTTP method
    std::string url;     // absolute
    std::string body;    // JSON; "" = no body
    ArmOpType op_type = ArmOpType::kRead;
    std::string subscription;    // rate-limiter key
    std::string correlation_id;  // "" = header not sent
    // HTTP error statuses returned as responses rather than errors (e.g. 404 for DELETE).
    std::vector<int> pass_through;
  };
  struct Answer {
    HttpResponse response;
    std::string client_request_id;
  };

  // Sends `call` with auth, rate limiting and inline retries charged to `*budget`. Returns the
  // response for 1xx-3xx statuses and `pass_through` ones; the mapped error otherwise.
  absl::StatusOr<Answer> Send(const Call& call, absl::Duration* budget);
  // One HTTP attempt with headers, hooks, logging and rate-limit header bookkeeping.
  absl::StatusOr<HttpResponse> SendOnce(const Call& call, const std::string& token,
                                        const std::string& client_request_id, int attempt);
  // OK when `url` may receive our bearer token: same scheme as the endpoint, and the same host
  // (or a subdomain of it) and port.
  absl::Status CheckUrlOrigin(std::string_view url) const;

  absl::StatusOr<LiveConnection> GetVersioned(const DataConnectionId& id,
                                              const std::string& api_version,
                                              absl::Duration* budget);
  absl::StatusOr<PollResult> PollAsyncOperation(const ArmOperation& op, absl::Duration* budget);
  absl::StatusOr<PollResult> PollLocation(const ArmOperation& op, absl::Duration* budget);
  absl::StatusOr<PollResult> PollResource(const ArmOperation& op, absl::Duration* budget);
  // After Validate's 202: polls with Clock::SleepFor (first after `wait`) until the result is
  // known. DeadlineExceeded after 5 minutes.
  absl::StatusOr<std::vector<std::string>> AwaitValidation(ArmOperation op, absl::Duration wait);

  std::string Url(std::string_view path, std::string_view api_version) const;
  std::string NewRequestId();
  double JitterSample();

  const ArmClientOptions options_;
  HttpTransport& transport_;
  TokenSource& tokens_;
  Clock& clock_;
  Logger& logger_;
  const ArmClientHooks hooks_;
  RateLimiter limiter_;
  std::mutex rng_mu_;
  absl::BitGen rng_;  // guarded by rng_mu_
};

}  // namespace kustodian
