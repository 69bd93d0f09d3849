// Configuration: kubeconfig parsing (tokens, certificate data to private files, relative paths,
// contexts, errors naming the file and field), exec credential plugins run like kubectl runs
// them, and in-cluster config with a rotating service account token.
#include "src/kube/kube_config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "src/kube/credentials.h"
#include "src/kube/temp_files.h"
#include "tests/kube/test_api_server.h"

namespace kustodian::kube {
namespace {

namespace fs = std::filesystem;
using testing::Object;
using testing::TestApiServer;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "kube-config-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& content, bool exec = false) {
    std::string path = path_ + "/" + name;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
    if (exec) {
      ::chmod(path.c_str(), 0755);
    }
    return path;
  }
  std::string Read(const std::string& name) const { return ReadFile(path_ + "/" + name); }
  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string B64(const std::string& s) { return absl::Base64Escape(s); }

int Mode(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777) : -1;
}

std::string TwoContexts() {
  return absl::StrCat(R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://dev.example:6443/
    certificate-authority-data: )",
                      B64("CA PEM\n"), R"(
- name: prod-cluster
  cluster:
    server: https://prod.example
    certificate-authority: certs/ca.pem
users:
- name: dev-user
  user:
    token: dev-token
    client-certificate-data: )",
                      B64("CERT PEM\n"), R"(
    client-key-data: )",
                      B64("KEY PEM\n"), R"(
- name: prod-user
  user:
    tokenFile: prod.token
contexts:
- name: dev
  context: {cluster: dev-cluster, user: dev-user, namespace: team-a}
- name: prod
  context: {cluster: prod-cluster, user: prod-user}
)");
}

TEST(KubeconfigTest, CurrentContextWithTokenAndCertificateData) {
  TempDir dir;
  std::string path = dir.Write("config", TwoContexts());
  std::string ca_file, cert_file;
  {
    auto config = LoadKubeconfig(path, "");
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_EQ(config->server, "https://dev.example:6443");
    EXPECT_EQ(config->context, "dev");
    EXPECT_EQ(config->default_namespace, "team-a");
    EXPECT_EQ(config->token, "dev-token");
    EXPECT_FALSE(config->insecure_skip_tls_verify);
    ca_file = config->ca_file;
    cert_file = config->client_cert_file;
    EXPECT_EQ(TempDir::ReadFile(ca_file), "CA PEM\n");
    EXPECT_EQ(TempDir::ReadFile(cert_file), "CERT PEM\n");
    EXPECT_EQ(TempDir::ReadFile(config->client_key_file), "KEY PEM\n");
    EXPECT_EQ(Mode(config->client_key_file), 0600);
    EXPECT_EQ(Mode(ca_file), 0600);
  }
  // The private files go away with the last copy of the config.
  EXPECT_FALSE(fs::exists(ca_file));
  EXPECT_FALSE(fs::exists(cert_file));
}

TEST(KubeconfigTest, ContextOverrideAndRelativePaths) {
  TempDir dir;
  fs::create_directories(dir.path() + "/certs");
  dir.Write("certs/ca.pem", "PROD CA");
  dir.Write("prod.token", "prod-token\n");
  std::string path = dir.Write("config", TwoContexts());
  auto config = LoadKubeconfig(path, "prod");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->server, "https://prod.example");
  EXPECT_EQ(config->ca_file, dir.path() + "/certs/ca.pem");
  EXPECT_EQ(config->token_file, dir.path() + "/prod.token");
  EXPECT_EQ(config->default_namespace, "default");
  EXPECT_TRUE(config->token.empty());
}

void ExpectError(const std::string& yaml, const std::string& context,
                 const std::vector<std::string>& needles) {
  TempDir dir;
  std::string path = dir.Write("config", yaml);
  auto config = LoadKubeconfig(path, context);
  ASSERT_FALSE(config.ok()) << yaml;
  EXPECT_TRUE(absl::IsInvalidArgument(config.status())) << config.status();
  EXPECT_TRUE(absl::StrContains(config.status().message(), path)) << config.status();
  for (const std::string& needle : needles) {
    EXPECT_TRUE(absl::StrContains(config.status().message(), needle))
        << config.status() << " lacks " << needle;
  }
}

TEST(KubeconfigTest, ErrorsNameTheFileAndTheField) {
  ExpectError("clusters: [", "", {"invalid YAML", "line"});
  ExpectError(TwoContexts(), "staging", {"contexts", "staging", "dev, prod"});
  ExpectError("clusters: []\nusers: []\ncontexts: []\n", "", {"current-context", "--context"});
  ExpectError(R"(current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
)",
              "", {"clusters[name=k].cluster.server", "missing"});
  ExpectError(R"(current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "https://x"}}]
users: [{name: u, user: {client-certificate-data: "%%%notbase64", client-key-data: "QQ=="}}]
)",
              "", {"users[name=u].user.client-certificate-data", "base64"});
  ExpectError(R"(current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "https://x", certificate-authority: a.pem, certificate-authority-data: QQ==}}]
users: [{name: u, user: {}}]
)",
              "", {"certificate-authority-data", "both"});
  ExpectError(R"(current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "https://x", certificate-authority: missing.pem}}]
users: [{name: u, user: {}}]
)",
              "", {"clusters[name=k].cluster.certificate-authority", "missing.pem"});
  ExpectError(R"(current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "https://x"}}]
users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: x}}}]
)",
              "", {"users[name=u].user.exec.apiVersion", "v1alpha1"});
}

TEST(KubeconfigTest, MissingFileIsNotFound) {
  auto config = LoadKubeconfig("/nonexistent/kubeconfig", "");
  EXPECT_TRUE(absl::IsNotFound(config.status())) << config.status();
  EXPECT_TRUE(absl::StrContains(config.status().message(), "/nonexistent/kubeconfig"));
}

TEST(KubeconfigTest, ResolveUsesTheFlagThenKubeconfigEnv) {
  TempDir dir;
  std::string path = dir.Write("config", TwoContexts());
  auto from_flag = ResolveKubeConfig(path, "dev");
  ASSERT_TRUE(from_flag.ok()) << from_flag.status();
  EXPECT_EQ(from_flag->server, "https://dev.example:6443");
  ::setenv("KUBECONFIG", absl::StrCat("/nonexistent/a:", path).c_str(), 1);
  auto from_env = ResolveKubeConfig("", "");
  ::unsetenv("KUBECONFIG");
  ASSERT_TRUE(from_env.ok()) << from_env.status();
  EXPECT_EQ(from_env->origin, "kubeconfig " + path);
}

// An exec plugin that counts its runs, saves KUBERNETES_EXEC_INFO and its first argument, and
// prints a token numbered by the run (or fails when FAIL is set).
constexpr char kPlugin[] = R"(#!/bin/sh
n=$(cat "$COUNTER" 2>/dev/null || echo 0)
n=$((n+1))
echo $n > "$COUNTER"
printf '%s' "$KUBERNETES_EXEC_INFO" > "$INFO_OUT"
printf '%s' "$1" > "$ARG_OUT"
if [ -n "$FAIL" ]; then echo "plugin broke: Bearer leaked-secret" >&2; exit 3; fi
echo "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
echo " \"status\":{\"token\":\"exec-token-$n\",\"expirationTimestamp\":\"2099-01-01T00:00:00Z\"}}"
)";

std::string ExecKubeconfig(const std::string& server, const std::string& dir,
                           const std::string& fail = "") {
  return absl::StrCat(R"(current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: ")",
                      server, R"("}}]
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/plugin.sh
      args: [--cluster=dev]
      env:
      - {name: COUNTER, value: ")",
                      dir, R"(/count"}
      - {name: INFO_OUT, value: ")",
                      dir, R"(/info"}
      - {name: ARG_OUT, value: ")",
                      dir, R"(/arg"}
      - {name: FAIL, value: ")",
                      fail, R"("}
      provideClusterInfo: true
      interactiveMode: Never
)");
}

TEST(ExecPluginTest, TokenFromPluginIsCachedAndRefreshedAfter401) {
  TestApiServer server;
  std::atomic<int> rejected{0};
  server.SetHandler([&](const ServerRequest& req) {
    if (req.path.find("/rotate") != std::string::npos &&
        req.Header("Authorization").value_or("") == "Bearer exec-token-1" && rejected++ == 0) {
      return TestApiServer::Json(401, TestApiServer::StatusBody(401, "Unauthorized", "expired"));
    }
    return TestApiServer::Json(200, Object("x", "1"));
  });
  TempDir dir;
  fs::create_directories(dir.path() + "/bin");
  dir.Write("bin/plugin.sh", kPlugin, /*exec=*/true);
  std::string path = dir.Write("config", ExecKubeconfig(server.Url(), dir.path()));
  auto config = LoadKubeconfig(path, "");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(config->exec.has_value());
  EXPECT_EQ(config->exec->command, dir.path() + "/bin/plugin.sh");
  EXPECT_EQ(config->exec->args, std::vector<std::string>{"--cluster=dev"});

  RealClock clock;
  auto client = NewKubeClient(*config, clock, Logger::Null());
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->Get(DataConnectionGvr(), "ns1", "a").ok());
  ASSERT_TRUE((*client)->Get(DataConnectionGvr(), "ns1", "b").ok());
  EXPECT_EQ(dir.Read("count"), "1\n");  // cached until it expires
  EXPECT_EQ(dir.Read("arg"), "--cluster=dev");
  nlohmann::json info = nlohmann::json::parse(dir.Read("info"));
  EXPECT_EQ(info["apiVersion"], "client.authentication.k8s.io/v1");
  EXPECT_EQ(info["kind"], "ExecCredential");
  EXPECT_EQ(info["spec"]["interactive"], false);
  EXPECT_EQ(info["spec"]["cluster"]["server"], server.Url());

  // A 401 re-runs the plugin once and retries with the new token.
  ASSERT_TRUE((*client)->Get(DataConnectionGvr(), "ns1", "rotate").ok());
  EXPECT_EQ(dir.Read("count"), "2\n");
  auto requests = server.Requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0].Header("Authorization").value_or(""), "Bearer exec-token-1");
  EXPECT_EQ(requests[2].Header("Authorization").value_or(""), "Bearer exec-token-1");
  EXPECT_EQ(requests[3].Header("Authorization").value_or(""), "Bearer exec-token-2");
}

TEST(ExecPluginTest, PluginFailureIsUnauthenticatedAndRedacted) {
  TestApiServer server;
  server.SetHandler(
      [](const ServerRequest&) { return TestApiServer::Json(200, Object("x", "1")); });
  TempDir dir;
  fs::create_directories(dir.path() + "/bin");
  dir.Write("bin/plugin.sh", kPlugin, /*exec=*/true);
  std::string path = dir.Write("config", ExecKubeconfig(server.Url(), dir.path(), "yes"));
  auto config = LoadKubeconfig(path, "");
  ASSERT_TRUE(config.ok()) << config.status();
  RealClock clock;
  auto client = NewKubeClient(*config, clock, Logger::Null());
  ASSERT_TRUE(client.ok());
  absl::Status status = (*client)->Get(DataConnectionGvr(), "ns1", "a").status();
  EXPECT_TRUE(absl::IsUnauthenticated(status)) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "exited with status 3")) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "plugin broke")) << status;
  EXPECT_FALSE(absl::StrContains(status.message(), "leaked-secret")) << status;
  EXPECT_TRUE(server.Requests().empty());
}

TEST(ExecPluginTest, ParseExecCredentialChecksTheDocument) {
  const std::string v1 = "client.authentication.k8s.io/v1";
  auto ok = ParseExecCredential(
      R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",
          "status":{"clientCertificateData":"C","clientKeyData":"K",
                    "expirationTimestamp":"2026-12-02T17:00:00Z"}})",
      v1);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->client_cert_pem, "C");
  EXPECT_EQ(ok->client_key_pem, "K");
  EXPECT_EQ(ok->expiry, absl::FromUnixSeconds(1'796'230'800));
  const std::vector<std::string> bad_documents = {
      "not json",
      R"({"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"t"}})",
      R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{}})",
      R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"clientCertificateData":"C"}})",
      R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t","expirationTimestamp":"soon"}})",
  };
  for (const std::string& bad : bad_documents) {
    EXPECT_TRUE(absl::IsUnauthenticated(ParseExecCredential(bad, v1).status())) << bad;
  }
}

class InClusterTest : public ::testing::Test {
 protected:
  void TearDown() override {
    ::unsetenv("KUBERNETES_SERVICE_HOST");
    ::unsetenv("KUBERNETES_SERVICE_PORT");
  }
  TempDir dir_;
};

TEST_F(InClusterTest, NotInAClusterIsNotFound) {
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  EXPECT_TRUE(absl::IsNotFound(LoadInClusterConfig(dir_.path()).status()));
}

TEST_F(InClusterTest, ReadsTheServiceAccountDirectory) {
  dir_.Write("token", "tok-1");
  dir_.Write("ca.crt", "CA");
  dir_.Write("namespace", "kustodian-system\n");
  ::setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto config = LoadInClusterConfig(dir_.path());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->server, "https://10.0.0.1:443");
  EXPECT_EQ(config->token_file, dir_.path() + "/token");
  EXPECT_EQ(config->ca_file, dir_.path() + "/ca.crt");
  EXPECT_EQ(config->default_namespace, "kustodian-system");
  ::setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  config = LoadInClusterConfig(dir_.path());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->server, "https://[fd00::1]:443");
}

TEST_F(InClusterTest, MissingTokenIsAClearError) {
  ::setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto config = LoadInClusterConfig(dir_.path());
  EXPECT_TRUE(absl::IsInvalidArgument(config.status())) << config.status();
  EXPECT_TRUE(absl::StrContains(config.status().message(), dir_.path() + "/token"));
}

TEST_F(InClusterTest, RotatedTokenIsPickedUp) {
  dir_.Write("token", "tok-1");
  ::setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto config = LoadInClusterConfig(dir_.path());
  ASSERT_TRUE(config.ok()) << config.status();
  TestApiServer server;
  server.SetHandler(
      [](const ServerRequest&) { return TestApiServer::Json(200, Object("x", "1")); });
  config->server = server.Url();  // the in-cluster https endpoint is not reachable here
  RealClock clock;
  auto client = NewKubeClient(*config, clock, Logger::Null());
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->Get(LeaseGvr(), "ns", "l").ok());
  dir_.Write("token", "tok-2-rotated");
  ASSERT_TRUE((*client)->Get(LeaseGvr(), "ns", "l").ok());
  auto requests = server.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].Header("Authorization").value_or(""), "Bearer tok-1");
  EXPECT_EQ(requests[1].Header("Authorization").value_or(""), "Bearer tok-2-rotated");
}

TEST(TempFilesTest, PrivateAndRemoved) {
  std::string path;
  {
    TempFiles files;
    auto written = files.Write("key", "secret");
    ASSERT_TRUE(written.ok()) << written.status();
    path = *written;
    EXPECT_EQ(Mode(path), 0600);
    EXPECT_EQ(TempDir::ReadFile(path), "secret");
  }
  EXPECT_FALSE(fs::exists(path));
}

}  // namespace
}  // namespace kustodian::kube
