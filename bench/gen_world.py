#!/usr/bin/env python3
"""Generates a benchmark world: the emulator's world YAML and one DataConnection manifest per file.

The world has one subscription and resource group, CLUSTERS clusters and DATABASES databases spread
over them round-robin, and CONNECTIONS manifests spread over the databases round-robin, cycling
through the kinds EventHub, EventGrid, IotHub and CosmosDb (mixed kinds, as in examples/manifests).

Standard library only. Used by bench.py; can also run alone:
  gen_world.py --connections 10000 --databases 100 --clusters 20 --out DIR
which writes DIR/world.yaml and DIR/manifests/<database>/<name>.yaml.
"""
import argparse
import os

SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"
RESOURCE_GROUP = "benchrg"
LOCATIONS = [("eastus2", "East US 2"), ("westeurope", "West Europe"), ("northeurope", "North Europe"),
             ("westus2", "West US 2")]
KINDS = ["EventHub", "EventGrid", "IotHub", "CosmosDb"]


class Connection:
    """One generated connection: where it lives, its manifest and its ARM PUT body."""

    def __init__(self, index, cluster, location, database):
        self.index = index
        self.cluster = cluster
        self.location = location
        self.database = database
        self.name = "conn-%05d" % index
        self.kind = KINDS[index % len(KINDS)]
        self.table = "Table%05d" % index

    @property
    def db_path(self):
        return ("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Kusto/clusters/%s/databases/%s"
                % (SUBSCRIPTION, RESOURCE_GROUP, self.cluster, self.database))

    @property
    def arm_path(self):
        return "%s/dataConnections/%s" % (self.db_path, self.name)

    def properties(self, table=None):
        """The ARM properties of this connection (manifest properties use the same names)."""
        table = table or self.table
        rg = "/subscriptions/%s/resourceGroups/%s/providers" % (SUBSCRIPTION, RESOURCE_GROUP)
        i = self.index
        if self.kind == "EventHub":
            return {
                "eventHubResourceId": "%s/Microsoft.EventHub/namespaces/ns%03d/eventhubs/hub%05d" % (rg, i % 50, i),
                "consumerGroup": "$Default",
                "tableName": table,
                "mappingRuleName": table + "_JSON_Mapping",
                "dataFormat": "JSON",
            }
        if self.kind == "EventGrid":
            sa = "%s/Microsoft.Storage/storageAccounts/sa%05d" % (rg, i)
            return {
                "storageAccountResourceId": sa,
                "eventGridResourceId": sa + "/providers/Microsoft.EventGrid/eventSubscriptions/sub%05d" % i,
                "eventHubResourceId": "%s/Microsoft.EventHub/namespaces/egns%03d/eventhubs/blobs%05d" % (rg, i % 50, i),
                "consumerGroup": "$Default",
                "tableName": table,
                "mappingRuleName": table + "_JSON_Mapping",
                "dataFormat": "JSON",
                "blobStorageEventType": "Microsoft.Storage.BlobCreated",
            }
        if self.kind == "IotHub":
            return {
                "iotHubResourceId": "%s/Microsoft.Devices/IotHubs/iot%05d" % (rg, i),
                "consumerGroup": "$Default",
                "sharedAccessPolicyName": "registryRead",
                "tableName": table,
                "mappingRuleName": table + "_JSON_Mapping",
                "dataFormat": "JSON",
            }
        return {  # CosmosDb
            "cosmosDbAccountResourceId": "%s/Microsoft.DocumentDB/databaseAccounts/acct%05d" % (rg, i),
            "cosmosDbDatabase": "db%05d" % i,
            "cosmosDbContainer": "container%05d" % i,
            "managedIdentityResourceId": "%s/Microsoft.ManagedIdentity/userAssignedIdentities/ingest" % rg,
            "tableName": table,
            "mappingRuleName": table + "_JSON_Mapping",
            "retrievalStartDate": "2024-01-01T00:00:00Z",
        }

    def manifest(self, table=None):
        lines = [
            "apiVersion: kustodian.io/v1alpha1",
            "kind: DataConnection",
            "metadata:",
            "  name: %s" % self.name,
            "spec:",
            "  target:",
            "    subscriptionId: %s" % SUBSCRIPTION,
            "    resourceGroup: %s" % RESOURCE_GROUP,
            "    cluster: %s" % self.cluster,
            "    database: %s" % self.database,
            "  location: %s" % self.location,
            "  kind: %s" % self.kind,
            "  properties:",
        ]
        for key, value in self.properties(table).items():
            if isinstance(value, str) and (value.startswith("$") or ":" in value):
                value = '"%s"' % value
            lines.append("    %s: %s" % (key, value))
        lines += ["  policy:", "    deletion: Delete", ""]
        return "\n".join(lines)

    def arm_body(self, table=None):
        return {"location": self.location, "kind": self.kind, "properties": self.properties(table)}


def layout(connections, databases, clusters):
    """The connections of a world with that many connections, databases and clusters."""
    clusters = max(1, min(clusters, databases))
    dbs = []
    for d in range(databases):
        c = d % clusters
        dbs.append(("cluster%03d" % c, LOCATIONS[c % len(LOCATIONS)][0], "db%03d" % d))
    return [Connection(i, *dbs[i % databases]) for i in range(connections)]


def world_yaml(databases, clusters):
    clusters = max(1, min(clusters, databases))
    out = ["subscriptions:", "  - id: %s" % SUBSCRIPTION, "    resourceGroups:",
           "      - name: %s" % RESOURCE_GROUP, "        clusters:"]
    for c in range(clusters):
        out.append("          - name: cluster%03d" % c)
        out.append("            location: %s" % LOCATIONS[c % len(LOCATIONS)][1])
        out.append("            databases:")
        for d in range(c, databases, clusters):
            out.append("              - db%03d" % d)
    out += ["principals:",
            "  - clientId: 11111111-1111-1111-1111-111111111111",
            "    clientSecret: emulator-secret", ""]
    return "\n".join(out)


def manifest_path(root, conn):
    return os.path.join(root, conn.database, conn.name + ".yaml")


def write_world(out_dir, connections, databases, clusters):
    """Writes out_dir/world.yaml and out_dir/manifests/; returns (world path, manifests dir, conns)."""
    os.makedirs(out_dir, exist_ok=True)
    world = os.path.join(out_dir, "world.yaml")
    with open(world, "w") as f:
        f.write(world_yaml(databases, clusters))
    mdir = os.path.join(out_dir, "manifests")
    conns = layout(connections, databases, clusters)
    for d in sorted({c.database for c in conns}):
        os.makedirs(os.path.join(mdir, d), exist_ok=True)
    for conn in conns:
        with open(manifest_path(mdir, conn), "w") as f:
            f.write(conn.manifest())
    return world, mdir, conns


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--connections", type=int, default=10000)
    p.add_argument("--databases", type=int, default=100)
    p.add_argument("--clusters", type=int, default=20)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    world, mdir, conns = write_world(a.out, a.connections, a.databases, a.clusters)
    print("wrote %s and %d manifests under %s" % (world, len(conns), mdir))


if __name__ == "__main__":
    main()
