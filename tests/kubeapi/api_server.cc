// KubeApiServer: startup (CRDs, seed namespaces, bind), authentication, the pause fault, the
// request log, and routing to discovery, OpenAPI, /_test/ admin endpoints and resources.
#include "tests/kubeapi/api_server.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/kubeapi/api.h"
#include "tests/kubeapi/discovery.h"
#include "tests/kubeapi/k8s_time.h"
#include "tests/kubeapi/protobuf_body.h"
#include "tests/kubeapi/yaml_json.h"

namespace kustodian::kubeapi {
namespace {

constexpr size_t kMaxRequestLog = 20000;

std::string Query(const ServerRequest& req) {
  size_t q = req.raw_target.find('?');
  return q == std::string::npos ? "" : req.raw_target.substr(q + 1);
}

ServerResponse Text(int code, const std::string& body) {
  ServerResponse r;
  r.status = code;
  r.body = body;
  r.content_type = "text/plain; charset=utf-8";
  return r;
}

}  // namespace

KubeApiServer::KubeApiServer(ApiServerOptions options)
    : options_(std::move(options)),
      store_(std::make_unique<ObjectStore>(options_.watch_cache_size)) {}

KubeApiServer::~KubeApiServer() { Stop(); }

absl::Status KubeApiServer::Start() {
  for (const std::string& file : options_.crd_files) {
    std::ifstream in(file);
    if (!in) {
      return absl::InvalidArgumentError(absl::StrCat("--crd ", file, ": cannot read the file"));
    }
    std::stringstream text;
    text << in.rdbuf();
    auto docs = YamlToJson(text.str(), file);
    if (!docs.ok()) return docs.status();
    for (const json& doc : *docs) {
      absl::Status st = registry_.AddCrd(doc, file);
      if (!st.ok()) return st;
    }
  }
  for (const json& doc : options_.crds) {
    absl::Status st = registry_.AddCrd(doc, "in-process CRD");
    if (!st.ok()) return st;
  }
  api_ = std::make_unique<Api>(registry_, *store_, options_);
  const ResourceType* ns = registry_.Find("", "v1", "namespaces");
  for (const char* name : {"default", "kube-system"}) {
    api_->Seed(*ns, {{"metadata", {{"name", name}}}});
  }
  const ResourceType* crd_type =
      registry_.Find("apiextensions.k8s.io", "v1", "customresourcedefinitions");
  for (const json& crd : registry_.crds()) {
    json copy = crd;
    copy["status"] = {
        {"acceptedNames", copy["spec"].value("names", json::object())},
        {"storedVersions", json::array()},
        {"conditions",
         {{{"type", "Established"}, {"status", "True"}, {"reason", "InitialNamesAccepted"}}}}};
    api_->Seed(*crd_type, copy);
  }
  http_.SetWorkerThreads(options_.worker_threads);
  http_.Route("*", "/", [this](const ServerRequest& req) {
    ServerResponse r = Handle(req);
    Record(req, r.status);
    return r;
  });
  absl::StatusOr<int> port =
      options_.tls_cert.empty()
          ? http_.Start(options_.bind, options_.port)
          : http_.StartTls(options_.bind, options_.port, options_.tls_cert, options_.tls_key);
  if (!port.ok()) return port.status();
  port_ = *port;
  started_ = true;
  return absl::OkStatus();
}

void KubeApiServer::Stop() {
  store_->Stop();
  http_.Stop();
}

std::string KubeApiServer::url() const {
  return absl::StrCat(options_.tls_cert.empty() ? "http" : "https", "://", options_.bind, ":",
                      port_);
}

std::string KubeApiServer::Kubeconfig() const {
  std::string cluster = absl::StrCat("    server: ", url(), "\n");
  if (!options_.tls_cert.empty()) {
    std::ifstream in(options_.tls_cert);
    std::stringstream pem;
    pem << in.rdbuf();
    absl::StrAppend(&cluster, "    certificate-authority-data: ", absl::Base64Escape(pem.str()),
                    "\n");
  }
  std::string user = options_.token.empty() ? "{}" : "\n    token: " + options_.token;
  return absl::StrCat("apiVersion: v1\nkind: Config\nclusters:\n- name: kube-test\n  cluster:\n",
                      cluster,
                      "contexts:\n- name: kube-test\n  context:\n    cluster: kube-test\n"
                      "    user: kube-test\n    namespace: default\n"
                      "current-context: kube-test\nusers:\n- name: kube-test\n  user: ",
                      user, "\n");
}

std::vector<RequestRecord> KubeApiServer::Requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {requests_.begin(), requests_.end()};
}

void KubeApiServer::Record(const ServerRequest& req, int status) {
  RequestRecord rec{req.method,
                    req.path,
                    Query(req),
                    req.Header("User-Agent").value_or(""),
                    req.Header("Content-Type").value_or(""),
                    status,
                    FormatMicroTime(absl::Now())};
  if (options_.log_requests) {
    std::cerr << rec.time << " " << rec.method << " " << req.raw_target << " " << status << " "
              << rec.user_agent << std::endl;
  }
  if (absl::StartsWith(req.path, "/_test/")) {
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  requests_.push_back(std::move(rec));
  while (requests_.size() > kMaxRequestLog) requests_.pop_front();
}

ServerResponse KubeApiServer::Handle(const ServerRequest& req) {
  const std::string& path = req.path;
  if (absl::StartsWith(path, "/_test/")) {
    return HandleAdmin(req);
  }
  if (path == "/healthz" || path == "/livez" || path == "/readyz") {
    return Text(200, "ok");
  }
  if (!options_.token.empty() &&
      req.Header("Authorization").value_or("") != "Bearer " + options_.token) {
    return ErrorResponse(Unauthorized());
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    absl::Duration left = paused_until_ - absl::Now();
    if (left > absl::ZeroDuration()) {
      ServerResponse r =
          ErrorResponse(ServiceUnavailable("the server is currently unable to handle the request"));
      r.headers.emplace_back("Retry-After",
                             std::to_string(std::max<int64_t>(1, absl::ToInt64Seconds(left) + 1)));
      return r;
    }
  }
  if (path == "/version" || path == "/version/") return JsonResponse(200, VersionInfo());
  if (path == "/api" || path == "/api/") {
    return JsonResponse(200, CoreApiVersions(absl::StrCat(options_.bind, ":", port_)));
  }
  if (path == "/apis" || path == "/apis/") return JsonResponse(200, ApiGroupList(registry_));
  if (path == "/openapi/v3" || path == "/openapi/v3/") {
    return JsonResponse(200, OpenApiV3Root(registry_));
  }
  if (absl::StartsWith(path, "/openapi/v3/")) {
    json doc = OpenApiV3Document(registry_, path.substr(std::string("/openapi/v3/").size()));
    if (!doc.is_null()) return JsonResponse(200, doc);
  }
  std::vector<std::string> segs;
  for (absl::string_view s : absl::StrSplit(path, '/', absl::SkipEmpty())) segs.emplace_back(s);
  if (req.method == "GET" && segs.size() == 2 && segs[0] == "api") {
    json list = ApiResourceList(registry_, "", segs[1]);
    if (!list.is_null()) return JsonResponse(200, list);
  }
  if (req.method == "GET" && segs.size() == 3 && segs[0] == "apis") {
    json list = ApiResourceList(registry_, segs[1], segs[2]);
    if (!list.is_null()) return JsonResponse(200, list);
  }
  if (req.method == "GET" && segs.size() == 2 && segs[0] == "apis") {
    json groups = ApiGroupList(registry_);
    for (const json& g : groups["groups"]) {
      if (g["name"] == segs[1]) {
        json out = g;
        out["kind"] = "APIGroup";
        out["apiVersion"] = "v1";
        return JsonResponse(200, out);
      }
    }
  }
  RequestInfo info;
  if (ParseResourcePath(registry_, path, &info)) {
    if (absl::StrContains(req.Header("Content-Type").value_or(""), "protobuf")) {
      auto decoded = DecodeProtobufBody(req.body);
      if (!decoded.ok()) {
        return ErrorResponse(UnsupportedMediaType(absl::StrCat(
            "the body of the request was in an unknown format - accepted media types include: "
            "application/json, application/yaml (",
            decoded.status().message(), ")")));
      }
      ServerRequest json_req = req;
      json_req.body = decoded->dump();
      return api_->Serve(json_req, info);
    }
    return api_->Serve(req, info);
  }
  return ErrorResponse({404, "NotFound", "the server could not find the requested resource",
                        json{{"causes", json::array()}}});
}

ServerResponse KubeApiServer::HandleAdmin(const ServerRequest& req) {
  std::string what = req.path.substr(std::string("/_test/").size());
  int64_t count = 1;
  absl::SimpleAtoi(req.Query("count").value_or("1"), &count);
  auto ok = [](json extra = json::object()) {
    extra["ok"] = true;
    return JsonResponse(200, extra);
  };
  if (what == "requests" && req.method == "GET") {
    json out = json::array();
    for (const RequestRecord& r : Requests()) {
      out.push_back({{"method", r.method},
                     {"path", r.path},
                     {"query", r.query},
                     {"userAgent", r.user_agent},
                     {"contentType", r.content_type},
                     {"status", r.status},
                     {"time", r.time}});
    }
    return JsonResponse(200, {{"requests", out}});
  }
  if (what == "requests" && req.method == "DELETE") {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.clear();
    return ok();
  }
  if (what == "watches" && req.method == "GET") {
    return JsonResponse(200, {{"open", store_->OpenWatches()}});
  }
  if (req.method != "POST") {
    return ErrorResponse(MethodNotAllowed(absl::StrCat("unknown admin endpoint ", req.method, " ",
                                                       req.path, "; see tests/kubeapi/README.md")));
  }
  if (what == "break-watches") {
    store_->BreakWatches();
    return ok();
  }
  if (what == "compact") {
    store_->Compact();
    return ok({{"compactedResourceVersion", std::to_string(store_->OldestWatchable())}});
  }
  if (what == "conflict" || what == "fail") {
    int64_t code = what == "conflict" ? 409 : 500;
    absl::SimpleAtoi(req.Query("code").value_or(std::to_string(code)), &code);
    std::string verb = req.Query("verb").value_or("write");
    if (verb == "any") verb = "";
    api_->AddFailure(req.Query("resource").value_or(""), verb, static_cast<int>(code),
                     static_cast<int>(count));
    return ok();
  }
  if (what == "pause") {
    double seconds = 0;
    absl::SimpleAtod(req.Query("seconds").value_or("0"), &seconds);
    std::lock_guard<std::mutex> lock(mu_);
    paused_until_ = absl::Now() + absl::Seconds(seconds);
    return ok();
  }
  return ErrorResponse(
      {404, "NotFound",
       absl::StrCat("unknown admin endpoint ", req.path, "; see tests/kubeapi/README.md"),
       nullptr});
}

}  // namespace kustodian::kubeapi
