// spec.credentialRef (Kubernetes mode): a resource names a Secret in its own namespace whose keys
// clientId, tenantId and clientSecret are the service principal its connection is written with.
// CredentialRefs reads those Secrets with one GET each (never list or watch), keeps them per
// (namespace, name, resourceVersion) and reads them again when they are older than
// `reread_after` or after MarkStale (a 401/403 from Entra ID or ARM), so a rotated Secret is
// picked up. Secret values never appear in a returned message, a log line or an Event.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "src/arm/principal_clients.h"
#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/kube/kube_client.h"

namespace kustodian {

// The keys a credentialRef Secret must have, exactly.
inline constexpr char kSecretClientIdKey[] = "clientId";
inline constexpr char kSecretTenantIdKey[] = "tenantId";
inline constexpr char kSecretClientSecretKey[] = "clientSecret";

// Error codes (attached with SetArmErrorCode; the status reason of the resource):
inline constexpr char kCredentialNotFound[] = "CredentialNotFound";        // no such Secret
inline constexpr char kCredentialInvalid[] = "CredentialInvalid";          // a key missing or empty
inline constexpr char kCredentialForbidden[] = "CredentialForbidden";      // no RBAC to get it
inline constexpr char kCredentialRejected[] = "CredentialRejected";        // Entra ID refused it
inline constexpr char kCredentialUnavailable[] = "CredentialUnavailable";  // API server down
// True for the codes above.
bool IsCredentialErrorCode(std::string_view code);

// A Secret named by a resource.
struct SecretRef {
  std::string ns;
  std::string name;

  std::string Describe() const { return ns + "/" + name; }  // "adx/adx-writer"
  bool operator==(const SecretRef&) const = default;
  bool operator<(const SecretRef& o) const { return ns != o.ns ? ns < o.ns : name < o.name; }
};

// A Secret as read.
struct SecretCredential {
  SecretRef ref;
  std::string resource_version;
  ServicePrincipal principal;
  absl::Time read_at;
};

// The principal in a Secret object (`data` base64 values, or `stringData`). FailedPrecondition
// with code CredentialInvalid naming the Secret and the key that is missing, empty or not
// base64. The message never holds a value.
absl::StatusOr<ServicePrincipal> PrincipalFromSecret(const nlohmann::json& secret,
                                                     const SecretRef& ref);

struct CredentialRefsOptions {
  // A Secret read longer ago than this is read again on its next use.
  absl::Duration reread_after = absl::Minutes(1);
};

// Thread-safe.
class CredentialRefs {
 public:
  CredentialRefs(kube::KubeClient& client, Clock& clock, Logger& logger,
                 CredentialRefsOptions options = {});

  // The Secret's principal, read with a GET unless a fresh enough copy is cached. Errors
  // (never a deletion; the caller retries with backoff): FailedPrecondition with code
  // CredentialNotFound (404), CredentialForbidden (403: bind the secret reader role) or
  // CredentialInvalid (keys); Unavailable with code CredentialUnavailable for other API errors.
  // Failures are not cached: the next call reads again.
  absl::StatusOr<SecretCredential> Get(const SecretRef& ref);
  // The next Get of `ref` reads the Secret again.
  void MarkStale(const SecretRef& ref);
  // Secret GETs made so far (for tests and logs).
  int64_t reads() const;

 private:
  absl::StatusOr<SecretCredential> Read(const SecretRef& ref);

  kube::KubeClient& client_;
  Clock& clock_;
  Logger& logger_;
  const CredentialRefsOptions options_;
  mutable std::mutex mu_;
  std::map<SecretRef, SecretCredential> cache_;  // guarded by mu_
  std::set<SecretRef> stale_;                    // guarded by mu_
  int64_t reads_ = 0;                            // guarded by mu_
};

}  // namespace kustodian
