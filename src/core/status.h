// Status helpers shared by every module: early-return macros and the typed payloads that carry
// a Retry-After hint and ARM's own error code through absl::Status.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

#define KUS_CONCAT_INNER_(a, b) a##b
#define KUS_CONCAT_(a, b) KUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function when `expr` (an absl::Status) is not OK.
#define KUS_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::absl::Status kus_status_ = (expr);       \
    if (!kus_status_.ok()) return kus_status_; \
  } while (0)

// Evaluates `rexpr` (an absl::StatusOr<T>); returns its status on error, else moves the value
// into `lhs` (which may be a declaration, e.g. `auto x`).
#define KUS_ASSIGN_OR_RETURN(lhs, rexpr) \
  KUS_ASSIGN_OR_RETURN_IMPL_(KUS_CONCAT_(kus_statusor_, __LINE__), lhs, rexpr)
#define KUS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                               \
  if (!tmp.ok()) return std::move(tmp).status();    \
  lhs = std::move(tmp).value()

namespace kustodian {

// Attaches a server-suggested wait (HTTP Retry-After) to a status, usually Unavailable.
void SetRetryAfter(absl::Status& status, absl::Duration wait);
// The wait attached by SetRetryAfter, if any.
std::optional<absl::Duration> GetRetryAfter(const absl::Status& status);

// Attaches ARM's error code (e.g. "ResourceNotFound", "RequestConflict") to a status.
void SetArmErrorCode(absl::Status& status, std::string_view code);
// The ARM error code attached by SetArmErrorCode, or "" when none.
std::string GetArmErrorCode(const absl::Status& status);

// True for errors that a later attempt may cure: Unavailable, DeadlineExceeded, Aborted,
// ResourceExhausted. InvalidArgument, NotFound, PermissionDenied and the like are terminal.
bool IsRetryable(const absl::Status& status);

}  // namespace kustodian
