// Builds the real Kubernetes client for `kustodian run --source=kubernetes` from --kubeconfig
// and --context (kubectl's order: the flag, $KUBECONFIG, in-cluster, ~/.kube/config). Injected
// through CliEnv so tests can hand the daemon a FakeKubeClient.
#pragma once

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "controller/options.h"
#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/kube/kube_client.h"

namespace kustodian {

using KubeClientFactory = std::function<absl::StatusOr<std::unique_ptr<kube::KubeClient>>(
    const KubeOptions& options, Clock& clock, Logger& logger)>;

// Resolves the configuration and returns the client; InvalidArgument naming --kubeconfig /
// --context and what to fix when no usable configuration is found.
absl::StatusOr<std::unique_ptr<kube::KubeClient>> BuildKubeClient(const KubeOptions& options,
                                                                  Clock& clock, Logger& logger);

}  // namespace kustodian
