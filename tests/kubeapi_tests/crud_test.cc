// CRUD semantics over raw HTTP: generation, resourceVersion conflicts, status subresource,
// finalizers, patches, selectors, Table output, discovery and errors as Status objects.
#include "gtest/gtest.h"
#include "tests/kubeapi_tests/test_util.h"

namespace kustodian::kubeapi::testing {
namespace {

class CrudTest : public ApiServerTest {};

TEST_F(CrudTest, CreateSetsMetadataAndRefusesDuplicatesAndMissingNamespace) {
  Resp r = Post(kDcs, Dc("a", "EventHub", R"(,"policy":{})"));
  ASSERT_EQ(r.status, 201) << r.body;
  json obj = r.Json();
  EXPECT_EQ(obj["metadata"]["generation"], 1);
  EXPECT_FALSE(obj["metadata"]["uid"].get<std::string>().empty());
  EXPECT_FALSE(obj["metadata"]["creationTimestamp"].get<std::string>().empty());
  EXPECT_EQ(obj["spec"]["policy"]["deletion"], "Delete") << "schema default applied";
  Resp dup = Post(kDcs, Dc("a"));
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(dup.Json()["reason"], "AlreadyExists");
  EXPECT_EQ(dup.Json()["message"], "dataconnections.kustodian.io \"a\" already exists");
  Resp missing_ns = Post("/apis/kustodian.io/v1alpha1/namespaces/nope/dataconnections", Dc("b"));
  EXPECT_EQ(missing_ns.status, 400) << "body namespace adx differs from the URL";
  std::string dc = Dc("b");
  dc.replace(dc.find("\"adx\""), 5, "\"nope\"");
  missing_ns = Post("/apis/kustodian.io/v1alpha1/namespaces/nope/dataconnections", dc);
  EXPECT_EQ(missing_ns.status, 404);
  EXPECT_EQ(missing_ns.Json()["message"], "namespaces \"nope\" not found");
}

TEST_F(CrudTest, GenerationMovesOnSpecChangesOnly) {
  json obj = Post(kDcs, Dc("a")).Json();
  std::string item = std::string(kDcs) + "/a";
  Resp labels = Patch(item, R"({"metadata":{"labels":{"extra":"1"}}})");
  ASSERT_EQ(labels.status, 200) << labels.body;
  EXPECT_EQ(labels.Json()["metadata"]["generation"], 1);
  EXPECT_NE(labels.Json()["metadata"]["resourceVersion"], obj["metadata"]["resourceVersion"]);
  Resp spec = Patch(item, R"({"spec":{"location":"westeurope"}})");
  EXPECT_EQ(spec.Json()["metadata"]["generation"], 2);
  Resp status = Patch(item + "/status", R"({"status":{"observedGeneration":2}})");
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_EQ(status.Json()["metadata"]["generation"], 2);
  // A no-op write keeps the resourceVersion.
  Resp again = Patch(item, R"({"spec":{"location":"westeurope"}})");
  EXPECT_EQ(again.Json()["metadata"]["resourceVersion"],
            status.Json()["metadata"]["resourceVersion"]);
}

TEST_F(CrudTest, StatusSubresourceSeparatesSpecAndStatus) {
  Post(kDcs, Dc("a"));
  std::string item = std::string(kDcs) + "/a";
  // Status on the main resource is ignored.
  Resp main = Patch(item, R"({"status":{"observedGeneration":7}})");
  ASSERT_EQ(main.status, 200);
  EXPECT_FALSE(main.Json().contains("status"));
  // Spec on /status is ignored; status is taken.
  Resp st = Patch(
      item + "/status",
      R"({"spec":{"location":"x"},"status":{"conditions":[{"type":"Ready","status":"True"}]}})");
  ASSERT_EQ(st.status, 200) << st.body;
  EXPECT_FALSE(st.Json()["spec"].contains("location"));
  EXPECT_EQ(st.Json()["status"]["conditions"][0]["status"], "True");
  // Status is validated against the schema too.
  Resp bad =
      Patch(item + "/status", R"({"status":{"conditions":[{"type":"Ready","status":"Yes"}]}})");
  EXPECT_EQ(bad.status, 422);
}

TEST_F(CrudTest, PutWithStaleResourceVersionConflicts) {
  json obj = Post(kDcs, Dc("a")).Json();
  std::string item = std::string(kDcs) + "/a";
  json changed = obj;
  changed["spec"]["location"] = "eastus";
  Resp ok = Put(item, changed.dump());
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.Json()["metadata"]["generation"], 2);
  Resp stale = Put(item, changed.dump());
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(stale.Json()["reason"], "Conflict");
  EXPECT_EQ(stale.Json()["message"],
            "Operation cannot be fulfilled on dataconnections.kustodian.io \"a\": the object has "
            "been modified; please apply your changes to the latest version and try again");
  changed["metadata"].erase("resourceVersion");
  EXPECT_EQ(Put(item, changed.dump()).status, 422) << "custom resources need a resourceVersion";
}

TEST_F(CrudTest, FinalizersHoldDeletionUntilRemoved) {
  Post(kDcs, Dc("a"));
  std::string item = std::string(kDcs) + "/a";
  ASSERT_EQ(Patch(item, R"({"metadata":{"finalizers":["kustodian.io/finalizer"]}})").status, 200);
  Resp del = Delete(item);
  ASSERT_EQ(del.status, 200);
  json obj = del.Json();
  EXPECT_TRUE(obj["metadata"].contains("deletionTimestamp"));
  EXPECT_EQ(obj["metadata"]["deletionGracePeriodSeconds"], 0);
  EXPECT_EQ(obj["metadata"]["generation"], 2) << "marking as deleting bumps generation";
  EXPECT_EQ(Get(item).status, 200);
  Resp add = Patch(item, R"({"metadata":{"finalizers":["kustodian.io/finalizer","other"]}})");
  EXPECT_EQ(add.status, 422);
  EXPECT_NE(add.Json()["message"].get<std::string>().find("no new finalizers can be added"),
            std::string::npos);
  ASSERT_EQ(Patch(item, R"({"metadata":{"finalizers":null}})").status, 200);
  EXPECT_EQ(Get(item).status, 404);
  Resp missing = Delete(item);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.Json()["kind"], "Status");
  EXPECT_EQ(missing.Json()["reason"], "NotFound");
}

TEST_F(CrudTest, DeleteWithoutFinalizersIsImmediate) {
  Post(kDcs, Dc("a"));
  Resp del = Delete(std::string(kDcs) + "/a");
  ASSERT_EQ(del.status, 200);
  EXPECT_EQ(del.Json()["status"], "Success");
  EXPECT_EQ(Get(std::string(kDcs) + "/a").status, 404);
}

TEST_F(CrudTest, JsonPatchAndStrategicPatch) {
  Post(kDcs, Dc("a"));
  std::string item = std::string(kDcs) + "/a";
  Resp jp = Patch(item,
                  R"([{"op":"test","path":"/spec/kind","value":"EventHub"},
                      {"op":"replace","path":"/spec/location","value":"x"}])",
                  "application/json-patch+json");
  EXPECT_EQ(jp.status, 422) << "replace of a missing path fails";
  jp = Patch(item, R"([{"op":"add","path":"/spec/location","value":"x"}])",
             "application/json-patch+json");
  ASSERT_EQ(jp.status, 200) << jp.body;
  EXPECT_EQ(jp.Json()["spec"]["location"], "x");
  Resp smp = Patch(item, R"({"spec":{"location":"y"}})", "application/strategic-merge-patch+json");
  EXPECT_EQ(smp.status, 415) << "custom resources do not take strategic merge patches";
  Resp secret = Post("/api/v1/namespaces/adx/secrets",
                     R"({"metadata":{"name":"s","finalizers":["a"]},"stringData":{"k":"v"}})");
  ASSERT_EQ(secret.status, 201) << secret.body;
  EXPECT_EQ(secret.Json()["data"]["k"], "dg==");
  EXPECT_EQ(secret.Json()["type"], "Opaque");
  Resp s2 = Patch("/api/v1/namespaces/adx/secrets/s", R"({"metadata":{"finalizers":["b"]}})",
                  "application/strategic-merge-patch+json");
  ASSERT_EQ(s2.status, 200) << s2.body;
  EXPECT_EQ(s2.Json()["metadata"]["finalizers"], json({"a", "b"})) << "finalizers merge as a set";
}

TEST_F(CrudTest, ListsWithSelectorsAndAcrossNamespaces) {
  Post(kDcs, Dc("a"));
  Post(kDcs, Dc("b"));
  Patch(std::string(kDcs) + "/b", R"({"metadata":{"labels":{"app":"y"}}})");
  json all = Get("/apis/kustodian.io/v1alpha1/dataconnections").Json();
  EXPECT_EQ(all["kind"], "DataConnectionList");
  EXPECT_EQ(all["items"].size(), 2u);
  EXPECT_EQ(Get(std::string(kDcs) + "?labelSelector=app%3Dy").Json()["items"].size(), 1u);
  EXPECT_EQ(Get(std::string(kDcs) + "?labelSelector=app%20in%20(x,y)").Json()["items"].size(), 2u);
  json by_name = Get(std::string(kDcs) + "?fieldSelector=metadata.name%3Da").Json();
  ASSERT_EQ(by_name["items"].size(), 1u);
  EXPECT_EQ(by_name["items"][0]["metadata"]["name"], "a");
  EXPECT_EQ(Get(std::string(kDcs) + "?fieldSelector=spec.kind%3DEventHub").status, 400);
  json page = Get(std::string(kDcs) + "?limit=1").Json();
  ASSERT_EQ(page["items"].size(), 1u);
  std::string cont = page["metadata"]["continue"];
  json rest = Get(std::string(kDcs) + "?limit=1&continue=" + cont).Json();
  ASSERT_EQ(rest["items"].size(), 1u);
  EXPECT_EQ(rest["items"][0]["metadata"]["name"], "b");
}

TEST_F(CrudTest, EventsShareOneStoreAcrossBothApis) {
  json dc = Post(kDcs, Dc("a")).Json();
  json ev = {{"metadata", {{"name", "a.1"}, {"namespace", "adx"}}},
             {"eventTime", "2024-01-01T00:00:00.000000Z"},
             {"reportingController", "kustodian.io/controller"},
             {"reportingInstance", "pod-1"},
             {"action", "Reconcile"},
             {"reason", "Created"},
             {"type", "Normal"},
             {"note", "created the connection"},
             {"regarding",
              {{"kind", "DataConnection"},
               {"apiVersion", "kustodian.io/v1alpha1"},
               {"name", "a"},
               {"namespace", "adx"},
               {"uid", dc["metadata"]["uid"]}}}};
  Resp created = Post("/apis/events.k8s.io/v1/namespaces/adx/events", ev.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  std::string selector =
      "involvedObject.name%3Da,involvedObject.kind%3DDataConnection,"
      "involvedObject.uid%3D" +
      dc["metadata"]["uid"].get<std::string>();
  json core = Get("/api/v1/namespaces/adx/events?fieldSelector=" + selector).Json();
  ASSERT_EQ(core["items"].size(), 1u);
  EXPECT_EQ(core["items"][0]["message"], "created the connection");
  EXPECT_EQ(core["items"][0]["involvedObject"]["name"], "a");
  EXPECT_EQ(core["items"][0]["reportingComponent"], "kustodian.io/controller");
  json bad = ev;
  bad.erase("reportingController");
  bad["metadata"]["name"] = "a.2";
  EXPECT_EQ(Post("/apis/events.k8s.io/v1/namespaces/adx/events", bad.dump()).status, 422);
}

TEST_F(CrudTest, TableUsesPrinterColumns) {
  Post(kDcs, Dc("a"));
  Patch(std::string(kDcs) + "/a/status",
        R"({"status":{"conditions":[{"type":"Ready","status":"True","reason":"Reconciled"}]}})");
  Resp r = Get(kDcs, {{"Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}});
  ASSERT_EQ(r.status, 200);
  json t = r.Json();
  EXPECT_EQ(t["kind"], "Table");
  std::vector<std::string> names;
  for (const json& c : t["columnDefinitions"]) names.push_back(c["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"Name", "Kind", "Cluster", "Database", "Ready",
                                             "Reason", "Age"}));
  ASSERT_EQ(t["rows"].size(), 1u);
  json cells = t["rows"][0]["cells"];
  EXPECT_EQ(cells[0], "a");
  EXPECT_EQ(cells[1], "EventHub");
  EXPECT_EQ(cells[2], "mycluster");
  EXPECT_EQ(cells[4], "True");
  EXPECT_EQ(cells[5], "Reconciled");
  EXPECT_EQ(cells[6], "0s");
  EXPECT_EQ(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
}

TEST_F(CrudTest, DiscoveryAndOpenApi) {
  json groups = Get("/apis").Json();
  std::vector<std::string> names;
  for (const json& g : groups["groups"]) names.push_back(g["name"]);
  for (const char* g :
       {"kustodian.io", "coordination.k8s.io", "events.k8s.io", "apiextensions.k8s.io"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), g), names.end()) << g;
  }
  json list = Get("/apis/kustodian.io/v1alpha1").Json();
  ASSERT_EQ(list["resources"].size(), 2u);
  EXPECT_EQ(list["resources"][0]["shortNames"], json({"dc"}));
  EXPECT_EQ(list["resources"][1]["name"], "dataconnections/status");
  json core = Get("/api/v1").Json();
  EXPECT_EQ(core["groupVersion"], "v1");
  json root = Get("/openapi/v3").Json();
  std::string url = root["paths"]["apis/kustodian.io/v1alpha1"]["serverRelativeURL"];
  json doc = Get(url).Json();
  json patch =
      doc["paths"]["/apis/kustodian.io/v1alpha1/namespaces/{namespace}/dataconnections/{name}"]
         ["patch"];
  EXPECT_EQ(patch["x-kubernetes-group-version-kind"]["kind"], "DataConnection");
  bool has_field_validation = false;
  for (const json& p : patch["parameters"]) has_field_validation |= p["name"] == "fieldValidation";
  EXPECT_TRUE(has_field_validation);
  EXPECT_EQ(Get("/version").Json()["minor"], "32");
}

class AuthTest : public ApiServerTest {
 protected:
  ApiServerOptions Options() override {
    ApiServerOptions o = ApiServerTest::Options();
    o.token = "t0ken";
    return o;
  }
  void SetUp() override {
    server_ = std::make_unique<KubeApiServer>(Options());
    ASSERT_TRUE(server_->Start().ok());
    port_ = server_->port();
  }
};

TEST_F(AuthTest, RequestsNeedTheBearerToken) {
  Resp anon = Get("/api/v1/namespaces");
  EXPECT_EQ(anon.status, 401);
  EXPECT_EQ(anon.Json()["reason"], "Unauthorized");
  EXPECT_EQ(Get("/api/v1/namespaces", {{"Authorization", "Bearer t0ken"}}).status, 200);
  EXPECT_NE(server_->Kubeconfig().find("token: t0ken"), std::string::npos);
}

TEST_F(CrudTest, FaultEndpoints) {
  Post(kDcs, Dc("a"));
  ASSERT_EQ(Http(port_, "POST", "/_test/conflict?resource=dataconnections/status&count=1").status,
            200);
  std::string status = R"({"status":{"observedGeneration":1}})";
  EXPECT_EQ(Patch(std::string(kDcs) + "/a/status", status).status, 409);
  EXPECT_EQ(Patch(std::string(kDcs) + "/a/status", status).status, 200);
  ASSERT_EQ(Http(port_, "POST", "/_test/pause?seconds=30").status, 200);
  Resp paused = Get(kDcs);
  EXPECT_EQ(paused.status, 503);
  EXPECT_FALSE(paused.headers["retry-after"].empty());
  Http(port_, "POST", "/_test/pause?seconds=0");
  EXPECT_EQ(Get(kDcs, {{"User-Agent", "probe/1"}}).status, 200);
  json log = Get("/_test/requests").Json()["requests"];
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.back()["userAgent"], "probe/1");
  EXPECT_EQ(log.back()["method"], "GET");
}

}  // namespace
}  // namespace kustodian::kubeapi::testing
