// ArmClientImpl's request pipeline: origin check, rate limiting, token, headers, inline retries
// within the budget, hooks and logging.
#include <algorithm>
#include <optional>

#include "absl/random/distributions.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "src/arm/arm_client_impl.h"
#include "src/arm/error_mapping.h"
#include "src/arm/guid.h"
#include "src/core/status.h"
#include "src/core/strings.h"

namespace kustodian {
namespace {

struct Origin {
  std::string scheme;
  std::string host;
  std::string port;
};

// scheme, host and port of an absolute URL (default ports filled in); nullopt when the URL is
// not absolute or carries user info.
std::optional<Origin> OriginOf(std::string_view url) {
  size_t sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) {
    return std::nullopt;
  }
  Origin origin;
  origin.scheme = absl::AsciiStrToLower(Av(url.substr(0, sep)));
  std::string_view rest = url.substr(sep + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.empty() || authority.find('@') != std::string_view::npos) {
    return std::nullopt;
  }
  size_t colon = authority.rfind(':');
  size_t bracket = authority.rfind(']');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    origin.host = std::string(authority.substr(0, colon));
    origin.port = std::string(authority.substr(colon + 1));
  } else {
    origin.host = std::string(authority);
  }
  origin.host = absl::AsciiStrToLower(origin.host);
  if (origin.port.empty()) {
    origin.port = origin.scheme == "https" ? "443" : "80";
  }
  return origin;
}

// ARM's answers to a stale bearer token; a fresh token cures them.
bool IsStaleTokenCode(std::string_view code) {
  return absl::EqualsIgnoreCase(Av(code), "ExpiredAuthenticationToken") ||
         absl::EqualsIgnoreCase(Av(code), "InvalidAuthenticationToken");
}

}  // namespace

absl::Status ArmClientImpl::CheckUrlOrigin(std::string_view url) const {
  std::optional<Origin> want = OriginOf(options_.endpoint);
  std::optional<Origin> got = OriginOf(url);
  if (want.has_value() && got.has_value() && got->scheme == want->scheme &&
      got->port == want->port &&
      (got->host == want->host || absl::EndsWith(got->host, absl::StrCat(".", want->host)))) {
    return absl::OkStatus();
  }
  // The URL came from a response header or body; never send our bearer token elsewhere.
  return absl::InternalError(absl::StrCat("refusing to send the ARM token to ",
                                          Av(url.substr(0, 200)), ": not on the ARM endpoint ",
                                          options_.endpoint));
}

absl::StatusOr<ArmClientImpl::Answer> ArmClientImpl::Send(const Call& call,
                                                          absl::Duration* budget) {
  KUS_RETURN_IF_ERROR(CheckUrlOrigin(call.url));
  const std::string client_request_id = NewRequestId();
  bool token_refreshed = false;
  int retries = 0;
  for (int attempt = 1;; ++attempt) {
    KUS_RETURN_IF_ERROR(limiter_.Acquire(call.subscription, call.op_type, budget));
    KUS_ASSIGN_OR_RETURN(AccessToken token, tokens_.GetToken());
    absl::StatusOr<HttpResponse> response = SendOnce(call, token.token, client_request_id, attempt);
    absl::Status error;
    std::optional<absl::Duration> server_wait;
    if (!response.ok()) {
      error = MapTransportError(call.method, call.url, response.status(), client_request_id);
      if (!IsRetryableTransportError(response.status())) {
        return error;
      }
    } else {
      int code = response->status;
      if (code < 400 || std::count(call.pass_through.begin(), call.pass_through.end(), code) > 0) {
        return Answer{*std::move(response), client_request_id};
      }
      error = MapArmError(call.method, call.url, *response, client_request_id);
      if (code == 401 && !token_refreshed && IsStaleTokenCode(GetArmErrorCode(error))) {
        token_refreshed = true;
        logger_.Info(
            "ARM rejected the bearer token; refreshing it and retrying once",
            {{"client_request_id", client_request_id}, {"arm_code", GetArmErrorCode(error)}});
        tokens_.Invalidate();
        continue;
      }
      if (!IsRetryableHttpStatus(code)) {
        return error;
      }
      server_wait = ParseRetryAfter(response->headers);
      if (code == 429 && server_wait.has_value()) {
        // ARM's throttling answer (it always says when to come back): its bucket is empty for
        // the whole subscription, so hold back every caller. A 429 without Retry-After is not
        // ARM's bucket (a resource provider's own "busy"): only this request backs off.
        limiter_.ObserveThrottled(call.subscription, call.op_type, *server_wait);
      }
    }
    absl::Duration wait = RetryBackoff(options_.retry, retries, server_wait, JitterSample());
    if (attempt >= options_.retry.max_attempts || wait > *budget) {
      SetRetryAfter(error, wait);
      return error;
    }
    logger_.Warn("ARM request failed; retrying", {{"client_request_id", client_request_id},
                                                  {"attempt", std::to_string(attempt)},
                                                  {"wait", absl::FormatDuration(wait)},
                                                  {"error", std::string(error.message())}});
    clock_.SleepFor(wait);
    *budget -= wait;
    ++retries;
  }
}

absl::StatusOr<HttpResponse> ArmClientImpl::SendOnce(const Call& call, const std::string& token,
                                                     const std::string& client_request_id,
                                                     int attempt) {
  HttpRequest request;
  request.method = call.method;
  request.url = call.url;
  request.timeout = options_.request_timeout;
  request.headers = {{"Authorization", absl::StrCat("Bearer ", token)},
                     {"x-ms-client-request-id", client_request_id},
                     {"Accept", "application/json"},
                     {"User-Agent", options_.user_agent}};
  if (!call.correlation_id.empty()) {
    request.headers.emplace_back("x-ms-correlation-request-id", call.correlation_id);
  }
  if (!call.body.empty()) {
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = call.body;
  }
  absl::Time start = clock_.Now();
  absl::StatusOr<HttpResponse> response = transport_.Send(request);
  absl::Duration latency = clock_.Now() - start;
  int code = response.ok() ? response->status : 0;
  if (hooks_.on_request) {
    hooks_.on_request(call.method, code, latency);
  }
  if (code == 429 && hooks_.on_throttled) {
    hooks_.on_throttled();
  }
  if (response.ok()) {
    limiter_.ObserveHeaders(call.subscription, response->headers);
  }
  if (logger_.Enabled(LogLevel::kDebug)) {
    LogFields fields = {{"method", call.method},
                        {"path", UrlPathForLog(call.url)},
                        {"status", std::to_string(code)},
                        {"attempt", std::to_string(attempt)},
                        {"latency", absl::FormatDuration(latency)},
                        {"client_request_id", client_request_id}};
    if (!call.correlation_id.empty()) {
      fields.emplace_back("correlation_id", call.correlation_id);
    }
    if (!response.ok()) {
      fields.emplace_back("error", std::string(response.status().message()));
    }
    logger_.Debug("ARM request", fields);
  }
  return response;
}

std::string ArmClientImpl::NewRequestId() {
  std::lock_guard<std::mutex> lock(rng_mu_);
  return NewGuid(rng_);
}

double ArmClientImpl::JitterSample() {
  std::lock_guard<std::mutex> lock(rng_mu_);
  return absl::Uniform<double>(absl::IntervalClosed, rng_, -1.0, 1.0);
}

std::string ArmClientImpl::Url(std::string_view path, std::string_view api_version) const {
  return absl::StrCat(options_.endpoint, Av(path), "?api-version=", Av(api_version));
}

}  // namespace kustodian
