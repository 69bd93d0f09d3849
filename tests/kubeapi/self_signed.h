// A throwaway self-signed certificate for 127.0.0.1 / localhost, so kubectl (which sends bearer
// tokens only over https) can authenticate to the test API server.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace kustodian::kubeapi {

// Writes a PEM certificate and its PEM private key (EC P-256, valid 7 days, SANs 127.0.0.1,
// ::1 and localhost) to the two paths. Internal error naming the failing step.
absl::Status WriteSelfSignedCert(const std::string& cert_path, const std::string& key_path);

}  // namespace kustodian::kubeapi
