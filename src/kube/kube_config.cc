// Loading a KubeConfig: in-cluster service account, kubeconfig YAML (clusters, users, contexts,
// current-context), and kubectl's resolution order. yaml-cpp exceptions stop at this boundary.
#include "src/kube/kube_config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "src/core/status.h"
#include "src/core/strings.h"
#include "src/kube/temp_files.h"

namespace kustodian::kube {
namespace {

namespace fs = std::filesystem;

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool FileExists(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

// Parses one kubeconfig document. Field paths in errors look like
// `users[name=admin].user.client-key-data`.
class KubeconfigParser {
 public:
  KubeconfigParser(std::string path, const YAML::Node& root)
      : path_(std::move(path)), dir_(fs::path(path_).parent_path().string()), root_(root) {}

  absl::StatusOr<KubeConfig> Parse(const std::string& context_override) {
    if (!root_.IsMap()) {
      return Error("",
                   "the file is not a kubeconfig (expected a YAML mapping with clusters, "
                   "users and contexts)");
    }
    KubeConfig config;
    config.origin = absl::StrCat("kubeconfig ", path_);
    config.temp_files = std::make_shared<TempFiles>();
    std::string context_name = context_override;
    if (context_name.empty()) {
      KUS_ASSIGN_OR_RETURN(context_name, String(root_, "current-context", "current-context"));
      if (context_name.empty()) {
        return Error("current-context",
                     "is not set; pass --context or run `kubectl config use-context NAME`");
      }
    }
    config.context = context_name;
    KUS_ASSIGN_OR_RETURN(YAML::Node context, Find("contexts", context_name));
    const std::string cpath = absl::StrCat("contexts[name=", context_name, "].context");
    KUS_ASSIGN_OR_RETURN(std::string cluster_name, String(context, "cluster", cpath + ".cluster"));
    KUS_ASSIGN_OR_RETURN(std::string user_name, String(context, "user", cpath + ".user"));
    KUS_ASSIGN_OR_RETURN(std::string ns, String(context, "namespace", cpath + ".namespace"));
    if (!ns.empty()) {
      config.default_namespace = ns;
    }
    if (cluster_name.empty()) {
      return Error(cpath + ".cluster", "is missing");
    }
    KUS_RETURN_IF_ERROR(ParseCluster(cluster_name, config));
    if (!user_name.empty()) {
      KUS_RETURN_IF_ERROR(ParseUser(user_name, config));
    }
    return config;
  }

 private:
  absl::Status Error(std::string_view field, std::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("kubeconfig ", path_, ": ", Av(field), field.empty() ? "" : " ", Av(what)));
  }

  // The string at node[key]; "" when absent; InvalidArgument when not a scalar.
  absl::StatusOr<std::string> String(const YAML::Node& node, const char* key,
                                     const std::string& field) const {
    YAML::Node value = node[key];
    if (!value.IsDefined() || value.IsNull()) {
      return std::string();
    }
    if (!value.IsScalar()) {
      return Error(field, "must be a string");
    }
    return value.Scalar();
  }

  absl::StatusOr<bool> Bool(const YAML::Node& node, const char* key,
                            const std::string& field) const {
    YAML::Node value = node[key];
    if (!value.IsDefined() || value.IsNull()) {
      return false;
    }
    bool out = false;
    if (!value.IsScalar() || !YAML::convert<bool>::decode(value, out)) {
      return Error(field, "must be true or false");
    }
    return out;
  }

  // The inner mapping (`context`, `cluster` or `user`) of the named entry of list `list`.
  absl::StatusOr<YAML::Node> Find(const char* list, const std::string& name) const {
    YAML::Node entries = root_[list];
    const char* inner = std::string_view(list) == "contexts"   ? "context"
                        : std::string_view(list) == "clusters" ? "cluster"
                                                               : "user";
    std::vector<std::string> names;
    if (entries.IsDefined() && !entries.IsNull()) {
      if (!entries.IsSequence()) {
        return Error(list, "must be a list");
      }
      for (const YAML::Node& entry : entries) {
        if (!entry.IsMap() || !entry["name"].IsScalar()) {
          return Error(list, "has an entry without a name");
        }
        names.push_back(entry["name"].Scalar());
        if (names.back() == name) {
          YAML::Node value = entry[inner];
          if (value.IsDefined() && !value.IsNull() && !value.IsMap()) {
            return Error(absl::StrCat(list, "[name=", name, "].", inner), "must be a mapping");
          }
          return value.IsMap() ? value : YAML::Node(YAML::NodeType::Map);
        }
      }
    }
    return Error(list, absl::StrCat("has no entry named \"", name, "\" (found: ",
                                    names.empty() ? "none" : absl::StrJoin(names, ", "), ")"));
  }

  std::string Resolve(const std::string& file) const {
    if (file.empty() || fs::path(file).is_absolute()) {
      return file;
    }
    return (fs::path(dir_.empty() ? "." : dir_) / file).lexically_normal().string();
  }

  // A PEM given as `<key>` (a file) or `<key>-data` (base64): returns a file path ("" = none).
  absl::StatusOr<std::string> FileOrData(const YAML::Node& node, const std::string& key,
                                         const std::string& base, const char* label,
                                         KubeConfig& config) const {
    KUS_ASSIGN_OR_RETURN(std::string file, String(node, key.c_str(), base + "." + key));
    std::string data_key = key + "-data";
    KUS_ASSIGN_OR_RETURN(std::string data, String(node, data_key.c_str(), base + "." + data_key));
    if (!file.empty() && !data.empty()) {
      return Error(base, absl::StrCat("sets both ", key, " and ", data_key, "; keep one"));
    }
    if (!data.empty()) {
      std::string decoded;
      if (!absl::Base64Unescape(Av(data), &decoded) || decoded.empty()) {
        return Error(base + "." + data_key, "is not valid base64");
      }
      absl::StatusOr<std::string> path = config.temp_files->Write(label, decoded);
      if (!path.ok()) {
        return Error(base + "." + data_key, Sv(path.status().message()));
      }
      return *path;
    }
    if (file.empty()) {
      return std::string();
    }
    std::string path = Resolve(file);
    if (!FileExists(path)) {
      return Error(base + "." + key,
                   absl::StrCat("names \"", path, "\", which is not a readable file"));
    }
    return path;
  }

  absl::Status ParseCluster(const std::string& name, KubeConfig& config) const {
    KUS_ASSIGN_OR_RETURN(YAML::Node cluster, Find("clusters", name));
    const std::string base = absl::StrCat("clusters[name=", name, "].cluster");
    KUS_ASSIGN_OR_RETURN(config.server, String(cluster, "server", base + ".server"));
    while (absl::EndsWith(config.server, "/")) {
      config.server.pop_back();
    }
    if (config.server.empty()) {
      return Error(base + ".server", "is missing (expected https://host:port)");
    }
    if (!absl::StartsWith(config.server, "https://") &&
        !absl::StartsWith(config.server, "http://")) {
      return Error(base + ".server",
                   absl::StrCat("\"", config.server,
                                "\" is not an http(s) URL (expected https://host:port)"));
    }
    KUS_ASSIGN_OR_RETURN(config.insecure_skip_tls_verify, Bool(cluster, "insecure-skip-tls-verify",
                                                               base + ".insecure-skip-tls-verify"));
    KUS_ASSIGN_OR_RETURN(config.ca_file,
                         FileOrData(cluster, "certificate-authority", base, "ca", config));
    if (config.insecure_skip_tls_verify && !config.ca_file.empty()) {
      return Error(base,
                   "sets insecure-skip-tls-verify together with a certificate authority; "
                   "remove one");
    }
    return absl::OkStatus();
  }

  absl::Status ParseUser(const std::string& name, KubeConfig& config) const {
    KUS_ASSIGN_OR_RETURN(YAML::Node user, Find("users", name));
    const std::string base = absl::StrCat("users[name=", name, "].user");
    KUS_ASSIGN_OR_RETURN(config.token, String(user, "token", base + ".token"));
    KUS_ASSIGN_OR_RETURN(std::string token_file, String(user, "tokenFile", base + ".tokenFile"));
    if (!token_file.empty()) {
      config.token_file = Resolve(token_file);
      if (!FileExists(config.token_file)) {
        return Error(base + ".tokenFile", absl::StrCat("names \"", config.token_file,
                                                       "\", which is not a readable file"));
      }
    }
    KUS_ASSIGN_OR_RETURN(config.client_cert_file,
                         FileOrData(user, "client-certificate", base, "client-cert", config));
    KUS_ASSIGN_OR_RETURN(config.client_key_file,
                         FileOrData(user, "client-key", base, "client-key", config));
    if (config.client_cert_file.empty() != config.client_key_file.empty()) {
      return Error(base, "needs both a client certificate and a client key (only one is set)");
    }
    for (const char* unsupported : {"auth-provider", "username", "password"}) {
      if (user[unsupported].IsDefined() && !user[unsupported].IsNull()) {
        return Error(absl::StrCat(base, ".", unsupported),
                     "is not supported; use a token, a client certificate or an exec plugin");
      }
    }
    YAML::Node exec = user["exec"];
    if (exec.IsDefined() && !exec.IsNull()) {
      KUS_ASSIGN_OR_RETURN(config.exec, ParseExec(exec, base + ".exec"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<ExecConfig> ParseExec(const YAML::Node& exec, const std::string& base) const {
    if (!exec.IsMap()) {
      return Error(base, "must be a mapping");
    }
    ExecConfig out;
    KUS_ASSIGN_OR_RETURN(out.api_version, String(exec, "apiVersion", base + ".apiVersion"));
    if (out.api_version != "client.authentication.k8s.io/v1" &&
        out.api_version != "client.authentication.k8s.io/v1beta1") {
      return Error(base + ".apiVersion",
                   absl::StrCat("\"", out.api_version,
                                "\" is not supported (use client.authentication.k8s.io/v1 or "
                                "v1beta1)"));
    }
    KUS_ASSIGN_OR_RETURN(out.command, String(exec, "command", base + ".command"));
    if (out.command.empty()) {
      return Error(base + ".command", "is missing");
    }
    if (out.command.find('/') != std::string::npos) {
      out.command = Resolve(out.command);  // like kubectl: relative paths with a '/' only
    }
    YAML::Node args = exec["args"];
    if (args.IsDefined() && !args.IsNull()) {
      if (!args.IsSequence()) {
        return Error(base + ".args", "must be a list of strings");
      }
      for (const YAML::Node& arg : args) {
        if (!arg.IsScalar()) {
          return Error(base + ".args", "must be a list of strings");
        }
        out.args.push_back(arg.Scalar());
      }
    }
    YAML::Node env = exec["env"];
    if (env.IsDefined() && !env.IsNull()) {
      if (!env.IsSequence()) {
        return Error(base + ".env", "must be a list of {name, value}");
      }
      for (const YAML::Node& var : env) {
        if (!var.IsMap() || !var["name"].IsScalar() || var["name"].Scalar().empty() ||
            (var["value"].IsDefined() && !var["value"].IsNull() && !var["value"].IsScalar())) {
          return Error(base + ".env", "must be a list of {name, value}");
        }
        out.env.emplace_back(var["name"].Scalar(),
                             var["value"].IsScalar() ? var["value"].Scalar() : "");
      }
    }
    KUS_ASSIGN_OR_RETURN(out.provide_cluster_info,
                         Bool(exec, "provideClusterInfo", base + ".provideClusterInfo"));
    KUS_ASSIGN_OR_RETURN(std::string mode,
                         String(exec, "interactiveMode", base + ".interactiveMode"));
    if (mode == "Always") {
      return Error(base + ".interactiveMode",
                   "is Always, but Kustodian runs without a terminal (use Never or IfAvailable)");
    }
    return out;
  }

  const std::string path_;
  const std::string dir_;
  const YAML::Node root_;
};

}  // namespace

absl::StatusOr<KubeConfig> LoadInClusterConfig(const std::string& sa_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || port == nullptr || host[0] == '\0' || port[0] == '\0') {
    return absl::NotFoundError(
        "not running in a Kubernetes cluster (KUBERNETES_SERVICE_HOST/PORT are not set)");
  }
  KubeConfig config;
  config.origin = "in-cluster";
  std::string h(host);
  bool v6 = h.find(':') != std::string::npos && h.front() != '[';
  config.server = absl::StrCat("https://", v6 ? "[" : "", h, v6 ? "]" : "", ":", port);
  config.token_file = absl::StrCat(sa_dir, "/token");
  if (!FileExists(config.token_file)) {
    return absl::InvalidArgumentError(
        absl::StrCat("in-cluster config: service account token ", config.token_file,
                     " is missing (is automountServiceAccountToken disabled for this pod?)"));
  }
  std::string ca = absl::StrCat(sa_dir, "/ca.crt");
  if (FileExists(ca)) {
    config.ca_file = ca;
  }
  if (absl::StatusOr<std::string> ns = ReadFile(absl::StrCat(sa_dir, "/namespace")); ns.ok()) {
    std::string trimmed(absl::StripAsciiWhitespace(*ns));
    if (!trimmed.empty()) {
      config.default_namespace = trimmed;
    }
  }
  return config;
}

absl::StatusOr<KubeConfig> LoadKubeconfig(const std::string& path, const std::string& context) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) {
    return absl::NotFoundError(absl::StrCat("kubeconfig ", path, ": cannot read the file"));
  }
  YAML::Node root;
  try {
    root = YAML::Load(*text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("kubeconfig ", path, ": invalid YAML at line ", e.mark.line + 1, ": ", e.msg));
  }
  try {
    return KubeconfigParser(path, root).Parse(context);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        "kubeconfig ", path, ": unexpected structure at line ", e.mark.line + 1, ": ", e.msg));
  }
}

absl::StatusOr<KubeConfig> ResolveKubeConfig(const std::string& kubeconfig_flag,
                                             const std::string& context) {
  if (!kubeconfig_flag.empty()) {
    return LoadKubeconfig(kubeconfig_flag, context);
  }
  if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && env[0] != '\0') {
    for (absl::string_view part : absl::StrSplit(env, ':', absl::SkipEmpty())) {
      std::string path(part);
      if (FileExists(path)) {
        return LoadKubeconfig(path, context);
      }
    }
  }
  if (context.empty()) {
    absl::StatusOr<KubeConfig> in_cluster = LoadInClusterConfig();
    if (!absl::IsNotFound(in_cluster.status())) {
      return in_cluster;
    }
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && home[0] != '\0') {
    std::string path = absl::StrCat(home, "/.kube/config");
    if (FileExists(path)) {
      return LoadKubeconfig(path, context);
    }
  }
  return absl::NotFoundError(
      "no Kubernetes configuration: pass --kubeconfig, set KUBECONFIG, run in a cluster, or "
      "create ~/.kube/config");
}

}  // namespace kustodian::kube
