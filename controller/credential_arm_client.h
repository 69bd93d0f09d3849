// CredentialRefArmClient: the ArmClient the reconciler writes through in Kubernetes mode. Calls
// about one connection (GET to confirm, PUT, DELETE, operation polls, validation) go to ARM as
// the service principal of the owning resource's spec.credentialRef when it names a Secret, else
// as the daemon's own identity. A LIST of a database refreshes the LiveCache shared by every
// resource of that database, so it always goes out as the daemon's identity (which therefore
// needs read access there; see docs/kubernetes.md).
//
// One client per Secret, made again when the Secret's principal changes (rotation). A 401 or 403
// from Entra ID or ARM re-reads the Secret; when it changed, the call is retried once with the
// new principal (nothing was done by a refused request). Errors name the Secret, never a value.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "controller/credential_ref.h"
#include "src/arm/arm_client.h"
#include "src/arm/principal_clients.h"
#include "src/core/logging.h"

namespace kustodian {

struct CredentialRefArmClientDeps {
  ArmClient& base;  // the daemon's identity
  // Makes clients for principals; null = credentialRef cannot be used (every call for such a
  // key fails with CredentialUnavailable).
  PrincipalClientFactory* principals;
  CredentialRefs& secrets;
  // The Secret a connection key is written with; nullopt = the daemon's identity.
  std::function<std::optional<SecretRef>(const std::string& key)> resolve;
  Logger& logger;
  // Optional: wraps each principal's client (e.g. the Event Grid own-write recorder).
  std::function<std::unique_ptr<ArmClient>(ArmClient& inner)> decorate = nullptr;
};

// Thread-safe.
class CredentialRefArmClient final : public ArmClient {
 public:
  explicit CredentialRefArmClient(CredentialRefArmClientDeps deps);

  absl::StatusOr<LiveConnection> Get(const DataConnectionId& id) override;
  absl::StatusOr<std::vector<LiveConnection>> List(const DatabaseId& db) override;  // base
  absl::StatusOr<WriteResult> Put(const DataConnectionSpec& spec) override;
  absl::StatusOr<WriteResult> Delete(const DataConnectionId& id) override;
  absl::StatusOr<PollResult> Poll(const ArmOperation& op) override;
  absl::StatusOr<std::vector<std::string>> Validate(const DataConnectionSpec& spec) override;

  // Principal clients made so far (for tests).
  int clients_made() const;

 private:
  // A principal's client and its decorator, kept alive while a call uses them.
  struct Holder {
    ServicePrincipal principal;
    std::unique_ptr<ArmClient> inner;
    std::unique_ptr<ArmClient> outer;  // null when not decorated
    ArmClient& client() { return outer ? *outer : *inner; }
  };

  template <typename T>
  absl::StatusOr<T> Route(const std::string& key,
                          const std::function<absl::StatusOr<T>(ArmClient&)>& call);
  // The client for the Secret's current principal (reads the Secret when due).
  absl::StatusOr<std::shared_ptr<Holder>> ClientFor(const SecretRef& ref);

  CredentialRefArmClientDeps deps_;
  mutable std::mutex mu_;
  std::map<SecretRef, std::shared_ptr<Holder>> clients_;  // guarded by mu_
  int clients_made_ = 0;                                  // guarded by mu_
};

// `error` from a call made as the principal of `ref`, with a message that says so: a refusal by
// Entra ID (Unauthenticated from the token endpoint) gets code CredentialRejected and keeps the
// AADSTS code in the message; other errors keep their code. Payloads (Retry-After) are kept.
absl::Status AttributeToSecret(const absl::Status& error, const SecretRef& ref,
                               const std::string& client_id);

}  // namespace kustodian
