// KubeClientImpl: the real KubeClient, JSON over the HTTP seam. It builds API paths from a Gvr,
// authorizes each request from a CredentialSource (retrying once after a 401 with a refreshed
// credential), maps failures with kube_errors.h and parses watch streams with WatchParser.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/http/http.h"
#include "src/kube/credentials.h"
#include "src/kube/kube_client.h"
#include "src/kube/kube_config.h"

namespace kustodian::kube {

class TempFiles;

using TransportFactory =
    std::function<std::unique_ptr<HttpTransport>(const TransportOptions& options)>;

// Thread-safe.
class KubeClientImpl final : public KubeClient {
 public:
  // `factory` builds the transport (again when an exec plugin hands out a new client
  // certificate); nullptr = NewHttpTransport. Errors as NewKubeClient.
  static absl::StatusOr<std::unique_ptr<KubeClientImpl>> Create(const KubeConfig& config,
                                                                Clock& clock, Logger& logger,
                                                                TransportFactory factory = nullptr);

  absl::StatusOr<nlohmann::json> Get(const Gvr& gvr, const std::string& ns,
                                     const std::string& name) override;
  absl::StatusOr<ObjectList> List(const Gvr& gvr, const std::string& ns,
                                  const ListOptions& options) override;
  absl::Status Watch(const Gvr& gvr, const std::string& ns, const WatchOptions& options,
                     const std::function<bool(const WatchEvent&)>& on_event,
                     const std::atomic<bool>* cancel) override;
  absl::StatusOr<nlohmann::json> Create(const Gvr& gvr, const std::string& ns,
                                        const nlohmann::json& object) override;
  absl::StatusOr<nlohmann::json> Update(const Gvr& gvr, const std::string& ns,
                                        const nlohmann::json& object) override;
  absl::StatusOr<nlohmann::json> UpdateStatus(const Gvr& gvr, const std::string& ns,
                                              const nlohmann::json& object) override;
  absl::StatusOr<nlohmann::json> Patch(const Gvr& gvr, const std::string& ns,
                                       const std::string& name, PatchType type,
                                       const std::string& body,
                                       const std::string& subresource) override;
  absl::Status Delete(const Gvr& gvr, const std::string& ns, const std::string& name) override;

  // The API path of a collection ("" name) or an object, with an optional subresource.
  static std::string Path(const Gvr& gvr, const std::string& ns, const std::string& name = "",
                          const std::string& subresource = "");

 private:
  KubeClientImpl(const KubeConfig& config, Clock& clock, Logger& logger, TransportFactory factory,
                 std::unique_ptr<CredentialSource> credentials);

  struct Authorized {
    std::shared_ptr<HttpTransport> transport;
    Credential credential;
  };
  // The transport and credential for the next request (rebuilding the transport when the
  // credential's client certificate changed).
  absl::StatusOr<Authorized> Authorize();
  HttpRequest NewRequest(const std::string& method, const std::string& path_and_query,
                         const Credential& credential) const;
  // Sends with auth; after a 401 refreshes the credential and retries once when it changed.
  absl::StatusOr<HttpResponse> Do(const std::string& method, const std::string& path_and_query,
                                  std::string body, const std::string& content_type);
  // Do() plus mapping: a 2xx JSON body, or the mapped error.
  absl::StatusOr<nlohmann::json> DoJson(const std::string& method, const std::string& path,
                                        std::string body, const std::string& content_type,
                                        const std::string& what);
  // One watch attempt with the given credential. `unauthorized` is set on a 401.
  absl::Status WatchOnce(const Authorized& auth, const std::string& path_and_query,
                         const WatchOptions& options,
                         const std::function<bool(const WatchEvent&)>& on_event,
                         const std::atomic<bool>* cancel, bool* unauthorized);

  KubeConfig config_;  // set up by the constructor, read-only afterwards
  Clock& clock_;
  Logger& logger_;
  const TransportFactory factory_;
  const std::unique_ptr<CredentialSource> credentials_;  // null = anonymous
  const std::string user_agent_;
  TransportOptions base_options_;

  std::mutex mu_;
  std::shared_ptr<HttpTransport> transport_;  // guarded by mu_
  std::string transport_cert_pem_;            // guarded by mu_: the exec cert it was built with
  std::shared_ptr<TempFiles> exec_files_;     // guarded by mu_: exec client cert/key files
};

}  // namespace kustodian::kube
