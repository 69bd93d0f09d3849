// Sharding of DataConnection resources across replicas (--shard-count N --shard-index I): a
// resource belongs to shard FNV-1a-64("<namespace>/<name>") mod N. The hash is fixed (not
// std::hash), so every replica, build and restart agrees on the split; each shard elects its own
// leader with its own Lease.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kustodian {

// FNV-1a 64-bit over the bytes of `data`.
uint64_t Fnv1a64(std::string_view data);

// The shard (0..count-1) of the resource `ns`/`name`; 0 when count <= 1.
int ShardOf(std::string_view ns, std::string_view name, int count);

// True when `ns`/`name` belongs to shard `index` of `count`.
bool InShard(std::string_view ns, std::string_view name, int count, int index);

// The Lease name of a shard: `id` when count <= 1, else "<id>-shard-<index>-of-<count>".
std::string ShardLeaseName(std::string_view id, int count, int index);

}  // namespace kustodian
