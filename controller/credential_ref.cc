#include "controller/credential_ref.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "src/core/status.h"
#include "src/core/strings.h"

namespace kustodian {
namespace {

using nlohmann::json;

absl::Status CredentialError(absl::Status status, const char* code) {
  SetArmErrorCode(status, code);
  return status;
}

std::string KeysHint() {
  return absl::StrCat("the Secret needs the keys ", kSecretClientIdKey, ", ", kSecretTenantIdKey,
                      " and ", kSecretClientSecretKey);
}

// The value of `key` (decoded), "" when absent or empty; false when it is not valid base64.
bool SecretValue(const json& secret, const char* key, std::string* out) {
  out->clear();
  if (auto data = secret.find("data"); data != secret.end() && data->is_object()) {
    if (auto v = data->find(key); v != data->end() && v->is_string()) {
      return absl::Base64Unescape(Av(v->get<std::string>()), out);
    }
  }
  if (auto data = secret.find("stringData"); data != secret.end() && data->is_object()) {
    if (auto v = data->find(key); v != data->end() && v->is_string()) {
      *out = v->get<std::string>();
    }
  }
  return true;
}

}  // namespace

bool IsCredentialErrorCode(std::string_view code) {
  return code == kCredentialNotFound || code == kCredentialInvalid ||
         code == kCredentialForbidden || code == kCredentialRejected ||
         code == kCredentialUnavailable;
}

absl::StatusOr<ServicePrincipal> PrincipalFromSecret(const json& secret, const SecretRef& ref) {
  ServicePrincipal p;
  for (auto [key, field] :
       {std::pair{kSecretClientIdKey, &p.client_id}, std::pair{kSecretTenantIdKey, &p.tenant_id},
        std::pair{kSecretClientSecretKey, &p.client_secret}}) {
    if (!SecretValue(secret, key, field)) {
      return CredentialError(absl::FailedPreconditionError(absl::StrCat(
                                 "spec.credentialRef: the value of key \"", key, "\" in Secret \"",
                                 ref.Describe(), "\" is not valid base64")),
                             kCredentialInvalid);
    }
    if (field->empty()) {
      return CredentialError(absl::FailedPreconditionError(absl::StrCat(
                                 "spec.credentialRef: Secret \"", ref.Describe(),
                                 "\" has no key \"", key, "\" or it is empty; ", KeysHint())),
                             kCredentialInvalid);
    }
  }
  return p;
}

CredentialRefs::CredentialRefs(kube::KubeClient& client, Clock& clock, Logger& logger,
                               CredentialRefsOptions options)
    : client_(client), clock_(clock), logger_(logger), options_(options) {}

absl::StatusOr<SecretCredential> CredentialRefs::Get(const SecretRef& ref) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(ref);
    if (it != cache_.end() && stale_.count(ref) == 0 &&
        clock_.Now() - it->second.read_at < options_.reread_after) {
      return it->second;
    }
  }
  return Read(ref);
}

absl::StatusOr<SecretCredential> CredentialRefs::Read(const SecretRef& ref) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++reads_;
    stale_.erase(ref);
  }
  const absl::Time now = clock_.Now();
  absl::StatusOr<json> secret = client_.Get(kube::SecretGvr(), ref.ns, ref.name);
  if (!secret.ok()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      cache_.erase(ref);  // deleted or unreadable: never keep using the old copy
    }
    const absl::Status& st = secret.status();
    if (kube::IsNotFound(st)) {
      return CredentialError(absl::FailedPreconditionError(
                                 absl::StrCat("spec.credentialRef: Secret \"", ref.Describe(),
                                              "\" not found; create it in the "
                                              "resource's namespace (",
                                              KeysHint(), ")")),
                             kCredentialNotFound);
    }
    if (absl::IsPermissionDenied(st) || absl::IsUnauthenticated(st)) {
      return CredentialError(
          absl::FailedPreconditionError(
              absl::StrCat("spec.credentialRef: kustodian may not read Secret \"", ref.Describe(),
                           "\": bind the kustodian-secret-reader ClusterRole in namespace ", ref.ns,
                           " (see docs/kubernetes.md): ", st.message())),
          kCredentialForbidden);
    }
    absl::Status out = CredentialError(
        absl::UnavailableError(absl::StrCat("spec.credentialRef: cannot read Secret \"",
                                            ref.Describe(), "\": ", st.message())),
        kCredentialUnavailable);
    if (std::optional<absl::Duration> wait = GetRetryAfter(st)) {
      SetRetryAfter(out, *wait);
    }
    return out;
  }
  absl::StatusOr<ServicePrincipal> principal = PrincipalFromSecret(*secret, ref);
  if (!principal.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    cache_.erase(ref);
    return principal.status();
  }
  SecretCredential cred{ref, kube::ResourceVersionOf(*secret), *std::move(principal), now};
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(ref);
  if (it == cache_.end() || it->second.resource_version != cred.resource_version) {
    logger_.Info("read the credentialRef Secret", {{"secret", ref.Describe()},
                                                   {"resource_version", cred.resource_version},
                                                   {"client_id", cred.principal.client_id},
                                                   {"tenant_id", cred.principal.tenant_id}});
  }
  cache_.insert_or_assign(ref, cred);
  return cred;
}

void CredentialRefs::MarkStale(const SecretRef& ref) {
  std::lock_guard<std::mutex> lock(mu_);
  stale_.insert(ref);
}

int64_t CredentialRefs::reads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reads_;
}

}  // namespace kustodian
