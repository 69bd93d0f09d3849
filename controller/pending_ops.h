// PendingOps: the ARM long-running operations the reconciler has started and not yet seen
// finish, by key. The reconciler polls each once per pass instead of waiting; status and
// `kustodian status` show them.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "src/arm/arm_client.h"

namespace kustodian {

struct PendingOp {
  ArmOperation op;
  bool creating = false;  // a PUT that creates the connection
  bool recreate = false;  // a DELETE that the re-creation of the connection follows
  std::string spec_hash;  // SpecHash of the spec a PUT applies ("" for a plain DELETE)

  // "PUT https://host/path" with the query string removed (and secrets redacted), for status.
  std::string Describe() const;
};


// Thread-safe.
class PendingOps {
 public:
  PendingOps() = default;
  PendingOps(const PendingOps&) = delete;
  PendingOps& operator=(const PendingOps&) = delete;

  // Records (or replaces) the operation of `key`.
  void Put(const std::string& key, PendingOp op);
  // The operation of `key`, or nullopt.
  std::optional<PendingOp> Get(const std::string& key) const;
  bool Contains(const std::string& key) const;
  // Forgets the operation of `key`; returns false when there was none.
  bool Erase(const std::string& key);
  // Adds one to op.polls of `key` (drives the client's poll backoff).
  void CountPoll(const std::string& key);
  // Every operation, by key.
  std::map<std::string, PendingOp> All() const;
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, PendingOp> ops_;  // guarded by mu_
};

}  // namespace kustodian
