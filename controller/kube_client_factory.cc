#include "controller/kube_client_factory.h"

#include "absl/strings/str_cat.h"
#include "src/kube/kube_config.h"

namespace kustodian {

absl::StatusOr<std::unique_ptr<kube::KubeClient>> BuildKubeClient(const KubeOptions& options,
                                                                  Clock& clock, Logger& logger) {
  absl::StatusOr<kube::KubeConfig> config =
      kube::ResolveKubeConfig(options.kubeconfig, options.context);
  if (!config.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--kubeconfig/--context: no usable Kubernetes configuration: ", config.status().message(),
        "; run in a pod with a service account, or give --kubeconfig (and --context)"));
  }
  logger.Info("using the Kubernetes API server",
              {{"server", config->server},
               {"context", config->context.empty() ? std::string("(in-cluster)") : config->context},
               {"origin", config->origin}});
  return kube::NewKubeClient(*config, clock, logger);
}

}  // namespace kustodian
