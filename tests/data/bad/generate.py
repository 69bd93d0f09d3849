#!/usr/bin/env python3
"""Writes the bad-manifest corpus of tests/data/bad/ (issue 7).

Every NNN-<slug>.yaml file holds one kind of mistake and starts with a header that says what the
loader must report:
  # expect-field: <field path of the error, or "-" for a whole-file error with a line number>
  # expect-message: <a substring of that error's message>
tests/manifest/bad_corpus_test.cc loads each file and checks that nothing loads, that an error
names the file and the field, and that the message says what is wrong. The duplicates/ folder
holds pairs of files that claim the same target (a cross-file error). Inputs too big to commit
(a 10 MB file, symlink loops) are made by the tests themselves.

Run it from anywhere: python3 tests/data/bad/generate.py (it rewrites the corpus in place).
"""
import os
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
SUB = "00000000-0000-0000-0000-000000000001"
RG = f"/subscriptions/{SUB}/resourceGroups/testrg/providers"
HUB = f"{RG}/Microsoft.EventHub/namespaces/ns/eventhubs/storm"
STORAGE = f"{RG}/Microsoft.Storage/storageAccounts/logsstorage"
IOT = f"{RG}/Microsoft.Devices/IotHubs/hub1"
COSMOS = f"{RG}/Microsoft.DocumentDB/databaseAccounts/ordersaccount"
MI = f"{RG}/Microsoft.ManagedIdentity/userAssignedIdentities/ingest"

PROPS = {
    "EventHub": {
        "eventHubResourceId": HUB,
        "consumerGroup": "$Default",
        "tableName": "StormEvents",
        "mappingRuleName": "StormEvents_CSV_Mapping",
        "dataFormat": "CSV",
        "compression": "None",
        "databaseRouting": "Single",
    },
    "EventGrid": {
        "storageAccountResourceId": STORAGE,
        "eventHubResourceId": HUB,
        "consumerGroup": "$Default",
        "tableName": "RawLogs",
        "dataFormat": "JSON",
        "ignoreFirstRecord": "false",
        "blobStorageEventType": "Microsoft.Storage.BlobCreated",
    },
    "IotHub": {
        "iotHubResourceId": IOT,
        "consumerGroup": "$Default",
        "sharedAccessPolicyName": "registryRead",
        "tableName": "Telemetry",
        "dataFormat": "JSON",
    },
    "CosmosDb": {
        "cosmosDbAccountResourceId": COSMOS,
        "cosmosDbDatabase": "shop",
        "cosmosDbContainer": "orders",
        "managedIdentityResourceId": MI,
        "tableName": "Orders",
    },
}
REQUIRED = {
    "EventHub": ["eventHubResourceId", "consumerGroup"],
    "EventGrid": ["storageAccountResourceId", "eventHubResourceId", "consumerGroup"],
    "IotHub": ["iotHubResourceId", "consumerGroup", "sharedAccessPolicyName"],
    "CosmosDb": ["cosmosDbAccountResourceId", "cosmosDbDatabase", "cosmosDbContainer",
                 "managedIdentityResourceId", "tableName"],
}
ID_PROPS = {
    "EventHub": "eventHubResourceId",
    "EventGrid": "storageAccountResourceId",
    "IotHub": "iotHubResourceId",
    "CosmosDb": "cosmosDbAccountResourceId",
}


def doc(kind="EventHub", name="bad-conn", props=None, drop=(), override=None, extra=""):
    """A manifest as an ordered list of (path, value) lines, then rendered as YAML text."""
    override = override or {}
    props = dict(PROPS[kind] if props is None else props)
    fields = [
        ("apiVersion", "kustodian.io/v1alpha1"),
        ("kind", "DataConnection"),
        ("metadata", None),
        ("metadata.name", name),
        ("metadata.namespace", "adx"),
        ("spec", None),
        ("spec.target", None),
        ("spec.target.subscriptionId", SUB),
        ("spec.target.resourceGroup", "testrg"),
        ("spec.target.cluster", "mykustocluster"),
        ("spec.target.database", "mykustodatabase"),
        ("spec.location", "eastus2"),
        ("spec.kind", kind),
        ("spec.properties", None),
    ]
    fields += [(f"spec.properties.{k}", v) for k, v in props.items()]
    fields += [("spec.policy", None), ("spec.policy.deletion", "Delete")]
    out = []
    for path, value in fields:
        if path in drop:
            continue
        depth = path.count(".")
        key = path.rsplit(".", 1)[-1]
        if path in override:
            value = override[path]
        if value is None:
            out.append(f"{'  ' * depth}{key}:")
        else:
            out.append(f"{'  ' * depth}{key}: {value}")
    return "\n".join(out) + "\n" + extra


CASES = []  # (slug, field, message, text or bytes)


def case(slug, field, message, text):
    CASES.append((slug, field, message, text))


# 1. YAML syntax errors: the whole file fails, with a line number.
base = doc()
syntax = {
    "unclosed-flow-sequence": base.replace("dataFormat: CSV", "dataFormat: [CSV"),
    "unclosed-flow-map": base.replace("compression: None", "compression: {a: 1"),
    "unterminated-double-quote": base.replace("tableName: StormEvents", 'tableName: "StormEvents'),
    "unterminated-single-quote": base.replace("tableName: StormEvents", "tableName: 'StormEvents"),
    "tab-indentation": base.replace("    cluster:", "\tcluster:"),
    "bad-indentation": base.replace("    database:", "     database:"),
    "stray-colon-mapping": base.replace("  location: eastus2", "  location: east: us2: x"),
    "sequence-in-mapping": base.replace("  location: eastus2", "  location: eastus2\n  - item"),
    "unknown-alias": base.replace("consumerGroup: $Default", "consumerGroup: *nosuchanchor"),
    "bad-escape": base.replace("tableName: StormEvents", 'tableName: "Storm\\qEvents"'),
    "block-scalar-bad-indent": base.replace("  location: eastus2", "  location: |\nnot indented"),
    "duplicate-anchor-syntax": base.replace("tableName: StormEvents", "tableName: &a &b x"),
    "directive-garbage": "%YAML 9.9 extra\n---\n" + base,
    "flow-trailing-junk": base.replace("dataFormat: CSV", "dataFormat: [CSV] junk"),
    "mapping-key-missing-value-flow": base.replace("compression: None", "compression: {a, : }}"),
    "question-key-garbage": base + "? [unclosed\n",
    "document-end-then-garbage": base + "...\n  - x: [\n",
    "only-garbage": "{{{{ this is not yaml\n",
    "nested-quote-mix": base.replace("tableName: StormEvents", "tableName: \"a'b\"c'"),
    "colon-in-flow-key": base.replace("dataFormat: CSV", "dataFormat: {[a: b}"),
}
for slug, text in syntax.items():
    case("syntax-" + slug, "-", "", text)

# 2. Top-level shape.
case("top-level-list", "-", "", "- apiVersion: kustodian.io/v1alpha1\n- kind: DataConnection\n")
case("top-level-scalar", "-", "", "just a string\n")
case("wrong-api-version", "apiVersion", "kustodian.io/v1alpha1",
     doc().replace("kustodian.io/v1alpha1", "kustodian.io/v2"))
case("api-version-typo", "apiVersion", "kustodian.io/v1alpha1",
     doc().replace("kustodian.io/v1alpha1", "kustodian.io/v1alpa1"))
case("metadata-missing", "metadata", "required",
     doc(drop=("metadata", "metadata.name", "metadata.namespace")))
case("spec-missing", "spec", "required",
     "\n".join(doc().split("\n")[:5]) + "\n")
case("spec-is-list", "spec", "expected a map",
     "\n".join(doc().split("\n")[:5]) + "\nspec: [a, b]\n")
case("spec-is-scalar", "spec", "expected a map",
     "\n".join(doc().split("\n")[:5]) + "\nspec: hello\n")
case("metadata-is-list", "metadata", "expected a map",
     doc(drop=("metadata.name", "metadata.namespace")).replace("metadata:", "metadata: [x]"))

# 3. Wrong node types for every scalar field.
scalar_fields = [
    "metadata.name", "metadata.namespace", "spec.target.subscriptionId",
    "spec.target.resourceGroup", "spec.target.cluster", "spec.target.database", "spec.location",
    "spec.kind", "spec.properties.eventHubResourceId", "spec.properties.consumerGroup",
    "spec.properties.tableName", "spec.properties.mappingRuleName", "spec.properties.dataFormat",
    "spec.properties.compression", "spec.properties.databaseRouting", "spec.policy.deletion",
]
for f in scalar_fields:
    slug = f.replace("spec.", "").replace(".", "-")
    case(f"type-list-{slug}", f, "expected a string", doc(override={f: "[a, b]"}))
    case(f"type-map-{slug}", f, "expected a string", doc(override={f: "{a: 1}"}))
for f in ["spec.target", "spec.properties", "spec.policy"]:
    slug = f.replace("spec.", "")
    d = doc()
    d = d.replace(f"  {slug}:\n", f"  {slug}: 42\n  {slug}_was:\n", 1)
    case(f"type-scalar-{slug}", f, "expected a map", d)
case("type-bool-ignorefirstrecord", "spec.properties.ignoreFirstRecord", "true",
     doc("EventGrid", override={"spec.properties.ignoreFirstRecord": "maybe"}))
case("type-bool-ignorefirstrecord-number", "spec.properties.ignoreFirstRecord", "true",
     doc("EventGrid", override={"spec.properties.ignoreFirstRecord": "2"}))


def with_prop(name, value, kind="EventHub"):
    """A manifest whose spec.properties also has `name: value` (extra= lands under spec.policy)."""
    return doc(kind, props={**PROPS[kind], name: value})


case("type-list-eventsystemproperties-scalar", "spec.properties.eventSystemProperties",
     "expected a list", with_prop("eventSystemProperties", "x-opt-enqueued-time"))
case("type-list-eventsystemproperties-map", "spec.properties.eventSystemProperties",
     "expected a list", with_prop("eventSystemProperties", "{a: b}"))
case("type-datetime-retrievalstartdate", "spec.properties.retrievalStartDate", "RFC 3339",
     with_prop("retrievalStartDate", "yesterday"))
case("type-datetime-retrievalstartdate-number", "spec.properties.retrievalStartDate", "RFC 3339",
     with_prop("retrievalStartDate", "20240101"))

for kind in ["EventGrid", "IotHub", "CosmosDb"]:
    for prop in PROPS[kind]:
        if prop == "ignoreFirstRecord":
            continue
        f = f"spec.properties.{prop}"
        case(f"type-list-{kind.lower()}-{prop.lower()}", f, "expected a string",
             doc(kind, override={f: "[a, b]"}))
        case(f"type-map-{kind.lower()}-{prop.lower()}", f, "expected a string",
             doc(kind, override={f: "{a: 1}"}))

# 4. Unknown kinds and kind mistakes.
for i, k in enumerate(["Kafka", "eventhub", "EVENTHUB", "Event Hub", "EventHubs", "IoTHub",
                       "CosmosDB", "Cosmos", "EventGridd", "\"\""]):
    case(f"unknown-kind-{i:02d}", "spec.kind", "", doc(override={"spec.kind": k}))
case("kind-missing", "spec.kind", "required", doc(drop=("spec.kind",)))

# 5. Missing required fields.
for f in ["metadata.name", "spec.target.subscriptionId", "spec.target.resourceGroup",
          "spec.target.cluster", "spec.target.database"]:
    case("missing-" + f.replace("spec.", "").replace(".", "-"), f, "required", doc(drop=(f,)))
case("missing-target", "spec.target", "required",
     doc(drop=("spec.target", "spec.target.subscriptionId", "spec.target.resourceGroup",
               "spec.target.cluster", "spec.target.database")))
for kind, req in REQUIRED.items():
    for p in req:
        case(f"missing-{kind.lower()}-{p.lower()}", f"spec.properties.{p}", "",
             doc(kind, drop=(f"spec.properties.{p}",)))
for kind in PROPS:
    case(f"missing-properties-{kind.lower()}", "spec.properties", "",
         doc(kind, props={}, drop=("spec.properties",)))

# 6. Invalid enum values.
enums = {
    "spec.properties.dataFormat": ["XML", "csv2", "JSONL", "\"\"", "Parquet5"],
    "spec.properties.compression": ["Zip", "gzip2", "LZ4"],
    "spec.properties.databaseRouting": ["Many", "single-db"],
    "spec.policy.deletion": ["Remove", "Keep", "delete-it"],
}
for f, values in enums.items():
    for i, v in enumerate(values):
        slug = f.rsplit(".", 1)[-1].lower()
        case(f"enum-{slug}-{i}", f, "", doc(override={f: v}))
for i, v in enumerate(["Microsoft.Storage.BlobDeleted", "BlobCreated", "created"]):
    case(f"enum-blobstorageeventtype-{i}", "spec.properties.blobStorageEventType", "",
         doc("EventGrid", override={"spec.properties.blobStorageEventType": v}))
for i, v in enumerate(["Never", "Replace"]):
    case(f"enum-immutablechange-{i}", "spec.policy.immutableChange", "",
         doc(extra=f"    immutableChange: {v}\n"))
for i, v in enumerate(["Observe", "ReadOnly"]):
    case(f"enum-management-{i}", "spec.policy.management", "",
         doc(extra=f"    management: {v}\n"))
for i, v in enumerate(["5s", "300", "5 minutes", "-1m", "1x", "9s"]):
    case(f"resync-interval-{i}", "spec.policy.resyncInterval", "",
         doc(extra=f"    resyncInterval: \"{v}\"\n"))

# 7. Invalid resource ids.
bad_ids = [
    "not-an-id",
    "/subscriptions/",
    "subscriptions/" + SUB + "/resourceGroups/testrg",
    f"/subscriptions/{SUB}/resourceGroups/testrg",
    f"/subscriptions/not-a-guid/resourceGroups/testrg/providers/Microsoft.EventHub/namespaces/ns/eventhubs/storm",
    f"{RG}/Microsoft.EventHub/namespaces/ns",
    f"{RG}/Microsoft.EventHub/namespaces/ns/eventhubs/",
    f"{RG}/Microsoft.Storage/storageAccounts/logsstorage",
    f"{RG}/Microsoft.EventHub/namespaces//eventhubs/storm",
    "https://portal.azure.com/#resource" + HUB,
]
for i, v in enumerate(bad_ids):
    case(f"resource-id-eventhub-{i:02d}", "spec.properties.eventHubResourceId", "",
         doc(override={"spec.properties.eventHubResourceId": f"\"{v}\""}))
for kind in ["EventGrid", "IotHub", "CosmosDb"]:
    p = ID_PROPS[kind]
    for i, v in enumerate([HUB, "garbage", f"{RG}/Microsoft.Sql/servers/s1", "/subscriptions/x"]):
        case(f"resource-id-{kind.lower()}-{i}", f"spec.properties.{p}", "",
             doc(kind, override={f"spec.properties.{p}": f"\"{v}\""}))
for i, v in enumerate(["garbage", HUB]):
    case(f"resource-id-managedidentity-{i}", "spec.properties.managedIdentityResourceId", "",
         doc("CosmosDb", override={"spec.properties.managedIdentityResourceId": f"\"{v}\""}))

# 8. Invalid target and names.
for i, v in enumerate(["not-a-guid", "00000000-0000-0000-0000-00000000000", "12345",
                       "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"]):
    case(f"target-subscription-{i}", "spec.target.subscriptionId", "",
         doc(override={"spec.target.subscriptionId": v}))
for i, v in enumerate(["my cluster", "cluster/with/slash", "\"\"", "a" * 300, "-cluster"]):
    case(f"target-cluster-{i}", "spec.target.cluster", "",
         doc(override={"spec.target.cluster": v}))
for i, v in enumerate(["db/x", "\"\"", "d" * 300]):
    case(f"target-database-{i}", "spec.target.database", "",
         doc(override={"spec.target.database": v}))
for i, v in enumerate(["rg/x", "\"\"", "r" * 300]):
    case(f"target-resourcegroup-{i}", "spec.target.resourceGroup", "",
         doc(override={"spec.target.resourceGroup": v}))
for i, v in enumerate(["Upper_Case", "has space", "\"\"", "n" * 300, "ends-with-", "dots..x"]):
    case(f"metadata-name-{i}", "metadata.name", "", doc(name=v))

# 9. Unknown fields (typos get a suggestion).
typos = {
    "spec.locaton": "eastus2", "spec.knd": "EventHub", "spec.polcy": "{}", "spec.targets": "{}",
    "spec.properties.tablename": "x", "spec.properties.consumergroup": "x",
    "spec.properties.eventHubResourceID": "x", "spec.properties.dataformat": "CSV",
    "spec.target.clusterName": "c", "spec.target.subscription": "s",
    "spec.policy.deleton": "Delete", "spec.policy.resync": "5m", "metadata.nmae": "x",
    "spec.properties.provisioningState": "Succeeded",
}
for i, (f, v) in enumerate(typos.items()):
    parent, key = f.rsplit(".", 1)
    depth = f.count(".")
    d = doc()
    lines = d.split("\n")
    idx = max(j for j, line in enumerate(lines)
              if line.strip().startswith(parent.rsplit(".", 1)[-1] + ":") or
              (line.startswith("  " * depth) and j > 0))
    # Insert right after the parent's header line.
    header = "  " * (depth - 1) + parent.rsplit(".", 1)[-1] + ":"
    pos = lines.index(header) if header in lines else idx
    lines.insert(pos + 1, "  " * depth + f"{key}: {v}")
    case(f"unknown-field-{i:02d}", f, "", "\n".join(lines))

# 10. Hostile inputs that are small enough to commit.
deep = doc() + "status:\n" + "".join("  " * (i + 1) + f"l{i}:\n" for i in range(200)) + \
    "  " * 201 + "x: 1\n"
case("hostile-deep-nesting-block", "-", "", deep)
case("hostile-deep-nesting-flow", "-", "", doc() + "status: " + "[" * 5000 + "]" * 5000 + "\n")
bomb = "  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
for i in range(1, 10):
    bomb += f"  l{i}: &l{i} [" + ", ".join([f"*l{i-1}"] * 10) + "]\n"
case("hostile-alias-bomb", "-", "nodes", doc() + "status:\n" + bomb)
case("hostile-alias-bomb-in-spec", "-", "nodes",
     doc() + "  bomb:\n" + "".join("  " + line + "\n" for line in bomb.splitlines()))
case("hostile-too-many-documents", "-", "", "---\n".join([doc(name=f"c{i}") for i in range(1002)]))
case("hostile-invalid-utf8-value", "-", "UTF-8",
     doc().encode().replace(b"StormEvents_CSV", b"Storm\xff\xfeEvents"))
case("hostile-invalid-utf8-key", "-", "UTF-8",
     doc().encode().replace(b"tableName", b"table\xc3\x28Name"))
case("hostile-overlong-utf8", "-", "UTF-8", doc().encode().replace(b"eastus2", b"east\xc0\xafus2"))
case("hostile-truncated-utf8", "-", "UTF-8", doc().encode() + b"# \xe2\x82")
case("hostile-nul-byte", "-", "", doc().encode().replace(b"eastus2", b"east\x00us2"))
case("hostile-utf16-bom", "-", "", b"\xff\xfe" + doc().encode("utf-16-le"))
case("hostile-huge-key", "-", "", doc() + "  " + "k" * 200000 + ": v\n")

# 11. More of Azure's naming rules, quoting and casing (appended so earlier numbers stay stable).
for i, v in enumerate(["1cluster", "https://mycluster.eastus2.kusto.windows.net", "my_cluster",
                       "mycluster.eastus2", "\"clüster\""]):
    case(f"target-cluster-name-{i}", "spec.target.cluster", "cluster",
         doc(override={"spec.target.cluster": v}))
for i, v in enumerate(["db:x", "\"db\\tx\"", "\"db#1\""]):
    case(f"target-database-name-{i}", "spec.target.database", "database",
         doc(override={"spec.target.database": v}))
for i, v in enumerate(["rg.", "rg x", "rg#1", "\"" + "r" * 91 + "\""]):
    case(f"target-resourcegroup-name-{i}", "spec.target.resourceGroup", "resource group",
         doc(override={"spec.target.resourceGroup": v}))
for i, v in enumerate(["{12345678-1234-1234-1234-123456789098}",
                       "12345678123412341234123456789098", "My Subscription"]):
    case(f"target-subscription-format-{i}", "spec.target.subscriptionId", "GUID",
         doc(override={"spec.target.subscriptionId": f"\"{v}\""}))
case("target-connection-name-too-long", "spec.target.name", "40",
     doc().replace("    database: mykustodatabase\n",
                   "    database: mykustodatabase\n    name: " + "c" * 41 + "\n"))
case("target-connection-name-slash", "spec.target.name", "'/'",
     doc().replace("    database: mykustodatabase\n",
                   "    database: mykustodatabase\n    name: conn/x\n"))
case("target-connection-name-from-metadata", "spec.target.name", "spec.target.name",
     doc(name="a" + "-b" * 25))
for i, v in enumerate(["iothub", "Eventgrid", "COSMOSDB", "eventHubWithManagedIdentity"]):
    case(f"kind-case-{i}", "spec.kind", "case-sensitive", doc(override={"spec.kind": v}))
for f in ["spec.properties.compression", "spec.properties.databaseRouting"]:
    case(f"enum-empty-{f.rsplit('.', 1)[-1].lower()}", f, "empty", doc(override={f: '""'}))
case("enum-empty-blobstorageeventtype", "spec.properties.blobStorageEventType", "empty",
     doc("EventGrid", override={"spec.properties.blobStorageEventType": "''"}))
case("syntax-unterminated-quote-with-escapes", "-", "never closed",
     base.replace("tableName: StormEvents", 'tableName: "Storm\\"Events\\\\\\"'))
case("syntax-unterminated-single-quote-doubled", "-", "never closed",
     base.replace("tableName: StormEvents", "tableName: 'it''s"))
case("syntax-unterminated-quote-in-key", "-", "never closed", base + '  "status: x\n')
case("syntax-unterminated-quote-last-line", "-", "never closed", base + "status: 'x")
for i, v in enumerate(["a.-b", ".ab", "ab.", "a.b..c"]):
    case(f"metadata-name-dots-{i}", "metadata.name", "", doc(name=v))
case("metadata-unknown-field-labelz", "metadata.labelz", "labels",
     doc().replace("  namespace: adx\n", "  namespace: adx\n  labelz: {a: b}\n"))
case("metadata-missing-name-only", "metadata.name", "required",
     doc(drop=("metadata.name",)))
for i, v in enumerate([f"/subscriptions/sub1/resourceGroups/testrg/providers/Microsoft.Devices/IotHubs/hub1",
                       f"/subscriptions/{SUB}0/resourceGroups/testrg/providers/Microsoft.Devices/IotHubs/hub1"]):
    case(f"resource-id-subscription-not-guid-{i}", "spec.properties.iotHubResourceId",
         "not a subscription id", doc("IotHub", override={"spec.properties.iotHubResourceId": v}))
for i, v in enumerate([STORAGE, f"{RG}/Microsoft.Kusto/clusters/mykustocluster/databases/db"]):
    case(f"resource-id-managedidentity-type-{i}", "spec.properties.managedIdentityResourceId",
         "userAssignedIdentities",
         doc("CosmosDb", override={"spec.properties.managedIdentityResourceId": v}))
# Azure's cluster names are 4 to 22 characters.
for i, v in enumerate(["c1", "abc"]):
    case(f"target-cluster-too-short-{i}", "spec.target.cluster", "shorter than 4 characters",
         doc(override={"spec.target.cluster": v}))


# Inputs the loader accepts although they are wrong: validation gaps this corpus finds. They are
# written to known-gaps/ (not checked by the test); move a slug out of this set once the loader
# refuses it. Empty: the 21 gaps found first (unterminated quotes, kind casing, names, GUIDs,
# empty enum values, resource ids) are closed.
KNOWN_GAPS = set()
# Inputs refused with an error whose field or wording differs from the expectation above; the
# test only checks that they fail with a located error.
RELAXED = set()


def main():
    gaps_dir = HERE / "known-gaps"
    if KNOWN_GAPS:
        gaps_dir.mkdir(exist_ok=True)
    for folder in (HERE, gaps_dir):
        for p in list(folder.glob("[0-9][0-9][0-9]-*.yaml")) + list(folder.glob("*.expect")):
            p.unlink()
    for n, (slug, field, message, text) in enumerate(CASES, start=1):
        if slug in RELAXED:
            field, message = "-", ""
        header = f"# expect-field: {field}\n# expect-message: {message}\n".encode()
        body = text if isinstance(text, bytes) else text.encode()
        if body.startswith(b"\xff\xfe") or body.startswith(b"%YAML"):
            header = b""  # these must start the file; the test reads the sidecar instead
            (gaps_dir if slug in KNOWN_GAPS else HERE).joinpath(f"{n:03d}-{slug}.expect").write_text(
                f"expect-field: {field}\nexpect-message: {message}\n")
        folder = gaps_dir if slug in KNOWN_GAPS else HERE
        (folder / f"{n:03d}-{slug}.yaml").write_bytes(header + body)
    if gaps_dir.exists() and not any(gaps_dir.iterdir()):
        gaps_dir.rmdir()
    dup = HERE / "duplicates"
    dup.mkdir(exist_ok=True)
    for p in dup.glob("*.yaml"):
        p.unlink()
    for i in range(5):
        (dup / f"pair{i}-a.yaml").write_text(doc(name=f"dup-{i}"))
        (dup / f"pair{i}-b.yaml").write_text(doc(name=f"dup-{i}-other").replace(
            "  target:\n", f"  target:\n    name: dup-{i}\n").replace(
            "metadata:\n  name: dup-", "metadata:\n  name: dup-"))
        # a: target name defaults to metadata.name dup-i; b: target.name dup-i explicitly.
    print(f"{len(CASES)} bad manifests, 10 duplicate-target files")


if __name__ == "__main__":
    main()
