#include "src/kube/credentials.h"

#include <sys/stat.h>

#include <fstream>
#include <mutex>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "src/core/strings.h"
#include "src/kube/exec_plugin.h"
#include "src/kube/kube_time.h"

namespace kustodian::kube {
namespace {

// Refresh an exec credential this long before it expires.
constexpr absl::Duration kExpirySkew = absl::Seconds(10);
constexpr absl::Duration kTokenFileMaxAge = absl::Minutes(1);
constexpr absl::Duration kExecTimeout = absl::Minutes(2);

class StaticTokenSource final : public CredentialSource {
 public:
  explicit StaticTokenSource(std::string token) { credential_.token = std::move(token); }
  absl::StatusOr<Credential> Get() override { return credential_; }
  void Invalidate() override {}

 private:
  Credential credential_;
};

class TokenFileSource final : public CredentialSource {
 public:
  TokenFileSource(std::string path, Clock& clock) : path_(std::move(path)), clock_(clock) {}

  absl::StatusOr<Credential> Get() override {
    std::lock_guard<std::mutex> lock(mu_);
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) {
      if (!credential_.token.empty()) {
        return credential_;  // a rotation in progress (atomic symlink swap): keep the last one
      }
      return absl::UnauthenticatedError(absl::StrCat("cannot read token file ", path_));
    }
    const FileId id{st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_size, st.st_ino};
    const absl::Time now = clock_.Now();
    if (credential_.token.empty() || stale_ || !(id == id_) || now - read_at_ >= kTokenFileMaxAge) {
      std::ifstream in(path_, std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      if (!in) {
        return absl::UnauthenticatedError(absl::StrCat("cannot read token file ", path_));
      }
      std::string token(absl::StripAsciiWhitespace(text.str()));
      if (token.empty()) {
        return absl::UnauthenticatedError(absl::StrCat("token file ", path_, " is empty"));
      }
      credential_.token = std::move(token);
      id_ = id;
      read_at_ = now;
      stale_ = false;
    }
    return credential_;
  }

  void Invalidate() override {
    std::lock_guard<std::mutex> lock(mu_);
    stale_ = true;
  }

 private:
  struct FileId {
    int64_t mtime_sec = 0;
    int64_t mtime_nsec = 0;
    int64_t size = -1;
    uint64_t inode = 0;
    bool operator==(const FileId&) const = default;
  };

  const std::string path_;
  Clock& clock_;
  std::mutex mu_;
  Credential credential_;  // guarded by mu_
  FileId id_;              // guarded by mu_
  absl::Time read_at_;     // guarded by mu_
  bool stale_ = false;     // guarded by mu_
};

class ExecCredentialSource final : public CredentialSource {
 public:
  ExecCredentialSource(ExecConfig exec, nlohmann::json cluster, Clock& clock, Logger& logger)
      : exec_(std::move(exec)), cluster_(std::move(cluster)), clock_(clock), logger_(logger) {}

  absl::StatusOr<Credential> Get() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (cached_ && clock_.Now() + kExpirySkew < cached_->expiry) {
      return *cached_;
    }
    nlohmann::json spec = {{"interactive", false}};
    if (!cluster_.is_null()) {
      spec["cluster"] = cluster_;
    }
    nlohmann::json info = {
        {"apiVersion", exec_.api_version}, {"kind", "ExecCredential"}, {"spec", spec}};
    std::vector<std::pair<std::string, std::string>> env = exec_.env;
    env.emplace_back("KUBERNETES_EXEC_INFO", info.dump());
    absl::StatusOr<ProcessResult> run = RunProcess(exec_.command, exec_.args, env, kExecTimeout);
    if (!run.ok()) {
      return absl::UnauthenticatedError(
          absl::StrCat("exec credential plugin \"", exec_.command, "\": ", run.status().message()));
    }
    if (run->exit_code != 0) {
      std::string err(absl::StripAsciiWhitespace(run->err.substr(0, 512)));
      return absl::UnauthenticatedError(
          Redact(absl::StrCat("exec credential plugin \"", exec_.command, "\" exited with status ",
                              run->exit_code, err.empty() ? "" : ": ", err)));
    }
    absl::StatusOr<Credential> credential = ParseExecCredential(run->out, exec_.api_version);
    if (!credential.ok()) {
      return absl::UnauthenticatedError(absl::StrCat("exec credential plugin \"", exec_.command,
                                                     "\": ", credential.status().message()));
    }
    logger_.Debug("exec credential plugin ran",
                  {{"command", exec_.command},
                   {"expires", credential->expiry == absl::InfiniteFuture()
                                   ? "never"
                                   : FormatKubeTime(credential->expiry)}});
    cached_ = *credential;
    return *credential;
  }

  void Invalidate() override {
    std::lock_guard<std::mutex> lock(mu_);
    cached_.reset();
  }

 private:
  const ExecConfig exec_;
  const nlohmann::json cluster_;
  Clock& clock_;
  Logger& logger_;
  std::mutex mu_;                     // serializes plugin runs
  std::optional<Credential> cached_;  // guarded by mu_
};

}  // namespace

std::unique_ptr<CredentialSource> NewStaticTokenSource(std::string token) {
  return std::make_unique<StaticTokenSource>(std::move(token));
}

std::unique_ptr<CredentialSource> NewTokenFileSource(std::string path, Clock& clock) {
  return std::make_unique<TokenFileSource>(std::move(path), clock);
}

std::unique_ptr<CredentialSource> NewExecCredentialSource(ExecConfig exec, nlohmann::json cluster,
                                                          Clock& clock, Logger& logger) {
  return std::make_unique<ExecCredentialSource>(std::move(exec), std::move(cluster), clock, logger);
}

absl::StatusOr<Credential> ParseExecCredential(std::string_view output,
                                               std::string_view api_version) {
  nlohmann::json parsed = nlohmann::json::parse(output, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return absl::UnauthenticatedError("output is not an ExecCredential JSON object");
  }
  if (parsed.value("kind", "") != "ExecCredential") {
    return absl::UnauthenticatedError("output kind is not \"ExecCredential\"");
  }
  std::string got_version = parsed.value("apiVersion", "");
  if (got_version != api_version) {
    return absl::UnauthenticatedError(absl::StrCat("output apiVersion \"", got_version,
                                                   "\" does not match the kubeconfig's \"",
                                                   Av(api_version), "\""));
  }
  auto status = parsed.find("status");
  if (status == parsed.end() || !status->is_object()) {
    return absl::UnauthenticatedError("output has no status object");
  }
  Credential credential;
  auto text = [&](const char* name) -> std::string {
    auto it = status->find(name);
    return it != status->end() && it->is_string() ? it->get<std::string>() : "";
  };
  credential.token = text("token");
  credential.client_cert_pem = text("clientCertificateData");
  credential.client_key_pem = text("clientKeyData");
  if (credential.client_cert_pem.empty() != credential.client_key_pem.empty()) {
    return absl::UnauthenticatedError(
        "status.clientCertificateData and status.clientKeyData must be set together");
  }
  if (credential.token.empty() && credential.client_cert_pem.empty()) {
    return absl::UnauthenticatedError(
        "status has neither a token nor clientCertificateData/clientKeyData");
  }
  std::string expiry = text("expirationTimestamp");
  if (!expiry.empty()) {
    absl::StatusOr<absl::Time> t = ParseKubeTime(expiry);
    if (!t.ok()) {
      return absl::UnauthenticatedError(
          absl::StrCat("status.expirationTimestamp: ", t.status().message()));
    }
    credential.expiry = *t;
  }
  return credential;
}

}  // namespace kustodian::kube
