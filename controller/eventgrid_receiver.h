// EventGridReceiver: the daemon's Event Grid webhook (issue 5). Its own HTTP listener serves
// /eventgrid for Azure resource events in the Event Grid schema and in CloudEvents 1.0:
//   - every request must carry the shared secret (?code= or the X-Kustodian-Eventgrid-Secret
//     header), compared in constant time; anything else is 401;
//   - the Event Grid validation handshake gets 200 {"validationResponse": code}; the CloudEvents
//     OPTIONS preflight gets WebHook-Allowed-Origin;
//   - a ResourceWriteSuccess / ResourceDeleteSuccess for a data connection we manage asks the
//     reconciler to confirm the key with one GET and enqueues it (after a short coalescing
//     window); one for a database or cluster of ours re-LISTs those databases; the daemon's own
//     writes (recognised by correlation id) and everything else are counted and dropped.
// Drift events are hints, never trusted as state: the reconciler reads ARM before acting.
// docs/eventgrid.md describes the subscription side.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "controller/eventgrid_coalescer.h"
#include "controller/eventgrid_options.h"
#include "controller/eventgrid_own_writes.h"
#include "controller/eventgrid_payload.h"
#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/http/server.h"

namespace kustodian {

struct KustodianMetrics;

// kustodian_eventgrid_events_total{outcome} values.
inline constexpr char kEgEnqueued[] = "enqueued";      // a reconcile of a managed key was asked
inline constexpr char kEgRelisted[] = "relisted";      // a database/cluster of ours is re-LISTed
inline constexpr char kEgOwnWrite[] = "own_write";     // caused by the daemon's own PUT/DELETE
inline constexpr char kEgDuplicate[] = "duplicate";    // an event id seen before (redelivery)
inline constexpr char kEgIgnored[] = "ignored";        // other types, resources not managed
inline constexpr char kEgValidation[] = "validation";  // handshake or CloudEvents preflight
inline constexpr char kEgUnauthorized[] = "unauthorized";  // 401 (per request)
inline constexpr char kEgMalformed[] = "malformed";        // 400 (per request)
inline constexpr char kEgTooLarge[] = "too_large";         // 413 (per request)
inline constexpr char kEgInvalid[] = "invalid";            // 405 / 404 (per request)

// What the receiver works with; every reference must outlive it.
struct EventGridReceiverDeps {
  Clock& clock;
  Logger& logger;
  KustodianMetrics* metrics = nullptr;
  OwnWrites& own_writes;
  // True when the daemon manages `key` (a DataConnectionId::Key()): desired or journaled.
  std::function<bool(const std::string& key)> is_managed;
  // Confirm `key` with one GET on its next pass, and enqueue it now.
  std::function<void(const std::string& key)> reconcile;
  // True when some managed key lies under `scope` (a database or cluster key, lower case).
  std::function<bool(const std::string& scope)> manages_scope;
  // LIST every known database under `scope` soon (and enqueue their keys).
  std::function<void(const std::string& scope)> relist;
};

// Thread-safe: Handle runs on the HTTP server's threads.
class EventGridReceiver {
 public:
  // `options` must have no EventGridOptionProblems.
  EventGridReceiver(EventGridOptions options, EventGridReceiverDeps deps);
  ~EventGridReceiver();  // Stop()s
  EventGridReceiver(const EventGridReceiver&) = delete;
  EventGridReceiver& operator=(const EventGridReceiver&) = delete;

  // Starts the coalescing timer and binds options.bind_address. Unavailable naming the flag
  // when it cannot bind.
  absl::Status Start();
  // Stops the listener and the timer (waiting events are dropped: the resync loop covers them).
  void Stop();
  int port() const { return port_; }

  // The whole HTTP contract of /eventgrid (public for tests; needs no Start).
  ServerResponse Handle(const ServerRequest& request);
  // Fires coalesced keys whose time has come (tests with a FakeClock; Start runs a timer).
  int FireDue() { return coalescer_.FireDue(); }
  int PendingKeys() const { return coalescer_.Pending(); }

 private:
  ServerResponse HandleOptions(const ServerRequest& request);
  ServerResponse HandlePost(const ServerRequest& request);
  // Decides one resource event; returns the outcome ("" when parked: counted later).
  std::string Dispatch(const EventGridEvent& event, const std::string& type_label);
  void TriggerKey(const std::string& key);
  void Fire(const std::string& coalesced);
  void Count(const std::string& type_label, std::string_view outcome);
  bool Authorized(const ServerRequest& request) const;

  const EventGridOptions options_;
  EventGridReceiverDeps deps_;
  RecentSet seen_events_;  // event ids (+ key) already handled: redeliveries
  EventCoalescer coalescer_;
  std::unique_ptr<HttpServer> http_;
  int port_ = 0;
};

// The bounded metric label for an event type: the known Microsoft.Resources.* and
// Microsoft.EventGrid.* types as they are, anything else "other".
std::string EventTypeLabel(std::string_view type);

}  // namespace kustodian
