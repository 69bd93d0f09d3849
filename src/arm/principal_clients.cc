#include "src/arm/principal_clients.h"

#include <utility>

#include "src/arm/token_sources.h"

namespace kustodian {
namespace {

// Owns the token source its ArmClientImpl borrows.
class PrincipalArmClient final : public ArmClient {
 public:
  PrincipalArmClient(std::unique_ptr<TokenSource> tokens, const ArmClientOptions& options,
                     const ArmClientHooks& hooks, HttpTransport& transport, Clock& clock,
                     Logger& logger)
      : tokens_(std::move(tokens)), impl_(options, transport, *tokens_, clock, logger, hooks) {}

  absl::StatusOr<LiveConnection> Get(const DataConnectionId& id) override { return impl_.Get(id); }
  absl::StatusOr<std::vector<LiveConnection>> List(const DatabaseId& db) override {
    return impl_.List(db);
  }
  absl::StatusOr<ListAnswer> ListIfChanged(const DatabaseId& db,
                                           const ListFingerprint* previous) override {
    return impl_.ListIfChanged(db, previous);
  }
  absl::StatusOr<WriteResult> Put(const DataConnectionSpec& spec) override {
    return impl_.Put(spec);
  }
  absl::StatusOr<WriteResult> Delete(const DataConnectionId& id) override {
    return impl_.Delete(id);
  }
  absl::StatusOr<PollResult> Poll(const ArmOperation& op) override { return impl_.Poll(op); }
  absl::StatusOr<std::vector<std::string>> Validate(const DataConnectionSpec& spec) override {
    return impl_.Validate(spec);
  }

 private:
  std::unique_ptr<TokenSource> tokens_;  // declared first: impl_ borrows it
  ArmClientImpl impl_;
};

}  // namespace

ArmPrincipalClientFactory::ArmPrincipalClientFactory(Config config, HttpTransport& transport,
                                                     Clock& clock, Logger& logger)
    : config_(std::move(config)), transport_(transport), clock_(clock), logger_(logger) {}

absl::StatusOr<std::unique_ptr<ArmClient>> ArmPrincipalClientFactory::ForPrincipal(
    const ServicePrincipal& principal) {
  if (principal.tenant_id.empty() || principal.client_id.empty() ||
      principal.client_secret.empty()) {
    return absl::InvalidArgumentError(
        "a service principal needs a tenant id, a client id and a client secret");
  }
  AadTokenSource::Config aad;
  aad.authority_host = config_.authority_host;
  aad.tenant_id = principal.tenant_id;
  aad.client_id = principal.client_id;
  aad.scope = config_.scope;
  aad.client_secret = principal.client_secret;
  auto tokens = std::make_unique<AadTokenSource>(std::move(aad), transport_, clock_);
  return std::unique_ptr<ArmClient>(std::make_unique<PrincipalArmClient>(
      std::move(tokens), config_.options, config_.hooks, transport_, clock_, logger_));
}

}  // namespace kustodian
