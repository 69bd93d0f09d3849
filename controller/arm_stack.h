// Builds the real ArmClient from the ARM flags: the HTTP transport, the credential chosen from
// --token or the AZURE_* environment, the cloud's endpoint, and the metric hooks that feed
// kustodian_arm_requests_total, kustodian_arm_request_duration_seconds and
// kustodian_arm_throttled_total. Used by every subcommand that talks to ARM.
#pragma once

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "controller/options.h"
#include "src/arm/arm_client.h"
#include "src/arm/arm_client_impl.h"
#include "src/arm/credentials.h"
#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/http/http.h"

namespace kustodian {

struct KustodianMetrics;

// An ArmClient with whatever it needs to live. `client` points at `impl` for the real stack, or
// at an external client (tests). The real `impl` is an ArmClientWithPrincipals
// (src/arm/principal_clients.h): it also makes clients for other service principals
// (spec.credentialRef in Kubernetes mode). Not copyable; movable.
struct ArmStack {
  std::unique_ptr<HttpTransport> transport;
  // The identity provider's transport (IMDS is plain http on a link-local address).
  std::unique_ptr<HttpTransport> identity_transport;
  std::unique_ptr<TokenSource> tokens;
  std::unique_ptr<ArmClient> impl;
  ArmClient* client = nullptr;
};

// Builds an ArmStack for `flags`; credentials come from flags.token or the AZURE_* variables.
// Logs which credential and endpoint are used (never the token) and a warning when TLS
// verification is off. Returns the stack; InvalidArgument naming the flag or variable to fix
// when the cloud, endpoint or credential set is wrong.
using ArmStackFactory = std::function<absl::StatusOr<ArmStack>(
    const ArmFlags& flags, Clock& clock, Logger& logger, KustodianMetrics* metrics)>;
absl::StatusOr<ArmStack> BuildArmStack(const ArmFlags& flags, Clock& clock, Logger& logger,
                                       KustodianMetrics* metrics);

// Hooks that count every ARM HTTP attempt into `metrics` (method, code, latency) and every 429.
ArmClientHooks ArmMetricsHooks(KustodianMetrics& metrics);

}  // namespace kustodian
