#include "controller/credential_arm_client.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "src/core/status.h"
#include "src/core/strings.h"

namespace kustodian {
namespace {

absl::Status WithMessage(const absl::Status& error, std::string message) {
  absl::Status out(error.code(), message);
  error.ForEachPayload(
      [&out](absl::string_view url, const absl::Cord& payload) { out.SetPayload(url, payload); });
  return out;
}

bool RefusedByEntraId(const absl::Status& error) {
  return absl::IsUnauthenticated(error) &&
         (absl::StartsWith(GetArmErrorCode(error), "AADSTS") ||
          absl::StartsWith(error.message(), "Entra ID token endpoint"));
}

}  // namespace

absl::Status AttributeToSecret(const absl::Status& error, const SecretRef& ref,
                               const std::string& client_id) {
  if (error.ok() || IsCredentialErrorCode(GetArmErrorCode(error))) {
    return error;
  }
  if (RefusedByEntraId(error)) {
    std::string code = GetArmErrorCode(error);
    absl::Status out = WithMessage(
        error,
        absl::StrCat("spec.credentialRef: Entra ID refused the service principal in Secret \"",
                     ref.Describe(), "\" (clientId ", client_id, ")",
                     code.empty() ? "" : absl::StrCat(", ", code), ": ", error.message(),
                     "; check the Secret's tenantId, clientId and clientSecret"));
    SetArmErrorCode(out, kCredentialRejected);
    return out;
  }
  return WithMessage(error,
                     absl::StrCat(error.message(), " (as the service principal in Secret \"",
                                  ref.Describe(), "\", clientId ", client_id, ")"));
}

CredentialRefArmClient::CredentialRefArmClient(CredentialRefArmClientDeps deps)
    : deps_(std::move(deps)) {}

int CredentialRefArmClient::clients_made() const {
  std::lock_guard<std::mutex> lock(mu_);
  return clients_made_;
}

absl::StatusOr<std::shared_ptr<CredentialRefArmClient::Holder>> CredentialRefArmClient::ClientFor(
    const SecretRef& ref) {
  absl::StatusOr<SecretCredential> cred = deps_.secrets.Get(ref);
  std::lock_guard<std::mutex> lock(mu_);
  if (!cred.ok()) {
    clients_.erase(ref);  // its token must not outlive the Secret
    return cred.status();
  }
  auto it = clients_.find(ref);
  if (it != clients_.end() && it->second->principal == cred->principal) {
    return it->second;
  }
  absl::StatusOr<std::unique_ptr<ArmClient>> made = deps_.principals->ForPrincipal(cred->principal);
  if (!made.ok()) {
    absl::Status st = absl::FailedPreconditionError(absl::StrCat(
        "spec.credentialRef: Secret \"", ref.Describe(), "\": ", made.status().message()));
    SetArmErrorCode(st, kCredentialInvalid);
    return st;
  }
  auto holder = std::make_shared<Holder>();
  holder->principal = cred->principal;
  holder->inner = *std::move(made);
  if (deps_.decorate) {
    holder->outer = deps_.decorate(*holder->inner);
  }
  deps_.logger.Info(it == clients_.end() ? "writing as the service principal of a credentialRef"
                                         : "credentialRef Secret changed; using its new principal",
                    {{"secret", ref.Describe()},
                     {"client_id", cred->principal.client_id},
                     {"tenant_id", cred->principal.tenant_id}});
  clients_.insert_or_assign(ref, holder);
  ++clients_made_;
  return holder;
}

template <typename T>
absl::StatusOr<T> CredentialRefArmClient::Route(
    const std::string& key, const std::function<absl::StatusOr<T>(ArmClient&)>& call) {
  std::optional<SecretRef> ref = deps_.resolve ? deps_.resolve(key) : std::nullopt;
  if (!ref) {
    return call(deps_.base);
  }
  if (deps_.principals == nullptr) {
    absl::Status st = absl::FailedPreconditionError(
        absl::StrCat("spec.credentialRef: Secret \"", ref->Describe(),
                     "\" cannot be used: this ARM client cannot act as other principals"));
    SetArmErrorCode(st, kCredentialUnavailable);
    return st;
  }
  absl::StatusOr<std::shared_ptr<Holder>> holder = ClientFor(*ref);
  if (!holder.ok()) {
    return holder.status();
  }
  absl::StatusOr<T> result = call((*holder)->client());
  if (!result.ok() &&
      (absl::IsUnauthenticated(result.status()) || absl::IsPermissionDenied(result.status()))) {
    // Maybe the Secret was rotated: read it again, and retry once if it changed.
    deps_.secrets.MarkStale(*ref);
    absl::StatusOr<std::shared_ptr<Holder>> again = ClientFor(*ref);
    if (!again.ok()) {
      return again.status();
    }
    if (again->get() != holder->get()) {
      holder = again;
      result = call((*holder)->client());
    }
  }
  if (!result.ok()) {
    return AttributeToSecret(result.status(), *ref, (*holder)->principal.client_id);
  }
  return result;
}

absl::StatusOr<LiveConnection> CredentialRefArmClient::Get(const DataConnectionId& id) {
  return Route<LiveConnection>(id.Key(), [&id](ArmClient& c) { return c.Get(id); });
}

absl::StatusOr<std::vector<LiveConnection>> CredentialRefArmClient::List(const DatabaseId& db) {
  return deps_.base.List(db);
}

absl::StatusOr<WriteResult> CredentialRefArmClient::Put(const DataConnectionSpec& spec) {
  return Route<WriteResult>(spec.id.Key(), [&spec](ArmClient& c) { return c.Put(spec); });
}

absl::StatusOr<WriteResult> CredentialRefArmClient::Delete(const DataConnectionId& id) {
  return Route<WriteResult>(id.Key(), [&id](ArmClient& c) { return c.Delete(id); });
}

absl::StatusOr<PollResult> CredentialRefArmClient::Poll(const ArmOperation& op) {
  return Route<PollResult>(op.id.Key(), [&op](ArmClient& c) { return c.Poll(op); });
}

absl::StatusOr<std::vector<std::string>> CredentialRefArmClient::Validate(
    const DataConnectionSpec& spec) {
  return Route<std::vector<std::string>>(spec.id.Key(),
                                         [&spec](ArmClient& c) { return c.Validate(spec); });
}

}  // namespace kustodian
