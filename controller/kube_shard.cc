#include "controller/kube_shard.h"

#include "absl/strings/str_cat.h"
#include "src/core/strings.h"

namespace kustodian {

uint64_t Fnv1a64(std::string_view data) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

int ShardOf(std::string_view ns, std::string_view name, int count) {
  if (count <= 1) {
    return 0;
  }
  std::string ref = absl::StrCat(Av(ns), "/", Av(name));
  return static_cast<int>(Fnv1a64(ref) % static_cast<uint64_t>(count));
}

bool InShard(std::string_view ns, std::string_view name, int count, int index) {
  return ShardOf(ns, name, count) == (count <= 1 ? 0 : index);
}

std::string ShardLeaseName(std::string_view id, int count, int index) {
  if (count <= 1) {
    return std::string(id);
  }
  return absl::StrCat(Av(id), "-shard-", index, "-of-", count);
}

}  // namespace kustodian
