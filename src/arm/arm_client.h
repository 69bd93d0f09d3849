// ArmClient: the daemon's view of the Azure Resource Manager data-connection API. The real
// implementation (arm_client_impl.h) speaks HTTP through HttpTransport with credentials,
// retries, a client-side token bucket and metrics; tests use tests/fakes/fake_arm_client.h.
//
// Long-running operations never block: Put/Delete return the operation handle when ARM answers
// asynchronously, and Poll() answers "done" or "ask again after T".
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
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

// What a LIST answer looked like on the wire, page by page: enough for the next LIST of the same
// database to tell that its answer is byte-identical without decoding it.
struct ListFingerprint {
  struct Page {
    uint64_t hash = 0;      // of the raw body (not cryptographic: a cache key, not a proof)
    size_t size = 0;        // bytes of the raw body
    std::string next_link;  // the page's nextLink, "" on the last page
    bool operator==(const Page&) const = default;
  };
  std::vector<Page> pages;  // empty: unknown (compares equal to no answer)
  bool operator==(const ListFingerprint&) const = default;
};

// The outcome of ListIfChanged.
struct ListAnswer {
  // True when every page was byte-identical to the answer `previous` described (same number of
  // pages): nothing was decoded and `items` is empty; what the caller kept from then still holds.
  bool unchanged = false;
  std::vector<LiveConnection> items;  // every connection, when !unchanged
  ListFingerprint fingerprint;        // of this answer; empty when the client cannot make one
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
  // The same LIST (one request per page, as List), told apart from the answer `previous`
  // describes (nullptr or empty: always decoded). An unchanged answer is not decoded. The
  // default decodes every time and fingerprints nothing (for clients that cannot see the bytes).
  virtual absl::StatusOr<ListAnswer> ListIfChanged(const DatabaseId& db,
                                                   const ListFingerprint* previous) {
    (void)previous;
    ListAnswer answer;
    absl::StatusOr<std::vector<LiveConnection>> items = List(db);
    if (!items.ok()) {
      return items.status();
    }
    answer.items = *std::move(items);
    return answer;
  }
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
