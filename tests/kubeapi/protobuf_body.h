// Typed kubectl commands (`kubectl create namespace`, `kubectl create secret generic`,
// `kubectl create configmap`) send application/vnd.kubernetes.protobuf bodies. This decodes
// that envelope for Namespace, Secret and ConfigMap (names, labels, annotations, finalizers,
// data) into JSON; other kinds are refused (415) by the caller.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace kustodian::kubeapi {

// InvalidArgument when `body` is not a k8s protobuf envelope of a supported kind.
absl::StatusOr<nlohmann::json> DecodeProtobufBody(const std::string& body);

}  // namespace kustodian::kubeapi
