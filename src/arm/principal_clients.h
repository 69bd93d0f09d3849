// ArmClients that act as another identity than the daemon's own: Kubernetes mode's
// spec.credentialRef names a service principal (tenant, client id, client secret) per resource,
// and that resource's writes go to ARM as that principal. A PrincipalClientFactory makes one
// ArmClient per principal, with its own client-credentials token (the cloud's Entra ID token
// endpoint) and its own client-side rate limits (ARM throttles per principal).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "src/arm/arm_client.h"
#include "src/arm/arm_client_impl.h"
#include "src/arm/credentials.h"
#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/http/http.h"

namespace kustodian {

// A service principal with a client secret. The secret is never logged nor put in a message.
struct ServicePrincipal {
  std::string tenant_id;
  std::string client_id;
  std::string client_secret;

  bool operator==(const ServicePrincipal&) const = default;
};

// Thread-safe in every implementation.
class PrincipalClientFactory {
 public:
  virtual ~PrincipalClientFactory() = default;
  // A new ArmClient that authenticates as `principal`. InvalidArgument when a field is empty.
  virtual absl::StatusOr<std::unique_ptr<ArmClient>> ForPrincipal(
      const ServicePrincipal& principal) = 0;
};

// The real factory: an AadTokenSource (client secret, `authority_host`, `scope`) and an
// ArmClientImpl with `options` and `hooks`, both over `transport` (which must not allow plain
// http beyond loopback: the secret travels on it). References must outlive the factory and
// every client it made.
class ArmPrincipalClientFactory final : public PrincipalClientFactory {
 public:
  struct Config {
    ArmClientOptions options;
    ArmClientHooks hooks;
    std::string authority_host;  // e.g. https://login.microsoftonline.com (trailing '/' allowed)
    std::string scope;           // e.g. https://management.azure.com/.default
  };
  ArmPrincipalClientFactory(Config config, HttpTransport& transport, Clock& clock, Logger& logger);

  absl::StatusOr<std::unique_ptr<ArmClient>> ForPrincipal(
      const ServicePrincipal& principal) override;

 private:
  const Config config_;
  HttpTransport& transport_;
  Clock& clock_;
  Logger& logger_;
};

// An ArmClient that forwards to `client` and can make clients for other principals through
// `principals` (the daemon's client as the composition root builds it: the Kubernetes mode
// discovers the factory with a dynamic_cast, so the Manager's dependencies stay one ArmClient).
class ArmClientWithPrincipals final : public ArmClient, public PrincipalClientFactory {
 public:
  ArmClientWithPrincipals(std::unique_ptr<ArmClient> client,
                          std::unique_ptr<PrincipalClientFactory> principals)
      : client_(std::move(client)), principals_(std::move(principals)) {}

  absl::StatusOr<LiveConnection> Get(const DataConnectionId& id) override {
    return client_->Get(id);
  }
  absl::StatusOr<std::vector<LiveConnection>> List(const DatabaseId& db) override {
    return client_->List(db);
  }
  absl::StatusOr<ListAnswer> ListIfChanged(const DatabaseId& db,
                                           const ListFingerprint* previous) override {
    return client_->ListIfChanged(db, previous);
  }
  absl::StatusOr<WriteResult> Put(const DataConnectionSpec& spec) override {
    return client_->Put(spec);
  }
  absl::StatusOr<WriteResult> Delete(const DataConnectionId& id) override {
    return client_->Delete(id);
  }
  absl::StatusOr<PollResult> Poll(const ArmOperation& op) override { return client_->Poll(op); }
  absl::StatusOr<std::vector<std::string>> Validate(const DataConnectionSpec& spec) override {
    return client_->Validate(spec);
  }
  absl::StatusOr<std::unique_ptr<ArmClient>> ForPrincipal(
      const ServicePrincipal& principal) override {
    return principals_->ForPrincipal(principal);
  }

 private:
  std::unique_ptr<ArmClient> client_;
  std::unique_ptr<PrincipalClientFactory> principals_;
};

}  // namespace kustodian
