// Where a client's bearer token (and, from exec plugins, a client certificate) comes from:
// a static token, a token file re-read when it changes (projected service account tokens
// rotate), or an exec credential plugin run the way kubectl runs it and cached until it expires.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/kube/kube_config.h"

namespace kustodian::kube {

struct Credential {
  std::string token;            // bearer token; "" = none
  std::string client_cert_pem;  // exec plugins may return a client certificate and key
  std::string client_key_pem;
  absl::Time expiry = absl::InfiniteFuture();
  bool operator==(const Credential&) const = default;
};

// Thread-safe in every implementation.
class CredentialSource {
 public:
  virtual ~CredentialSource() = default;
  // The credential to use now, refreshed when stale. Unauthenticated when it cannot be obtained
  // (unreadable or empty token file, exec plugin failure or bad output), naming the cause.
  virtual absl::StatusOr<Credential> Get() = 0;
  // After a 401: forget any cached credential so the next Get() obtains a fresh one.
  virtual void Invalidate() = 0;
};

std::unique_ptr<CredentialSource> NewStaticTokenSource(std::string token);
// Re-reads `path` when its mtime, size or inode changed, after Invalidate(), and at least once a
// minute.
std::unique_ptr<CredentialSource> NewTokenFileSource(std::string path, Clock& clock);
// Runs the plugin (KUBERNETES_EXEC_INFO set to the ExecCredential request) when no unexpired
// credential is cached. `cluster` is the ExecCredential spec.cluster object sent when the
// config asks for provideClusterInfo (null otherwise).
std::unique_ptr<CredentialSource> NewExecCredentialSource(ExecConfig exec, nlohmann::json cluster,
                                                          Clock& clock, Logger& logger);

// Parses a plugin's stdout (an ExecCredential) for `api_version`. Unauthenticated naming the
// problem when it is not one, has the wrong apiVersion, or carries neither a token nor a
// certificate and key.
absl::StatusOr<Credential> ParseExecCredential(std::string_view output,
                                               std::string_view api_version);

}  // namespace kustodian::kube
