#include "src/emulator/faults.h"

#include <algorithm>
#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "src/core/strings.h"
#include "src/emulator/http_util.h"

namespace kustodian::emulator {

namespace {

struct KindName {
  FaultKind kind;
  const char* name;
};
constexpr std::array<KindName, 8> kKindNames = {{
    {FaultKind::k429, "429"},
    {FaultKind::k429NoRetryAfter, "429-no-retry-after"},
    {FaultKind::k500, "500"},
    {FaultKind::k503, "503"},
    {FaultKind::k504, "504"},
    {FaultKind::kDrop, "drop"},
    {FaultKind::kLatency, "latency"},
    {FaultKind::kLroFail, "lro-fail"},
}};

std::optional<FaultKind> ParseKindName(std::string_view name) {
  for (const KindName& k : kKindNames) {
    if (absl::EqualsIgnoreCase(Av(name), k.name)) {
      return k.kind;
    }
  }
  return std::nullopt;
}

absl::Status Invalid(std::string_view spec, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(
      "bad fault '", Av(spec), "': ", Av(what),
      " (format KIND[=ARG]:WHEN[:METHOD[:PATH]]; KIND = 429, 429-no-retry-after, 500, 503, 504, "
      "drop, latency, lro-fail; WHEN = probability 0..1 or xN)"));
}

absl::Status ApplyArg(FaultRule& rule, int64_t arg, std::string_view spec) {
  if (arg < 0) {
    return Invalid(spec, "the argument must not be negative");
  }
  if (rule.kind == FaultKind::kLatency) {
    rule.latency = absl::Milliseconds(arg);
  } else if (rule.kind == FaultKind::k429) {
    rule.retry_after_seconds = static_cast<int>(arg);
  } else {
    return Invalid(spec, "only 429 (Retry-After seconds) and latency (ms) take an argument");
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view FaultKindName(FaultKind kind) {
  for (const KindName& k : kKindNames) {
    if (k.kind == kind) {
      return k.name;
    }
  }
  return "?";
}

absl::StatusOr<FaultRule> ParseFaultSpec(std::string_view spec) {
  std::vector<std::string> parts = absl::StrSplit(Av(spec), absl::MaxSplits(':', 3));
  if (parts.size() < 2) {
    return Invalid(spec, "missing ':WHEN'");
  }
  FaultRule rule;
  std::string kind_text = parts[0];
  std::string arg_text;
  size_t eq = kind_text.find('=');
  if (eq != std::string::npos) {
    arg_text = kind_text.substr(eq + 1);
    kind_text = kind_text.substr(0, eq);
  }
  std::optional<FaultKind> kind = ParseKindName(kind_text);
  if (!kind.has_value()) {
    return Invalid(spec, absl::StrCat("unknown kind '", kind_text, "'"));
  }
  rule.kind = *kind;
  if (!arg_text.empty()) {
    int64_t arg = 0;
    if (!absl::SimpleAtoi(arg_text, &arg)) {
      return Invalid(spec, absl::StrCat("'", arg_text, "' is not an integer"));
    }
    absl::Status st = ApplyArg(rule, arg, spec);
    if (!st.ok()) {
      return st;
    }
  } else if (rule.kind == FaultKind::kLatency) {
    return Invalid(spec, "latency needs =MILLISECONDS");
  }
  const std::string& when = parts[1];
  if (!when.empty() && (when[0] == 'x' || when[0] == 'X')) {
    if (!absl::SimpleAtoi(when.substr(1), &rule.count) || rule.count <= 0) {
      return Invalid(spec, absl::StrCat("'", when, "' is not xN with N >= 1"));
    }
  } else if (!absl::SimpleAtod(when, &rule.probability) || rule.probability < 0 ||
             rule.probability > 1) {
    return Invalid(spec, absl::StrCat("'", when, "' is not a probability in [0,1] or xN"));
  }
  if (parts.size() > 2 && parts[2] != "*") {
    rule.method = absl::AsciiStrToUpper(parts[2]);
  }
  if (parts.size() > 3) {
    rule.path_contains = parts[3];
  }
  return rule;
}

absl::StatusOr<std::vector<FaultRule>> FaultRulesFromJson(const nlohmann::json& body) {
  std::vector<FaultRule> rules;
  if (body.is_array()) {
    for (const auto& item : body) {
      absl::StatusOr<std::vector<FaultRule>> one = FaultRulesFromJson(item);
      if (!one.ok()) {
        return one.status();
      }
      rules.insert(rules.end(), one->begin(), one->end());
    }
    return rules;
  }
  if (!body.is_object()) {
    return absl::InvalidArgumentError("a fault must be a JSON object or an array of them");
  }
  try {
    if (body.contains("spec")) {
      absl::StatusOr<FaultRule> rule = ParseFaultSpec(body.at("spec").get<std::string>());
      if (!rule.ok()) {
        return rule.status();
      }
      rules.push_back(*rule);
      return rules;
    }
    FaultRule rule;
    std::string kind = body.at("kind").is_number() ? std::to_string(body.at("kind").get<int>())
                                                   : body.at("kind").get<std::string>();
    std::optional<FaultKind> parsed = ParseKindName(kind);
    if (!parsed.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown fault kind '", kind, "'"));
    }
    rule.kind = *parsed;
    rule.probability = body.value("probability", 1.0);
    rule.count = body.value("count", 0);
    rule.method = absl::AsciiStrToUpper(body.value("method", std::string()));
    if (rule.method == "*") {
      rule.method.clear();
    }
    rule.path_contains = body.value("path", std::string());
    rule.latency = absl::Milliseconds(body.value("latencyMs", 0));
    rule.retry_after_seconds = body.value("retryAfter", 1);
    if (rule.probability < 0 || rule.probability > 1 || rule.count < 0) {
      return absl::InvalidArgumentError("probability must be in [0,1] and count >= 0");
    }
    rules.push_back(rule);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("bad fault JSON: ", e.what()));
  }
  return rules;
}

nlohmann::json FaultRuleToJson(const FaultRule& rule) {
  nlohmann::json out = {{"id", rule.id},
                        {"kind", std::string(FaultKindName(rule.kind))},
                        {"probability", rule.probability},
                        {"count", rule.count},
                        {"method", rule.method},
                        {"path", rule.path_contains}};
  if (rule.kind == FaultKind::kLatency) {
    out["latencyMs"] = absl::ToInt64Milliseconds(rule.latency);
  }
  if (rule.kind == FaultKind::k429) {
    out["retryAfter"] = rule.retry_after_seconds;
  }
  return out;
}

int FaultInjector::Add(FaultRule rule) {
  rule.id = next_id_++;
  rules_.push_back(rule);
  return rule.id;
}

bool FaultInjector::Fires(FaultRule& rule, std::string_view method, std::string_view path,
                          RandomSource& rng) {
  if (!rule.method.empty() && !absl::EqualsIgnoreCase(rule.method, Av(method))) {
    return false;
  }
  if (!rule.path_contains.empty() &&
      !absl::StrContains(absl::AsciiStrToLower(Av(path)),
                         absl::AsciiStrToLower(rule.path_contains))) {
    return false;
  }
  if (rule.count > 0) {
    --rule.count;
    if (rule.count == 0) {
      rule.count = -1;  // used up; removed by DropExpired
    }
    return true;
  }
  if (rule.count < 0) {
    return false;
  }
  return rule.probability >= 1.0 || rng.Uniform() < rule.probability;
}

void FaultInjector::DropExpired() {
  rules_.erase(
      std::remove_if(rules_.begin(), rules_.end(), [](const FaultRule& r) { return r.count < 0; }),
      rules_.end());
}

FaultDecision FaultInjector::Decide(std::string_view method, std::string_view path,
                                    RandomSource& rng) {
  FaultDecision decision;
  for (FaultRule& rule : rules_) {
    if (rule.kind == FaultKind::kLroFail) {
      continue;
    }
    bool is_latency = rule.kind == FaultKind::kLatency;
    if (!is_latency && decision.error.has_value()) {
      continue;  // one error per request; later rules keep their budget
    }
    if (!Fires(rule, method, path, rng)) {
      continue;
    }
    if (is_latency) {
      decision.latency += rule.latency;
    } else {
      decision.error = rule;
    }
  }
  DropExpired();
  return decision;
}

bool FaultInjector::TakeLroFailure(std::string_view method, std::string_view path,
                                   RandomSource& rng) {
  bool fired = false;
  for (FaultRule& rule : rules_) {
    if (rule.kind == FaultKind::kLroFail && Fires(rule, method, path, rng)) {
      fired = true;
      break;
    }
  }
  DropExpired();
  return fired;
}

ServerResponse FaultResponse(const FaultRule& rule) {
  ServerResponse response;
  switch (rule.kind) {
    case FaultKind::k429:
    case FaultKind::k429NoRetryAfter:
      response = ErrorResponse(ArmStatus(
          absl::StatusCode::kResourceExhausted, "TooManyRequests",
          "The request is being throttled as the limit has been reached for this operation "
          "type (injected fault)."));
      if (rule.kind == FaultKind::k429) {
        response.headers.emplace_back("Retry-After", std::to_string(rule.retry_after_seconds));
      }
      return response;
    case FaultKind::k503:
      return ErrorResponse(ArmStatus(absl::StatusCode::kUnavailable, "ServiceUnavailable",
                                     "The service is currently unavailable. Please try again "
                                     "later (injected fault)."));
    case FaultKind::k504:
      return ErrorResponse(ArmStatus(absl::StatusCode::kDeadlineExceeded, "GatewayTimeout",
                                     "The gateway did not receive a response from "
                                     "'Microsoft.Kusto' within the specified time period "
                                     "(injected fault)."));
    case FaultKind::kDrop:
      response.status = 0;
      response.drop_connection = true;
      return response;
    case FaultKind::k500:
    case FaultKind::kLatency:
    case FaultKind::kLroFail:
      break;
  }
  return ErrorResponse(ArmStatus(absl::StatusCode::kInternal, "InternalServerError",
                                 "Encountered internal server error (injected fault)."));
}

}  // namespace kustodian::emulator
