#include <algorithm>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "nlohmann/json.hpp"
#include "src/arm/error_mapping.h"
#include "src/arm/token_sources.h"
#include "src/core/status.h"
#include "src/core/strings.h"

namespace kustodian {
namespace {

constexpr absl::Duration kRefreshMargin = absl::Minutes(5);
constexpr absl::Duration kMinUsableOnFailure = absl::Seconds(30);
// Assumed lifetime when a token response states none.
constexpr absl::Duration kDefaultLifetime = absl::Minutes(10);

// An integer from a JSON number or a numeric string (IMDS sends strings).
std::optional<int64_t> JsonInt(const nlohmann::json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end()) {
    return std::nullopt;
  }
  if (it->is_number_integer()) {
    return it->get<int64_t>();
  }
  if (it->is_number()) {
    return static_cast<int64_t>(it->get<double>());
  }
  int64_t value = 0;
  if (it->is_string() &&
      absl::SimpleAtoi(absl::StripAsciiWhitespace(it->get<std::string>()), &value)) {
    return value;
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<AccessToken> ParseTokenResponse(std::string_view body, absl::Time now) {
  nlohmann::json json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return absl::UnauthenticatedError("token response is not a JSON object");
  }
  auto token = json.find("access_token");
  if (token == json.end() || !token->is_string() || token->get<std::string>().empty()) {
    return absl::UnauthenticatedError("token response has no access_token");
  }
  AccessToken out;
  out.token = token->get<std::string>();
  if (std::optional<int64_t> expires_in = JsonInt(json, "expires_in")) {
    out.expires_on = now + absl::Seconds(*expires_in);
  } else if (std::optional<int64_t> expires_on = JsonInt(json, "expires_on")) {
    out.expires_on = absl::FromUnixSeconds(*expires_on);
  } else {
    out.expires_on = now + kDefaultLifetime;
  }
  return out;
}

absl::Status TokenEndpointError(std::string_view who, const HttpResponse& response,
                                bool transient) {
  nlohmann::json json = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  std::string error;
  std::string description;
  std::string code;
  if (json.is_object()) {
    if (auto it = json.find("error"); it != json.end() && it->is_string()) {
      error = it->get<std::string>();
    }
    if (auto it = json.find("error_description"); it != json.end() && it->is_string()) {
      description = it->get<std::string>();
    }
    if (auto it = json.find("error_codes");
        it != json.end() && it->is_array() && !it->empty() && (*it)[0].is_number_integer()) {
      code = absl::StrCat("AADSTS", (*it)[0].get<int64_t>());
    }
  }
  if (code.empty()) {
    size_t pos = description.find("AADSTS");
    if (pos != std::string::npos) {
      size_t end = pos + 6;
      while (end < description.size() && absl::ascii_isdigit(description[end])) {
        ++end;
      }
      code = description.substr(pos, end - pos);
    }
  }
  std::string message = absl::StrCat(Av(who), " answered ", response.status);
  if (!error.empty()) {
    absl::StrAppend(&message, " ", error);
  }
  if (!description.empty()) {
    // Entra ID descriptions span lines ("Trace ID: ..."); keep the log line on one line.
    absl::StrAppend(&message, ": ", absl::StrReplaceAll(description, {{"\r\n", " "}, {"\n", " "}}));
  }
  absl::Status status =
      transient ? absl::UnavailableError(message) : absl::UnauthenticatedError(message);
  SetArmErrorCode(status, code.empty() ? error : code);
  if (std::optional<absl::Duration> wait = ParseRetryAfter(response.headers)) {
    SetRetryAfter(status, *wait);
  }
  return status;
}

absl::StatusOr<AccessToken> CachingTokenSource::GetToken() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cached_.has_value() && clock_.Now() < cached_->refresh_at) {
      return cached_->token;
    }
  }
  std::lock_guard<std::mutex> refresh_lock(refresh_mu_);
  {
    // Another caller may have refreshed while we waited for refresh_mu_.
    std::lock_guard<std::mutex> lock(mu_);
    if (cached_.has_value() && clock_.Now() < cached_->refresh_at) {
      return cached_->token;
    }
  }
  absl::StatusOr<AccessToken> fetched = Fetch();
  std::lock_guard<std::mutex> lock(mu_);
  absl::Time now = clock_.Now();
  if (!fetched.ok()) {
    if (cached_.has_value() && cached_->token.expires_on - now >= kMinUsableOnFailure) {
      return cached_->token;
    }
    return fetched.status();
  }
  absl::Duration lifetime = fetched->expires_on - now;
  absl::Duration margin = std::min(kRefreshMargin, lifetime / 2);
  cached_ = Cached{*fetched, fetched->expires_on - margin};
  return *fetched;
}

void CachingTokenSource::Invalidate() {
  std::lock_guard<std::mutex> lock(mu_);
  cached_.reset();
}

}  // namespace kustodian
