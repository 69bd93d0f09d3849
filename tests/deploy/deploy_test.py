#!/usr/bin/python3
"""Tests of the deployment artifacts: manifests/ (kubectl kustomize), helm/kustodian (helm lint,
helm template), their equality in effect, and the Dockerfile.

Run one class: deploy_test.py -v HelmTest. Needs kubectl and helm on PATH (`make deps`) and,
for DockerfileTest, KUSTODIAN_BINARY naming a built kustodian binary.
"""

import copy
import os
import re
import shutil
import subprocess
import sys
import unittest

import yaml

SOURCE_DIR = os.environ.get(
    "KUSTODIAN_SOURCE_DIR",
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CRD = os.path.join(SOURCE_DIR, "crd", "dataconnections.kustodian.io.yaml")
CHART = os.path.join(SOURCE_DIR, "helm", "kustodian")
MANIFESTS = os.path.join(SOURCE_DIR, "manifests")
TESTDATA = os.path.join(SOURCE_DIR, "tests", "deploy", "testdata")
NAMESPACE = "kustodian-system"
RELEASE = "kustodian"


def tool(name):
    path = shutil.which(name)
    if path is None:
        raise AssertionError(f"{name} is not installed: run `make deps`")
    return path


def run(args, expect_ok=True):
    """Runs args; returns (returncode, stdout, stderr). Fails the test when expect_ok and rc != 0."""
    proc = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    if expect_ok and proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc.returncode, proc.stdout, proc.stderr


def docs_of(text):
    return [d for d in yaml.safe_load_all(text) if d is not None]


def kustomize(path):
    return docs_of(run([tool("kubectl"), "kustomize", path])[1])


def helm_template(*sets, include_crds=False):
    args = [tool("helm"), "template", RELEASE, CHART, "--namespace", NAMESPACE]
    if include_crds:
        args.append("--include-crds")
    for s in sets:
        args += ["--set", s]
    return docs_of(run(args)[1])


def by_kind(docs, kind):
    return [d for d in docs if d["kind"] == kind]


def one(docs, kind, name=None):
    found = [d for d in by_kind(docs, kind) if name is None or d["metadata"]["name"] == name]
    if len(found) != 1:
        raise AssertionError(f"expected one {kind} {name or ''}, found {len(found)}: "
                             f"{[d['metadata']['name'] for d in by_kind(docs, kind)]}")
    return found[0]


def container(deployment):
    containers = deployment["spec"]["template"]["spec"]["containers"]
    if len(containers) != 1:
        raise AssertionError(f"expected one container, got {len(containers)}")
    return containers[0]


class ObjectChecks(unittest.TestCase):
    """Checks every rendering of the controller must pass (manifests/ and the chart alike)."""

    def check_restricted(self, deployment):
        """The restricted Pod Security Standard, and the settings the issue asks for."""
        pod = deployment["spec"]["template"]["spec"]
        psc = pod.get("securityContext", {})
        self.assertTrue(psc.get("runAsNonRoot"), "pod runAsNonRoot")
        self.assertEqual(psc.get("runAsUser"), 65532)
        self.assertEqual(psc.get("seccompProfile", {}).get("type"), "RuntimeDefault")
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            self.assertFalse(pod.get(key, False), key)
        for c in pod["containers"]:
            sc = c.get("securityContext", {})
            self.assertIs(sc.get("allowPrivilegeEscalation"), False, c["name"])
            self.assertIs(sc.get("readOnlyRootFilesystem"), True, c["name"])
            self.assertEqual(sc.get("capabilities", {}).get("drop"), ["ALL"], c["name"])
            self.assertNotIn("add", sc.get("capabilities", {}))
            self.assertFalse(sc.get("privileged", False))
            self.assertIn("requests", c.get("resources", {}), "resources.requests")
            self.assertIn("limits", c.get("resources", {}), "resources.limits")
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for v in volumes.values():
            self.assertNotIn("hostPath", v, "restricted pods mount no hostPath")
        mounts = {m["mountPath"]: m["name"] for m in container(deployment)["volumeMounts"]}
        self.assertIn("/tmp", mounts, "a writable /tmp on a read-only root filesystem")
        self.assertIn("emptyDir", volumes[mounts["/tmp"]])

    def check_controller(self, deployment, service):
        c = container(deployment)
        args = c["args"]
        self.assertEqual(args[0], "run")
        self.assertIn("--source=kubernetes", args)
        self.assertIn("--leader-elect", args)
        bind = [a for a in args if a.startswith("--metrics-bind-address=")]
        self.assertEqual(len(bind), 1, args)
        port = int(bind[0].rsplit(":", 1)[1])
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        self.assertEqual(ports.get("metrics"), port, "the metrics port is the bind address's")
        self.assertEqual(c["livenessProbe"]["httpGet"]["path"], "/healthz")
        self.assertEqual(c["readinessProbe"]["httpGet"]["path"], "/readyz")
        for probe in ("livenessProbe", "readinessProbe"):
            self.assertIn(c[probe]["httpGet"]["port"], ("metrics", port))
        self.assertGreaterEqual(deployment["spec"]["replicas"], 2, "a standby for leader election")
        template_labels = deployment["spec"]["template"]["metadata"]["labels"]
        self.assertEqual(template_labels.get("azure.workload.identity/use"), "true")
        selector = deployment["spec"]["selector"]["matchLabels"]
        self.assertLessEqual(selector.items(), template_labels.items(), "selector matches pods")
        self.assertLessEqual(service["spec"]["selector"].items(), template_labels.items(),
                             "the metrics Service selects the controller pods")
        self.assertEqual([p["targetPort"] for p in service["spec"]["ports"]], ["metrics"])

    def check_rbac(self, docs, sa_name, namespace):
        roles = {(d["kind"], d["metadata"]["name"]): d
                 for d in docs if d["kind"] in ("ClusterRole", "Role")}
        for d in roles.values():
            for rule in d["rules"]:
                for field in ("apiGroups", "resources", "verbs"):
                    self.assertNotIn("*", rule[field], f"{d['metadata']['name']}: no wildcards")
                if "secrets" in rule["resources"]:
                    self.assertEqual(rule["verbs"], ["get"], "secrets: get only")
                if "leases" in rule["resources"]:
                    self.assertEqual(d["kind"], "Role", "leases only in the controller namespace")
                    self.assertEqual(d["metadata"]["namespace"], namespace)
        for b in [d for d in docs if d["kind"] in ("ClusterRoleBinding", "RoleBinding")]:
            ref = b["roleRef"]
            self.assertIn((ref["kind"], ref["name"]), roles, f"{b['metadata']['name']} roleRef")
            self.assertEqual(b["subjects"], [{"kind": "ServiceAccount", "name": sa_name,
                                              "namespace": namespace}])
        manager = [d for d in roles.values()
                   if any("dataconnections" in r["resources"] for r in d["rules"])]
        self.assertEqual(len(manager), 1)
        rules = {(g, r): sorted(rule["verbs"]) for rule in manager[0]["rules"]
                 for g in rule["apiGroups"] for r in rule["resources"]}
        self.assertEqual(rules, {
            ("kustodian.io", "dataconnections"): ["get", "list", "patch", "update", "watch"],
            ("kustodian.io", "dataconnections/status"): ["get", "patch", "update"],
            ("kustodian.io", "dataconnections/finalizers"): ["update"],
            ("events.k8s.io", "events"): ["create", "patch"],
            ("", "events"): ["create", "patch"],
        })


class KustomizeTest(ObjectChecks):
    @classmethod
    def setUpClass(cls):
        cls.docs = kustomize(MANIFESTS)

    def test_objects(self):
        kinds = sorted(f"{d['kind']}/{d['metadata']['name']}" for d in self.docs)
        self.assertEqual(kinds, [
            "ClusterRole/kustodian", "ClusterRole/kustodian-secret-reader",
            "ClusterRoleBinding/kustodian",
            "CustomResourceDefinition/dataconnections.kustodian.io",
            "Deployment/kustodian", "Namespace/kustodian-system", "Role/kustodian-leader-election",
            "RoleBinding/kustodian-leader-election", "Service/kustodian-metrics",
            "ServiceAccount/kustodian"])
        for d in self.docs:
            if d["kind"] not in ("Namespace", "CustomResourceDefinition", "ClusterRole",
                                 "ClusterRoleBinding"):
                self.assertEqual(d["metadata"].get("namespace"), NAMESPACE, d["kind"])

    def test_crd_is_the_one_in_crd(self):
        with open(CRD, encoding="utf-8") as f:
            self.assertEqual(one(self.docs, "CustomResourceDefinition"), yaml.safe_load(f))

    def test_controller(self):
        deployment = one(self.docs, "Deployment")
        self.check_restricted(deployment)
        self.check_controller(deployment, one(self.docs, "Service"))
        self.assertEqual(deployment["spec"]["template"]["spec"]["serviceAccountName"],
                         one(self.docs, "ServiceAccount")["metadata"]["name"])

    def test_rbac(self):
        self.check_rbac(self.docs, "kustodian", NAMESPACE)

    def test_servicemonitor_component(self):
        docs = kustomize(os.path.join(TESTDATA, "overlay-servicemonitor"))
        monitor = one(docs, "ServiceMonitor")
        service = one(docs, "Service")
        self.assertLessEqual(monitor["spec"]["selector"]["matchLabels"].items(),
                             service["metadata"]["labels"].items())
        self.assertIn(monitor["spec"]["endpoints"][0]["port"],
                      [p["name"] for p in service["spec"]["ports"]])
        self.assertEqual(len(docs), len(self.docs) + 1)


class HelmTest(ObjectChecks):
    def test_lint(self):
        for sets in ([], ["sharding.count=2", "watchNamespaces={a,b}", "serviceMonitor.enabled=true",
                          "credentialRefNamespaces={adx}", "workloadIdentity.tenantId=t"]):
            args = [tool("helm"), "lint", "--strict", CHART]
            for s in sets:
                args += ["--set", s]
            _, out, err = run(args)
            self.assertNotRegex(out + err, r"\[(WARNING|ERROR)\]", out)
            self.assertIn("0 chart(s) failed", out)

    def test_crds_folder_is_crd(self):
        with open(CRD, "rb") as a, open(os.path.join(CHART, "crds", os.path.basename(CRD)),
                                        "rb") as b:
            self.assertEqual(a.read(), b.read(),
                             "helm/kustodian/crds/ must be a copy of crd/: cp crd/*.yaml "
                             "helm/kustodian/crds/")
        self.assertEqual(os.listdir(os.path.join(CHART, "crds")), [os.path.basename(CRD)])

    def test_versions_agree(self):
        with open(os.path.join(CHART, "Chart.yaml"), encoding="utf-8") as f:
            chart = yaml.safe_load(f)
        with open(os.path.join(SOURCE_DIR, "CMakeLists.txt"), encoding="utf-8") as f:
            version = re.search(r"project\(kustodian VERSION ([0-9.]+)", f.read()).group(1)
        self.assertEqual(chart["appVersion"], version)
        deployment = one(kustomize(MANIFESTS), "Deployment")
        self.assertTrue(container(deployment)["image"].endswith(":" + version))

    def test_defaults(self):
        docs = helm_template()
        self.assertEqual(by_kind(docs, "ServiceMonitor"), [])
        deployment = one(docs, "Deployment", "kustodian")
        self.check_restricted(deployment)
        self.check_controller(deployment, one(docs, "Service"))
        self.check_rbac(docs, "kustodian", NAMESPACE)
        args = container(deployment)["args"]
        self.assertFalse([a for a in args if a.startswith(("--shard", "--watch-namespace"))])
        self.assertEqual(container(deployment)["image"], "ghcr.io/kustodian/kustodian:0.1.0")
        one(docs, "ClusterRoleBinding", "kustodian")
        self.assertEqual(by_kind(docs, "RoleBinding"),
                         [one(docs, "RoleBinding", "kustodian-leader-election")])

    def test_sharding_renders_one_deployment_per_shard(self):
        docs = helm_template("sharding.count=3", "replicaCount=2")
        deployments = by_kind(docs, "Deployment")
        self.assertEqual([d["metadata"]["name"] for d in deployments],
                         [f"kustodian-shard-{i}" for i in range(3)])
        selectors = []
        for i, d in enumerate(deployments):
            args = container(d)["args"]
            self.assertIn("--shard-count=3", args)
            self.assertIn(f"--shard-index={i}", args)
            self.assertEqual(d["spec"]["replicas"], 2)
            self.check_restricted(d)
            self.check_controller(d, one(docs, "Service"))
            selectors.append(d["spec"]["selector"]["matchLabels"])
        for i, s in enumerate(selectors):
            for j, t in enumerate(selectors):
                labels = deployments[j]["spec"]["template"]["metadata"]["labels"]
                self.assertEqual(s.items() <= labels.items(), i == j,
                                 f"shard {i}'s selector must select only its own pods")

    def test_bad_sharding_and_replicas_without_leader_election_fail(self):
        for sets, message in ((["sharding.count=0"], "sharding.count must be at least 1"),
                              (["leaderElection.enabled=false"], "needs leaderElection.enabled")):
            args = [tool("helm"), "template", RELEASE, CHART]
            for s in sets:
                args += ["--set", s]
            rc, _, err = run(args, expect_ok=False)
            self.assertNotEqual(rc, 0, sets)
            self.assertIn(message, err)

    def test_single_replica_without_leader_election(self):
        docs = helm_template("leaderElection.enabled=false", "replicaCount=1")
        self.assertNotIn("--leader-elect", container(one(docs, "Deployment"))["args"])
        self.assertEqual(by_kind(docs, "Role"), [])

    def test_watch_namespaces_bind_per_namespace(self):
        docs = helm_template("watchNamespaces={adx,logs}")
        self.assertEqual(by_kind(docs, "ClusterRoleBinding"), [])
        bound = sorted(d["metadata"]["namespace"] for d in by_kind(docs, "RoleBinding")
                       if d["roleRef"]["name"] == "kustodian")
        self.assertEqual(bound, ["adx", "logs"])
        args = container(one(docs, "Deployment"))["args"]
        self.assertEqual([a for a in args if a.startswith("--watch-namespace")],
                         ["--watch-namespace=adx", "--watch-namespace=logs"])
        self.check_rbac(docs, "kustodian", NAMESPACE)

    def test_credential_ref_namespaces_get_the_secret_reader(self):
        docs = helm_template("credentialRefNamespaces={adx}")
        binding = one(docs, "RoleBinding", "kustodian-secret-reader")
        self.assertEqual(binding["metadata"]["namespace"], "adx")
        self.assertEqual(binding["roleRef"], {"apiGroup": "rbac.authorization.k8s.io",
                                              "kind": "ClusterRole",
                                              "name": "kustodian-secret-reader"})
        self.check_rbac(docs, "kustodian", NAMESPACE)

    def test_service_monitor(self):
        docs = helm_template("serviceMonitor.enabled=true", "serviceMonitor.labels.release=prom")
        monitor = one(docs, "ServiceMonitor")
        service = one(docs, "Service")
        self.assertEqual(monitor["metadata"]["labels"]["release"], "prom")
        self.assertLessEqual(monitor["spec"]["selector"]["matchLabels"].items(),
                             service["metadata"]["labels"].items())
        self.assertEqual(monitor["spec"]["endpoints"][0]["port"], "metrics")

    def test_workload_identity(self):
        docs = helm_template("workloadIdentity.clientId=11111111-2222-3333-4444-555555555555",
                             "workloadIdentity.tenantId=66666666-7777-8888-9999-000000000000")
        annotations = one(docs, "ServiceAccount")["metadata"]["annotations"]
        self.assertEqual(annotations, {
            "azure.workload.identity/client-id": "11111111-2222-3333-4444-555555555555",
            "azure.workload.identity/tenant-id": "66666666-7777-8888-9999-000000000000"})
        docs = helm_template("workloadIdentity.enabled=false")
        self.assertNotIn("annotations", one(docs, "ServiceAccount")["metadata"])
        labels = one(docs, "Deployment")["spec"]["template"]["metadata"]["labels"]
        self.assertNotIn("azure.workload.identity/use", labels)

    def test_image_cloud_and_extra_args(self):
        docs = helm_template("image.repository=registry.example/kustodian", "image.tag=dev",
                             "azure.cloud=AzureUSGovernment", "extraArgs={--workers=8}",
                             "sharding.count=2")
        for d in by_kind(docs, "Deployment"):
            c = container(d)
            self.assertEqual(c["image"], "registry.example/kustodian:dev")
            self.assertIn("--cloud=AzureUSGovernment", c["args"])
            self.assertEqual(c["args"][-1], "--workers=8")

    def test_other_release_name_prefixes_everything(self):
        docs = helm_template()
        other = docs_of(run([tool("helm"), "template", "adx", CHART, "-n", "ops"])[1])
        self.assertEqual(len(other), len(docs))
        for d in other:
            self.assertTrue(d["metadata"]["name"].startswith("adx-kustodian"), d["metadata"])
            if "namespace" in d["metadata"]:
                self.assertEqual(d["metadata"]["namespace"], "ops")
        self.check_rbac(other, "adx-kustodian", "ops")


def effective(doc):
    """The parts of an object that change what the cluster does: labels, annotations and label
    selectors aside (Helm adds its release labels to both sides of every selector), except the
    workload identity label and annotations."""
    d = copy.deepcopy(doc)
    meta = d["metadata"]
    meta.pop("labels", None)
    annotations = {k: v for k, v in meta.pop("annotations", {}).items()
                   if k.startswith("azure.workload.identity/")}
    if annotations:
        meta["annotations"] = annotations
    if d["kind"] == "Deployment":
        d["spec"].pop("selector")
        labels = d["spec"]["template"]["metadata"].pop("labels")
        d["spec"]["template"]["metadata"]["labels"] = {
            k: v for k, v in labels.items() if k.startswith("azure.workload.identity/")}
    if d["kind"] == "Service":
        d["spec"].pop("selector")
    return d


class HelmMatchesManifestsTest(unittest.TestCase):
    def test_default_values_render_manifests(self):
        manifests = kustomize(MANIFESTS)
        namespaces = by_kind(manifests, "Namespace")
        self.assertEqual([n["metadata"]["name"] for n in namespaces], [NAMESPACE],
                         "helm install -n kustodian-system --create-namespace makes it")
        want = {(d["kind"], d["metadata"]["name"]): effective(d)
                for d in manifests if d["kind"] != "Namespace"}
        got = {(d["kind"], d["metadata"]["name"]): effective(d)
               for d in helm_template(include_crds=True)}
        self.assertEqual(sorted(got), sorted(want), "the same objects")
        for key in want:
            self.assertEqual(got[key], want[key], f"{key} differs")


DEB_ARCH_DIRS = ("/lib/", "/usr/lib/", "/lib64/", "/usr/lib64/")
# Packages of priority required/important that debian:bookworm-slim always has.
SLIM_BASE = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"}
# Runtime packages the binary needs without linking them.
NOT_LINKED = {"ca-certificates": "TLS roots for ARM and Entra ID"}


def dockerfile_stages():
    with open(os.path.join(SOURCE_DIR, "Dockerfile"), encoding="utf-8") as f:
        text = re.sub(r"\\\n", " ", f.read())
    stages, current = [], None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#") or not line:
            continue
        if line.upper().startswith("FROM "):
            current = {"from": line.split()[1], "packages": set(), "lines": []}
            stages.append(current)
        current["lines"].append(line)
        for m in re.finditer(r"apt-get install ([^&;]*)", line):
            current["packages"] |= {w for w in m.group(1).split() if not w.startswith("-")}
    return stages


SANITIZER_RUNTIME = re.compile(r"lib(asan|ubsan|tsan|lsan)\.so")


def packages_of(paths):
    """{path: the Debian package that installed it}, trying the /usr-merged spellings too.
    One dpkg -S call for all (each call reads every file list)."""
    spellings = {}
    for path in paths:
        for p in (path, os.path.realpath(path)):
            spellings[p] = path
            if p.startswith("/usr/lib/"):
                spellings[p[len("/usr"):]] = path
            elif p.startswith("/lib/"):
                spellings["/usr" + p] = path
    _, out, _ = run(["dpkg", "-S", *sorted(spellings)], expect_ok=False)
    found = {}
    for line in out.splitlines():
        package, _, owned = line.partition(": ")
        if owned in spellings:
            found[spellings[owned]] = package.split(":")[0]
    missing = [p for p in paths if p not in found]
    if missing:
        raise AssertionError(f"no Debian package owns {missing}")
    return found


class DockerfileTest(unittest.TestCase):
    def test_runtime_packages_cover_linked_libraries(self):
        binary = os.environ.get("KUSTODIAN_BINARY", "")
        self.assertTrue(os.path.isfile(binary),
                        f"KUSTODIAN_BINARY={binary!r}: build the kustodian target first")
        _, out, _ = run(["ldd", binary])
        libraries = {}
        for line in out.splitlines():
            m = re.match(r"\s*(\S+) => (/\S+)", line)
            # The sanitizer runtimes are linked only into `make test-asan`/`test-tsan` builds;
            # the image builds a plain binary (its build stage runs cmake without them).
            if m and m.group(2).startswith(DEB_ARCH_DIRS) and not SANITIZER_RUNTIME.match(m.group(1)):
                libraries[m.group(1)] = m.group(2)
            self.assertNotIn("not found", line)
        owners = packages_of(list(libraries.values()))
        needed = {so: owners[path] for so, path in libraries.items()}
        if os.environ.get("KUSTODIAN_HTTPLIB_COMPILED_IN") == "1":
            # `make test-tsan` compiles cpp-httplib into the binary; the image's plain build
            # (cmake without KUSTODIAN_HTTPLIB_SOURCE) links Debian's shared library.
            self.assertNotIn("libcpp-httplib.so.0.11", needed, out)
            needed["libcpp-httplib.so.0.11"] = "libcpp-httplib0.11"
        self.assertIn("libyaml-cpp.so.0.7", needed, out)
        runtime = dockerfile_stages()[-1]
        self.assertTrue(runtime["from"].startswith("debian:bookworm-slim"), runtime["from"])
        missing = {so: pkg for so, pkg in needed.items()
                   if pkg not in runtime["packages"] | SLIM_BASE}
        self.assertEqual(missing, {}, "add these packages to the Dockerfile's runtime stage")
        unneeded = runtime["packages"] - set(needed.values()) - set(NOT_LINKED)
        self.assertEqual(unneeded, set(), "runtime packages nothing links")

    def test_build_stage_has_the_makefile_build_packages(self):
        with open(os.path.join(SOURCE_DIR, "Makefile"), encoding="utf-8") as f:
            makefile = re.sub(r"\\\n", " ", f.read())
        packages = set(re.search(r"^DEB_PACKAGES :=(.*)$", makefile, re.M).group(1).split())
        tools = {"prometheus", "clang-format", "clang-tidy", "ccache"}  # lint/test tools only
        build = dockerfile_stages()[0]
        self.assertEqual(build["from"].split(" ")[0], "debian:bookworm")
        self.assertEqual(packages - tools - build["packages"], set())

    def test_runs_as_non_root_with_the_binary_as_entrypoint(self):
        runtime = dockerfile_stages()[-1]
        self.assertIn("USER 65532:65532", runtime["lines"])
        self.assertIn('ENTRYPOINT ["/usr/local/bin/kustodian"]', runtime["lines"])
        self.assertTrue(any("COPY --from=build /build/kustodian /usr/local/bin/kustodian" == l
                            for l in runtime["lines"]))


if __name__ == "__main__":
    unittest.main()
