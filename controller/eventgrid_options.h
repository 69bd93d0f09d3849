// Options of the Event Grid receiver (`kustodian run --eventgrid-*`), their parsers and checks.
// Plain structs and pure functions; the flags themselves are declared in eventgrid_flags.h.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kustodian {

inline constexpr size_t kDefaultEventGridMaxBody = size_t{1} << 20;  // 1 MiB
// The HTTP server refuses bodies above this before any handler runs (src/http/server.cc).
inline constexpr size_t kEventGridMaxBodyLimit = size_t{8} << 20;
// The header that may carry the shared secret instead of ?code= (Event Grid "delivery
// attribute" headers can be static or secret).
inline constexpr char kEventGridSecretHeader[] = "X-Kustodian-Eventgrid-Secret";

struct EventGridOptions {
  // --eventgrid-bind-address: host:port of the webhook listener (path /eventgrid); "" = off.
  std::string bind_address;
  // --eventgrid-secret / KUSTODIAN_EVENTGRID_SECRET: required when the listener is on. Never
  // logged.
  std::string secret;
  size_t max_body = kDefaultEventGridMaxBody;  // --eventgrid-max-body
  // --eventgrid-coalesce: quiet period that gathers a burst of events for one key into one
  // reconcile (0 = enqueue at once); a storm wakes a key at most once per coalesce_max.
  absl::Duration coalesce = absl::Milliseconds(30);
  absl::Duration coalesce_max = absl::Milliseconds(300);

  bool enabled() const { return !bind_address.empty(); }
};

// Parses a byte size: a plain number of bytes or one with a unit (B, KB/KiB, MB/MiB; K and M
// mean KiB and MiB), e.g. "1048576", "512KiB", "1MiB". InvalidArgument "--flag: ..." otherwise.
absl::StatusOr<size_t> ParseByteSize(std::string_view flag, std::string_view text);

// One "--flag: what to fix" line per problem (empty when the options are fine): the bind
// address shape, a secret present and at least 16 characters when the listener is on, the body
// limit within 1 KiB..8 MiB, coalesce within 0..1s and coalesce_max >= coalesce.
std::vector<std::string> EventGridOptionProblems(const EventGridOptions& options);

// Constant-time equality of two secrets (the time depends only on the expected length).
bool SecretsEqual(std::string_view expected, std::string_view given);

}  // namespace kustodian
