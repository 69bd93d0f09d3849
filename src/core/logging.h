// Structured logging: human text (default) or JSON lines, with levels. Every message and field
// value passes through Redact(), so a bearer token, client secret or Authorization header can
// never reach a log line. A Logger is passed by reference from the composition root.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/core/clock.h"

namespace kustodian {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };
enum class LogFormat { kText, kJson };

// Parses "debug|info|warn|warning|error" (any case). Returns false on anything else.
bool ParseLogLevel(std::string_view s, LogLevel* out);

using LogFields = std::vector<std::pair<std::string, std::string>>;

// Removes secrets from free text: "Bearer <x>", "client_secret=<x>", "access_token"/"code"
// JSON or query values, "Authorization: <x>". Returns the scrubbed copy.
std::string Redact(std::string_view text);

// Thread-safe. Writes one line per call to the sink (stderr by default).
class Logger {
 public:
  using Sink = std::function<void(std::string_view line)>;
  Logger(LogLevel level, LogFormat format, const Clock& clock, Sink sink = nullptr);

  void Log(LogLevel level, std::string_view msg, const LogFields& fields = {});
  void Debug(std::string_view msg, const LogFields& fields = {}) {
    Log(LogLevel::kDebug, msg, fields);
  }
  void Info(std::string_view msg, const LogFields& fields = {}) {
    Log(LogLevel::kInfo, msg, fields);
  }
  void Warn(std::string_view msg, const LogFields& fields = {}) {
    Log(LogLevel::kWarning, msg, fields);
  }
  void Error(std::string_view msg, const LogFields& fields = {}) {
    Log(LogLevel::kError, msg, fields);
  }
  bool Enabled(LogLevel level) const { return level >= level_; }

  // A logger that discards everything (for tests and tools that want silence).
  static Logger& Null();

 private:
  LogLevel level_;
  LogFormat format_;
  const Clock& clock_;
  Sink sink_;
  std::mutex mu_;  // serializes sink_ calls
};

}  // namespace kustodian
