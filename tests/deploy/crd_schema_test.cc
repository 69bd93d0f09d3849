// Keeps crd/dataconnections.kustodian.io.yaml equal to the model's per-kind schema
// (src/model/schema.cc): every writable property of every kind is declared with the right type
// and enum values, no other property is, and the CEL rules that say which kinds allow and which
// require each property match the model. A property added to the model fails here until the CRD
// has it. (tests/deploy/crd_check.py checks that the rules work on documents.)
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "src/core/strings.h"
#include "src/model/data_connection.h"
#include "src/model/schema.h"
#include "yaml-cpp/yaml.h"

namespace kustodian {
namespace {

class CrdSchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path =
        absl::StrCat(KUSTODIAN_SOURCE_DIR, "/crd/dataconnections.kustodian.io.yaml");
    crd_ = YAML::LoadFile(path);
    ASSERT_EQ(crd_["spec"]["versions"].size(), 1u) << path;
    spec_ = crd_["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
    ASSERT_TRUE(spec_.IsMap()) << "no spec schema in " << path;
    for (const auto& rule : spec_["x-kubernetes-validations"]) {
      rules_.insert(rule["rule"].as<std::string>());
    }
  }

  YAML::Node Property(const std::string& name) const {
    return spec_["properties"]["properties"]["properties"][name];
  }

  // The kinds (in kAllKinds order, quoted for CEL) whose schema has `name` writable, or
  // requires it.
  static std::vector<std::string> KindsWith(const std::string& name, bool required_only) {
    std::vector<std::string> kinds;
    for (ConnectionKind kind : kAllKinds) {
      const PropertySchema* p = FindProperty(kind, name);
      if (p != nullptr && !p->read_only && (!required_only || p->required)) {
        kinds.push_back(absl::StrCat("'", Av(KindName(kind)), "'"));
      }
    }
    return kinds;
  }

  static std::set<std::string> WritableNames() {
    std::set<std::string> names;
    for (ConnectionKind kind : kAllKinds) {
      for (const PropertySchema& p : SchemaFor(kind).properties) {
        if (!p.read_only) {
          names.insert(p.name);
        }
      }
    }
    return names;
  }

  YAML::Node crd_;
  YAML::Node spec_;
  std::set<std::string> rules_;
};

TEST_F(CrdSchemaTest, KindEnumListsEveryKind) {
  std::vector<std::string> names;
  for (ConnectionKind kind : kAllKinds) {
    names.emplace_back(KindName(kind));
  }
  EXPECT_EQ(spec_["properties"]["kind"]["enum"].as<std::vector<std::string>>(), names);
}

TEST_F(CrdSchemaTest, DeclaresExactlyTheWritableProperties) {
  std::set<std::string> declared;
  for (const auto& kv : spec_["properties"]["properties"]["properties"]) {
    declared.insert(kv.first.as<std::string>());
  }
  EXPECT_EQ(declared, WritableNames());
}

TEST_F(CrdSchemaTest, PropertyTypesAndEnumsMatchTheModel) {
  for (ConnectionKind kind : kAllKinds) {
    for (const PropertySchema& p : SchemaFor(kind).properties) {
      if (p.read_only) {
        continue;
      }
      SCOPED_TRACE(absl::StrCat(Av(KindName(kind)), ".", p.name));
      YAML::Node node = Property(p.name);
      ASSERT_TRUE(node.IsMap()) << "not declared in the CRD";
      const std::string type = node["type"].as<std::string>();
      switch (p.type) {
        case PropertyType::kBool:
          EXPECT_EQ(type, "boolean");
          break;
        case PropertyType::kStringList:
          EXPECT_EQ(type, "array");
          EXPECT_EQ(node["items"]["type"].as<std::string>(), "string");
          break;
        case PropertyType::kEnum:
          EXPECT_EQ(type, "string");
          EXPECT_EQ(node["enum"].as<std::vector<std::string>>(), p.enum_values);
          break;
        case PropertyType::kDateTime:
          EXPECT_EQ(type, "string");
          EXPECT_EQ(node["format"].as<std::string>(""), "date-time");
          break;
        case PropertyType::kResourceId:
          EXPECT_EQ(type, "string");
          EXPECT_TRUE(node["pattern"].IsScalar()) << "resource ids have a pattern";
          break;
        case PropertyType::kString:
          EXPECT_EQ(type, "string");
          EXPECT_FALSE(node["enum"].IsDefined());
          break;
      }
    }
  }
}

TEST_F(CrdSchemaTest, RulesSayWhichKindsAllowEachProperty) {
  for (const std::string& name : WritableNames()) {
    SCOPED_TRACE(name);
    const std::vector<std::string> kinds = KindsWith(name, /*required_only=*/false);
    const std::string rule = absl::StrCat("!has(self.properties.", name, ") || self.kind in [",
                                          absl::StrJoin(kinds, ", "), "]");
    if (kinds.size() == kAllKinds.size()) {
      EXPECT_EQ(rules_.count(rule), 0u) << "every kind has it: no rule needed";
    } else {
      EXPECT_EQ(rules_.count(rule), 1u) << "missing rule: " << rule;
    }
  }
}

TEST_F(CrdSchemaTest, RulesSayWhichKindsRequireEachProperty) {
  size_t expected_rules = 0;
  for (const std::string& name : WritableNames()) {
    SCOPED_TRACE(name);
    const std::vector<std::string> kinds = KindsWith(name, /*required_only=*/true);
    if (kinds.empty()) {
      for (const std::string& rule : rules_) {
        EXPECT_EQ(rule.find(absl::StrCat(") || (has(self.properties.", name, ")")),
                  std::string::npos)
            << "no kind requires " << name << " but a rule does: " << rule;
      }
      continue;
    }
    // Every required property is a string or a resource id: "" counts as unset.
    const std::string rule =
        absl::StrCat("!(self.kind in [", absl::StrJoin(kinds, ", "), "]) || (has(self.properties.",
                     name, ") && self.properties.", name, " != '')");
    EXPECT_EQ(rules_.count(rule), 1u) << "missing rule: " << rule;
    ++expected_rules;
  }
  size_t allow_rules = 0;
  for (const std::string& name : WritableNames()) {
    allow_rules += KindsWith(name, false).size() == kAllKinds.size() ? 0 : 1;
  }
  EXPECT_EQ(rules_.size(), expected_rules + allow_rules) << "a rule the model does not explain";
}

TEST_F(CrdSchemaTest, NamesAndPrinterColumns) {
  EXPECT_EQ(crd_["metadata"]["name"].as<std::string>(), "dataconnections.kustodian.io");
  EXPECT_EQ(crd_["spec"]["scope"].as<std::string>(), "Namespaced");
  EXPECT_EQ(crd_["spec"]["names"]["shortNames"][0].as<std::string>(), "dc");
  const YAML::Node version = crd_["spec"]["versions"][0];
  EXPECT_EQ(version["name"].as<std::string>(), "v1alpha1");
  EXPECT_TRUE(version["subresources"]["status"].IsMap());
  std::vector<std::string> columns;
  for (const auto& c : version["additionalPrinterColumns"]) {
    columns.push_back(c["name"].as<std::string>());
  }
  EXPECT_EQ(columns,
            (std::vector<std::string>{"Kind", "Cluster", "Database", "Ready", "Reason", "Age"}));
}

}  // namespace
}  // namespace kustodian
