// ArmClient: the daemon's view of the Azure Resource Manager data-connection API. The real
// implementation (arm_client_impl.h) speaks HTTP through HttpTransport with credentials,
// retries, a client-side token bucket and metrics; tests use tests/fakes/fake_arm_client.h.
//
// Long-running operations never block: Put/Delete return the operation handle when ARM answers
// asynchronously, and Poll() answers "done" or "ask again after T".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "src/core/arm_id.h"
#include "src/model/data_connection.h"

namespace kustodian {

// A long-running operation in flight.
struct ArmOperation {
  enum class Verb { kPut, kDelete, kValidate };
  Verb verb = Verb::kPut;
  DataConnectionId id;
  std::string async_url;       // Azure-AsyncOperation header (spaces encoded), or ""
  std::string location_url;    // Location header, or ""
  std::string api_version;     // api-version of the call that started it
  std::string correlation_id;  // x-ms-correlation-request-id sent with the write
  absl::Time started;
  int polls = 0;  // number of polls made so far (drives the backoff)
  // The Retry-After of the answer that started it, when ARM sent one: when to poll first.
  std::optional<absl::Duration> first_poll_after;
};

// The HTTP method of an operation's verb: "PUT", "DELETE" or "POST" (validation).
std::string_view ArmVerbName(ArmOperation::Verb verb);

// The outcome of Put or Delete.
struct WriteResult {
  // Present when ARM answered with a body (PUT 200/201); its provisioningState may be
  // non-terminal ("Creating", "Accepted").
  std::optional<LiveConnection> resource;
  // Present when the operation is still running and must be polled.
  std::optional<ArmOperation> operation;
  bool existed = true;  // DELETE only: false when ARM answered 204 (nothing to delete)
  std::string client_request_id;
  std::string correlation_id;
};

struct PollResult {
  bool done = false;
  // When !done: when to poll again (Retry-After if sent, else the client's backoff).
  absl::Duration retry_after = absl::ZeroDuration();
  // When done: OK on success, or the operation's error (InvalidArgument for a [BadRequest]
  // failure, Aborted for Canceled, Internal otherwise) with ARM's code attached.
  absl::Status outcome;
  // When done after a PUT: the resource as read back with a GET. Absent when that read failed
  // (e.g. throttled): the operation's outcome still stands; read the resource later.
  std::optional<LiveConnection> resource;
};

// Thread-safe in every implementation. Every call returns NotFound (404), Aborted (409),
// Unavailable (429, 5xx, transport; Retry-After attached), InvalidArgument (400),
// Unauthenticated (401) or PermissionDenied (403), with ARM's error code attached.
class ArmClient {
 public:
  virtual ~ArmClient() = default;
  // GET one connection. NotFound when it does not exist.
  virtual absl::StatusOr<LiveConnection> Get(const DataConnectionId& id) = 0;
  // LIST every connection of a database (follows nextLink).
  virtual absl::StatusOr<std::vector<LiveConnection>> List(const DatabaseId& db) = 0;
  // PUT (create or update) the desired spec.
  virtual absl::StatusOr<WriteResult> Put(const DataConnectionSpec& spec) = 0;
  // DELETE. A missing connection (204) is success with existed=false.
  virtual absl::StatusOr<WriteResult> Delete(const DataConnectionId& id) = 0;
  // Polls an operation once. Never sleeps.
  virtual absl::StatusOr<PollResult> Poll(const ArmOperation& op) = 0;
  // POST dataConnectionValidation, waiting for the result (polls with Clock::SleepFor; for the
  // CLI, never for reconcile workers). Returns the service's error messages; empty = valid.
  virtual absl::StatusOr<std::vector<std::string>> Validate(const DataConnectionSpec& spec) = 0;
};

}  // namespace kustodian
