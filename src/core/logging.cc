#include "src/core/logging.h"

#include <iostream>
#include <regex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "src/core/strings.h"

namespace kustodian {
namespace {

std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

bool NeedsQuoting(std::string_view v) {
  if (v.empty()) {
    return true;
  }
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\n' || c == '\t') {
      return true;
    }
  }
  return false;
}

}  // namespace

bool ParseLogLevel(std::string_view s, LogLevel* out) {
  std::string l = absl::AsciiStrToLower(Av(s));
  if (l == "debug") {
    *out = LogLevel::kDebug;
  } else if (l == "info") {
    *out = LogLevel::kInfo;
  } else if (l == "warn" || l == "warning") {
    *out = LogLevel::kWarning;
  } else if (l == "error") {
    *out = LogLevel::kError;
  } else {
    return false;
  }
  return true;
}

std::string Redact(std::string_view text) {
  static const std::regex* const kPatterns[] = {
      new std::regex(R"re((Bearer)\s+[A-Za-z0-9\-\._~\+/=]+)re", std::regex::icase),
      new std::regex(R"re((Authorization"?\s*[:=]\s*"?)[^",\s]+(\s+[^",\s]+)?)re",
                     std::regex::icase),
      new std::regex(
          R"re(((client_secret|access_token|refresh_token|client_assertion|code|password)"?\s*[:=]\s*"?)[^"&,\s]+)re",
          std::regex::icase),
  };
  std::string out(text);
  out = std::regex_replace(out, *kPatterns[0], "$1 [REDACTED]");
  out = std::regex_replace(out, *kPatterns[1], "$1[REDACTED]");
  out = std::regex_replace(out, *kPatterns[2], "$1[REDACTED]");
  return out;
}

Logger::Logger(LogLevel level, LogFormat format, const Clock& clock, Sink sink)
    : level_(level), format_(format), clock_(clock), sink_(std::move(sink)) {
  if (!sink_) {
    sink_ = [](std::string_view line) { std::cerr << line << '\n' << std::flush; };
  }
}

void Logger::Log(LogLevel level, std::string_view msg, const LogFields& fields) {
  if (!Enabled(level)) {
    return;
  }
  std::string ts = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", clock_.Now(), absl::UTCTimeZone());
  std::string line;
  if (format_ == LogFormat::kJson) {
    nlohmann::json j = {{"ts", ts}, {"level", LevelName(level)}, {"msg", Redact(msg)}};
    for (const auto& [k, v] : fields) {
      j[k] = Redact(v);
    }
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = absl::StrCat(ts, " ", absl::AsciiStrToUpper(Av(LevelName(level))), " ", Redact(msg));
    for (const auto& [k, v] : fields) {
      std::string value = Redact(v);
      if (NeedsQuoting(value)) {
        value =
            nlohmann::json(value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      }
      absl::StrAppend(&line, " ", k, "=", value);
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  sink_(line);
}

Logger& Logger::Null() {
  static RealClock* clock = new RealClock();
  static Logger* logger =
      new Logger(LogLevel::kError, LogFormat::kText, *clock, [](std::string_view) {});
  return *logger;
}

}  // namespace kustodian
