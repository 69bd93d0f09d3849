// Api: the resource handlers behind KubeApiServer (get, list, watch, create, update, patch,
// delete, the status subresource) and the injected write failures of /_test/fail.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "src/http/server.h"
#include "tests/kubeapi/api_error.h"
#include "tests/kubeapi/resource_types.h"
#include "tests/kubeapi/store.h"

namespace kustodian::kubeapi {

struct ApiServerOptions;

// What a resource URL names.
struct RequestInfo {
  const ResourceType* type = nullptr;
  std::string ns;           // "" for cluster-scoped or all-namespaces
  std::string name;         // "" for collections
  std::string subresource;  // "" or "status"
};

// Parses /api/v1/... or /apis/g/v/... into `info`. Returns false when the path names no served
// resource (the caller answers 404).
bool ParseResourcePath(const Registry& registry, const std::string& path, RequestInfo* info);

ServerResponse JsonResponse(int code, const nlohmann::json& body);
ServerResponse ErrorResponse(const ApiError& error);

// Thread-safe.
class Api {
 public:
  Api(const Registry& registry, ObjectStore& store, const ApiServerOptions& options);
  ServerResponse Serve(const ServerRequest& req, const RequestInfo& info);

  // Makes the next `count` requests matching `resource` ("dataconnections" or
  // "dataconnections/status"; "" = any) and `verb` (PUT, PATCH, POST, DELETE, "write" = any of
  // them, "" = any verb) fail with `code`.
  void AddFailure(const std::string& resource, const std::string& verb, int code, int count);
  // Creates a stored object directly (startup namespaces).
  void Seed(const ResourceType& type, nlohmann::json obj);

 private:
  struct Failure {
    std::string resource;
    std::string verb;
    int code;
    int count;
  };
  std::optional<ServerResponse> InjectedFailure(const ServerRequest& req, const RequestInfo& info);

  ServerResponse Get(const ServerRequest& req, const RequestInfo& info);
  ServerResponse List(const ServerRequest& req, const RequestInfo& info);
  ServerResponse Watch(const ServerRequest& req, const RequestInfo& info);
  ServerResponse Create(const ServerRequest& req, const RequestInfo& info);
  ServerResponse Update(const ServerRequest& req, const RequestInfo& info);
  ServerResponse Patch(const ServerRequest& req, const RequestInfo& info);
  ServerResponse Delete(const ServerRequest& req, const RequestInfo& info);

  // Create inside a transaction; served-form object in, response out.
  ServerResponse CreateLocked(ObjectStore::Txn& txn, const ServerRequest& req,
                              const RequestInfo& info, nlohmann::json obj);
  // Applies an update of `proposed` (served form) over `current` (stored form).
  ServerResponse CommitLocked(ObjectStore::Txn& txn, const ServerRequest& req,
                              const RequestInfo& info, const nlohmann::json& current,
                              nlohmann::json proposed);
  ServerResponse DeleteNamespaceLocked(ObjectStore::Txn& txn, const nlohmann::json& ns);
  ServerResponse Served(int code, const ServerRequest& req, const RequestInfo& info,
                        const nlohmann::json& stored, const std::vector<std::string>& warnings);

  const Registry& registry_;
  ObjectStore& store_;
  const ApiServerOptions& options_;
  std::mutex mu_;
  std::vector<Failure> failures_;  // guarded by mu_
};

}  // namespace kustodian::kubeapi
