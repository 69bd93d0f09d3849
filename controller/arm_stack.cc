#include "controller/arm_stack.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "src/arm/principal_clients.h"
#include "src/core/status.h"
#include "src/metrics/kustodian_metrics.h"

namespace kustodian {

ArmClientHooks ArmMetricsHooks(KustodianMetrics& metrics) {
  ArmClientHooks hooks;
  hooks.on_request = [&metrics](const std::string& method, int code, absl::Duration latency) {
    metrics.ArmRequest(method, code).Inc();
    metrics.arm_request_duration.WithLabels({method}).Observe(absl::ToDoubleSeconds(latency));
  };
  hooks.on_throttled = [&metrics] { metrics.arm_throttled.Inc(); };
  return hooks;
}

absl::StatusOr<ArmStack> BuildArmStack(const ArmFlags& flags, Clock& clock, Logger& logger,
                                       KustodianMetrics* metrics) {
  KUS_RETURN_IF_ERROR(ValidateArmFlags(flags));
  KUS_ASSIGN_OR_RETURN(CloudConfig cloud, CloudByName(flags.cloud));
  ArmStack stack;
  TransportOptions transport_options;
  transport_options.verify_tls = !flags.insecure_skip_tls_verify;
  if (flags.insecure_skip_tls_verify) {
    logger.Warn(
        "--insecure-skip-tls-verify is set: TLS certificates are NOT verified; use this "
        "only against a local emulator");
  }
  stack.transport = NewHttpTransport(transport_options);

  CredentialOptions credentials;
  credentials.static_token = flags.token;
  credentials.tenant_id = flags.tenant_id;
  credentials.client_id = flags.client_id;
  if (!flags.imds_endpoint.empty()) {
    credentials.imds_endpoint = flags.imds_endpoint;
  }
  credentials = CredentialOptionsFromEnv(credentials);
  // Managed identity talks to IMDS over plain http on 169.254.169.254; only then may the
  // identity transport use plain http beyond loopback (secrets never travel on it).
  bool uses_imds = credentials.static_token.empty() && credentials.client_secret.empty() &&
                   credentials.federated_token_file.empty();
  TransportOptions identity_options = transport_options;
  identity_options.allow_plain_http_remote = uses_imds;
  stack.identity_transport = NewHttpTransport(identity_options);
  absl::StatusOr<std::unique_ptr<TokenSource>> tokens =
      NewTokenSource(credentials, cloud, *stack.identity_transport, clock);
  if (!tokens.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("credentials: ", std::string(tokens.status().message())));
  }
  stack.tokens = std::move(*tokens);

  ArmClientOptions options;
  options.endpoint = flags.endpoint.empty() ? cloud.arm_endpoint : flags.endpoint;
  while (!options.endpoint.empty() && options.endpoint.back() == '/') {
    options.endpoint.pop_back();
  }
  options.api_version = flags.api_version;
  options.rate_limit = flags.rate_limits;
  ArmClientHooks hooks;
  if (metrics != nullptr) {
    hooks = ArmMetricsHooks(*metrics);
  }
  logger.Info("ARM client", LogFields{{"endpoint", options.endpoint},
                                      {"cloud", cloud.name},
                                      {"api_version", options.api_version},
                                      {"credential", stack.tokens->Describe()}});
  // Kubernetes mode's spec.credentialRef: clients for other service principals, whose secrets
  // go to the cloud's token endpoint (or AZURE_AUTHORITY_HOST) over the ARM transport, which
  // never allows plain http beyond loopback.
  ArmPrincipalClientFactory::Config principal_config;
  principal_config.options = options;
  principal_config.hooks = hooks;
  principal_config.authority_host =
      credentials.authority_host.empty() ? cloud.authority_host : credentials.authority_host;
  principal_config.scope = cloud.arm_scope;
  auto principals = std::make_unique<ArmPrincipalClientFactory>(std::move(principal_config),
                                                                *stack.transport, clock, logger);
  stack.impl = std::make_unique<ArmClientWithPrincipals>(
      std::make_unique<ArmClientImpl>(options, *stack.transport, *stack.tokens, clock, logger,
                                      std::move(hooks)),
      std::move(principals));
  stack.client = stack.impl.get();
  return stack;
}

}  // namespace kustodian
