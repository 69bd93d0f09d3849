#include "src/kube/kube_client_impl.h"

#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "src/core/status.h"
#include "src/core/strings.h"
#include "src/kube/kube_errors.h"
#include "src/kube/temp_files.h"
#include "src/kube/watch_parser.h"

#ifndef KUSTODIAN_VERSION
#define KUSTODIAN_VERSION "0.1.0"
#endif

namespace kustodian::kube {
namespace {

// A failed response body is kept up to this size for its Status object.
constexpr size_t kMaxErrorBody = size_t{1} << 20;
// A watch waits this much longer for data than the server-side timeout it asked for.
constexpr absl::Duration kWatchReadMargin = absl::Seconds(30);
constexpr absl::Duration kDefaultWatchRead = absl::Minutes(10);

std::string ContentTypeFor(PatchType type) {
  switch (type) {
    case PatchType::kMerge:
      return "application/merge-patch+json";
    case PatchType::kJson:
      return "application/json-patch+json";
    case PatchType::kStrategicMerge:
      return "application/strategic-merge-patch+json";
  }
  return "application/merge-patch+json";
}

// "?a=b&c=d" from the non-empty pairs ("" when none).
std::string Query(const std::vector<std::pair<std::string, std::string>>& params) {
  std::vector<std::string> parts;
  for (const auto& [name, value] : params) {
    if (!value.empty()) {
      parts.push_back(absl::StrCat(name, "=", UrlEncode(value)));
    }
  }
  return parts.empty() ? "" : absl::StrCat("?", absl::StrJoin(parts, "&"));
}

// "leases ns/name" for messages.
std::string What(const std::string& verb, const Gvr& gvr, const std::string& ns,
                 const std::string& name) {
  std::string object = ns.empty() ? name : (name.empty() ? ns : absl::StrCat(ns, "/", name));
  return absl::StrCat(verb, " ", gvr.resource, object.empty() ? "" : " ", object);
}

absl::StatusOr<nlohmann::json> ParseBody(const std::string& body, const std::string& what) {
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return absl::InternalError(
        absl::StrCat(what, ": the API server answered with something that is not a JSON object"));
  }
  return parsed;
}

std::string ReadCaData(const std::string& path) {
  if (path.empty()) {
    return "";
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return absl::Base64Escape(text.str());
}

}  // namespace

absl::StatusOr<std::unique_ptr<KubeClient>> NewKubeClient(const KubeConfig& config, Clock& clock,
                                                          Logger& logger) {
  KUS_ASSIGN_OR_RETURN(std::unique_ptr<KubeClientImpl> client,
                       KubeClientImpl::Create(config, clock, logger));
  return std::unique_ptr<KubeClient>(std::move(client));
}

absl::StatusOr<std::unique_ptr<KubeClientImpl>> KubeClientImpl::Create(const KubeConfig& config,
                                                                       Clock& clock, Logger& logger,
                                                                       TransportFactory factory) {
  absl::StatusOr<ParsedUrl> url = ParseUrl(config.server);
  if (!url.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("Kubernetes API server \"", config.server,
                                                   "\" (", config.origin,
                                                   "): ", url.status().message()));
  }
  if (url->path_and_query.find('?') != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("Kubernetes API server \"", config.server, "\" must not carry a query"));
  }
  std::unique_ptr<CredentialSource> credentials;
  if (config.exec.has_value()) {
    nlohmann::json cluster;
    if (config.exec->provide_cluster_info) {
      cluster = {{"server", config.server},
                 {"insecure-skip-tls-verify", config.insecure_skip_tls_verify}};
      if (std::string ca = ReadCaData(config.ca_file); !ca.empty()) {
        cluster["certificate-authority-data"] = ca;
      }
    }
    credentials = NewExecCredentialSource(*config.exec, std::move(cluster), clock, logger);
  } else if (!config.token_file.empty()) {
    credentials = NewTokenFileSource(config.token_file, clock);
  } else if (!config.token.empty()) {
    credentials = NewStaticTokenSource(config.token);
  }
  if (factory == nullptr) {
    factory = [](const TransportOptions& options) { return NewHttpTransport(options); };
  }
  if (config.insecure_skip_tls_verify) {
    logger.Warn(
        "insecure-skip-tls-verify is set: the Kubernetes API server's certificate is NOT "
        "verified",
        {{"server", config.server}, {"source", config.origin}});
  }
  auto client = std::unique_ptr<KubeClientImpl>(
      new KubeClientImpl(config, clock, logger, std::move(factory), std::move(credentials)));
  client->transport_ = client->factory_(client->base_options_);
  if (client->transport_ == nullptr) {
    return absl::InternalError("the HTTP transport factory returned nothing");
  }
  return client;
}

KubeClientImpl::KubeClientImpl(const KubeConfig& config, Clock& clock, Logger& logger,
                               TransportFactory factory,
                               std::unique_ptr<CredentialSource> credentials)
    : config_(config),
      clock_(clock),
      logger_(logger),
      factory_(std::move(factory)),
      credentials_(std::move(credentials)),
      user_agent_(config.user_agent.empty() ? absl::StrCat("kustodian/", KUSTODIAN_VERSION)
                                            : config.user_agent) {
  while (absl::EndsWith(config_.server, "/")) {
    config_.server.pop_back();
  }
  base_options_.verify_tls = !config.insecure_skip_tls_verify;
  base_options_.ca_file = config.ca_file;
  base_options_.client_cert_file = config.client_cert_file;
  base_options_.client_key_file = config.client_key_file;
}

std::string KubeClientImpl::Path(const Gvr& gvr, const std::string& ns, const std::string& name,
                                 const std::string& subresource) {
  std::string path = gvr.ApiPrefix();
  if (gvr.namespaced && !ns.empty()) {
    absl::StrAppend(&path, "/namespaces/", UrlEncode(ns));
  }
  absl::StrAppend(&path, "/", gvr.resource);
  if (!name.empty()) {
    absl::StrAppend(&path, "/", UrlEncode(name));
    if (!subresource.empty()) {
      absl::StrAppend(&path, "/", subresource);
    }
  }
  return path;
}

absl::StatusOr<KubeClientImpl::Authorized> KubeClientImpl::Authorize() {
  Authorized out;
  if (credentials_ != nullptr) {
    KUS_ASSIGN_OR_RETURN(out.credential, credentials_->Get());
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (out.credential.client_cert_pem != transport_cert_pem_) {
    // An exec plugin handed out a (new) client certificate: TLS needs it as files.
    if (exec_files_ == nullptr) {
      exec_files_ = std::make_shared<TempFiles>();
    }
    TransportOptions options = base_options_;
    KUS_ASSIGN_OR_RETURN(options.client_cert_file,
                         exec_files_->Write("exec-cert", out.credential.client_cert_pem));
    KUS_ASSIGN_OR_RETURN(options.client_key_file,
                         exec_files_->Write("exec-key", out.credential.client_key_pem));
    std::unique_ptr<HttpTransport> transport = factory_(options);
    if (transport == nullptr) {
      return absl::InternalError("the HTTP transport factory returned nothing");
    }
    transport_ = std::move(transport);
    transport_cert_pem_ = out.credential.client_cert_pem;
  }
  out.transport = transport_;
  return out;
}

HttpRequest KubeClientImpl::NewRequest(const std::string& method, const std::string& path_and_query,
                                       const Credential& credential) const {
  HttpRequest request;
  request.method = method;
  request.url = absl::StrCat(config_.server, path_and_query);
  request.timeout = config_.request_timeout;
  request.headers.emplace_back("Accept", "application/json");
  request.headers.emplace_back("User-Agent", user_agent_);
  if (!credential.token.empty()) {
    request.headers.emplace_back("Authorization", absl::StrCat("Bearer ", credential.token));
  }
  return request;
}

absl::StatusOr<HttpResponse> KubeClientImpl::Do(const std::string& method,
                                                const std::string& path_and_query, std::string body,
                                                const std::string& content_type) {
  KUS_ASSIGN_OR_RETURN(Authorized auth, Authorize());
  for (int attempt = 0;; ++attempt) {
    HttpRequest request = NewRequest(method, path_and_query, auth.credential);
    if (!content_type.empty()) {
      request.headers.emplace_back("Content-Type", content_type);
      request.body = body;
    }
    absl::StatusOr<HttpResponse> response = auth.transport->Send(request);
    if (!response.ok() || response->status != 401 || attempt > 0 || credentials_ == nullptr) {
      return response;
    }
    credentials_->Invalidate();
    Credential old = auth.credential;
    KUS_ASSIGN_OR_RETURN(auth, Authorize());
    if (auth.credential == old) {
      return response;  // nothing new to try
    }
    logger_.Info("retrying a Kubernetes API request with a refreshed credential after 401",
                 {{"method", method}});
  }
}

absl::StatusOr<nlohmann::json> KubeClientImpl::DoJson(const std::string& method,
                                                      const std::string& path, std::string body,
                                                      const std::string& content_type,
                                                      const std::string& what) {
  absl::StatusOr<HttpResponse> response = Do(method, path, std::move(body), content_type);
  if (!response.ok()) {
    if (absl::IsUnavailable(response.status()) || absl::IsDeadlineExceeded(response.status())) {
      return absl::UnavailableError(absl::StrCat(what, ": ", response.status().message()));
    }
    return response.status();
  }
  if (response->status < 200 || response->status > 299) {
    return StatusFromHttp(response->status, response->headers, response->body, what);
  }
  if (response->body.empty()) {
    return nlohmann::json::object();
  }
  return ParseBody(response->body, what);
}

absl::StatusOr<nlohmann::json> KubeClientImpl::Get(const Gvr& gvr, const std::string& ns,
                                                   const std::string& name) {
  return DoJson("GET", Path(gvr, ns, name), "", "", What("GET", gvr, ns, name));
}

absl::StatusOr<ObjectList> KubeClientImpl::List(const Gvr& gvr, const std::string& ns,
                                                const ListOptions& options) {
  ObjectList out;
  std::string continue_token;
  const std::string what = What("LIST", gvr, ns, "");
  for (int page = 0;; ++page) {
    std::string query =
        Query({{"labelSelector", options.label_selector},
               {"fieldSelector", options.field_selector},
               {"resourceVersion", continue_token.empty() ? options.resource_version : ""},
               {"limit", options.limit > 0 ? absl::StrCat(options.limit) : ""},
               {"continue", continue_token}});
    KUS_ASSIGN_OR_RETURN(nlohmann::json list, DoJson("GET", Path(gvr, ns) + query, "", "", what));
    auto items = list.find("items");
    if (items != list.end() && !items->is_null() && !items->is_array()) {
      return absl::InternalError(absl::StrCat(what, ": the list's items is not an array"));
    }
    // List items of built-in types come without apiVersion/kind; fill them in from the list.
    std::string api_version = list.value("apiVersion", "");
    std::string kind = list.value("kind", "");
    if (absl::EndsWith(kind, "List")) {
      kind.resize(kind.size() - 4);
    }
    if (items != list.end() && items->is_array()) {
      for (nlohmann::json& item : *items) {
        if (item.is_object()) {
          if (!item.contains("apiVersion") && !api_version.empty()) {
            item["apiVersion"] = api_version;
          }
          if (!item.contains("kind") && !kind.empty()) {
            item["kind"] = kind;
          }
        }
        out.items.push_back(std::move(item));
      }
    }
    const nlohmann::json& meta = list.value("metadata", nlohmann::json::object());
    out.resource_version = meta.is_object() ? meta.value("resourceVersion", "") : "";
    continue_token = meta.is_object() ? meta.value("continue", "") : "";
    if (continue_token.empty() || options.limit <= 0) {
      return out;
    }
  }
}

absl::Status KubeClientImpl::Watch(const Gvr& gvr, const std::string& ns,
                                   const WatchOptions& options,
                                   const std::function<bool(const WatchEvent&)>& on_event,
                                   const std::atomic<bool>* cancel) {
  std::vector<std::pair<std::string, std::string>> params = {
      {"watch", "1"},
      {"resourceVersion", options.resource_version},
      {"allowWatchBookmarks", options.allow_bookmarks ? "true" : ""},
      {"labelSelector", options.label_selector},
      {"fieldSelector", options.field_selector}};
  if (options.timeout > absl::ZeroDuration()) {
    params.emplace_back("timeoutSeconds",
                        absl::StrCat(std::max<int64_t>(1, absl::ToInt64Seconds(options.timeout))));
  }
  const std::string path = Path(gvr, ns) + Query(params);
  KUS_ASSIGN_OR_RETURN(Authorized auth, Authorize());
  bool unauthorized = false;
  absl::Status status = WatchOnce(auth, path, options, on_event, cancel, &unauthorized);
  if (unauthorized && credentials_ != nullptr) {
    credentials_->Invalidate();
    Credential old = auth.credential;
    KUS_ASSIGN_OR_RETURN(auth, Authorize());
    if (!(auth.credential == old)) {
      status = WatchOnce(auth, path, options, on_event, cancel, &unauthorized);
    }
  }
  return status;
}

absl::Status KubeClientImpl::WatchOnce(const Authorized& auth, const std::string& path_and_query,
                                       const WatchOptions& options,
                                       const std::function<bool(const WatchEvent&)>& on_event,
                                       const std::atomic<bool>* cancel, bool* unauthorized) {
  *unauthorized = false;
  HttpRequest request = NewRequest("GET", path_and_query, auth.credential);
  request.timeout = options.timeout > absl::ZeroDuration() ? options.timeout + kWatchReadMargin
                                                           : kDefaultWatchRead;
  int http_status = 0;
  HttpHeaders response_headers;
  std::string error_body;
  WatchParser parser;
  absl::Status parse_status;
  auto on_headers = [&](int status, const HttpHeaders& headers) {
    http_status = status;
    response_headers = headers;
    return true;
  };
  auto on_data = [&](std::string_view chunk) {
    if (http_status != 200) {
      if (error_body.size() < kMaxErrorBody) {
        error_body.append(chunk.substr(0, kMaxErrorBody - error_body.size()));
      }
      return true;
    }
    parse_status = parser.Feed(chunk, [&](const WatchEvent& event) {
      if (cancel != nullptr && cancel->load()) {
        return false;
      }
      return on_event(event);
    });
    return parse_status.ok() && !parser.stopped();
  };
  absl::Status sent = auth.transport->SendStreaming(request, on_headers, on_data, cancel);
  const std::string what =
      absl::StrCat("WATCH ", path_and_query.substr(0, path_and_query.find('?')));
  if (!parse_status.ok()) {
    if (IsGone(parse_status)) {
      return parse_status;
    }
    if (absl::IsDataLoss(parse_status) || absl::IsResourceExhausted(parse_status)) {
      return absl::UnavailableError(absl::StrCat(what, ": ", parse_status.message()));
    }
    return parse_status;  // a mapped ERROR event
  }
  if (parser.stopped() || (cancel != nullptr && cancel->load())) {
    return absl::OkStatus();
  }
  if (!sent.ok()) {
    if (absl::IsInvalidArgument(sent)) {
      return sent;
    }
    return absl::UnavailableError(absl::StrCat(what, ": ", sent.message()));
  }
  if (http_status != 200) {
    *unauthorized = http_status == 401;
    return StatusFromHttp(http_status, response_headers, error_body, what);
  }
  if (absl::Status end = parser.Finish(); !end.ok()) {
    return absl::UnavailableError(absl::StrCat(what, ": ", end.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<nlohmann::json> KubeClientImpl::Create(const Gvr& gvr, const std::string& ns,
                                                      const nlohmann::json& object) {
  return DoJson("POST", Path(gvr, ns), object.dump(), "application/json",
                What("CREATE", gvr, ns, NameOf(object)));
}

absl::StatusOr<nlohmann::json> KubeClientImpl::Update(const Gvr& gvr, const std::string& ns,
                                                      const nlohmann::json& object) {
  const std::string name = NameOf(object);
  if (name.empty()) {
    return absl::InvalidArgumentError("Update: the object has no metadata.name");
  }
  return DoJson("PUT", Path(gvr, ns, name), object.dump(), "application/json",
                What("UPDATE", gvr, ns, name));
}

absl::StatusOr<nlohmann::json> KubeClientImpl::UpdateStatus(const Gvr& gvr, const std::string& ns,
                                                            const nlohmann::json& object) {
  const std::string name = NameOf(object);
  if (name.empty()) {
    return absl::InvalidArgumentError("UpdateStatus: the object has no metadata.name");
  }
  return DoJson("PUT", Path(gvr, ns, name, "status"), object.dump(), "application/json",
                What("UPDATE status of", gvr, ns, name));
}

absl::StatusOr<nlohmann::json> KubeClientImpl::Patch(const Gvr& gvr, const std::string& ns,
                                                     const std::string& name, PatchType type,
                                                     const std::string& body,
                                                     const std::string& subresource) {
  if (name.empty()) {
    return absl::InvalidArgumentError("Patch: no object name");
  }
  return DoJson("PATCH", Path(gvr, ns, name, subresource), body, ContentTypeFor(type),
                What(subresource.empty() ? "PATCH" : absl::StrCat("PATCH ", subresource, " of"),
                     gvr, ns, name));
}

absl::Status KubeClientImpl::Delete(const Gvr& gvr, const std::string& ns,
                                    const std::string& name) {
  if (name.empty()) {
    return absl::InvalidArgumentError("Delete: no object name");
  }
  return DoJson("DELETE", Path(gvr, ns, name), "", "", What("DELETE", gvr, ns, name)).status();
}

}  // namespace kustodian::kube
