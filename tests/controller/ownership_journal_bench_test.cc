// A measurement, not a timed test: N Adds each followed by a Flush (what cold convergence does:
// every create records ownership durably before its PUT). Runs only when
// KUSTODIAN_JOURNAL_BENCH=N is set; prints the wall time and the bytes the state dir received.
#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "controller/ownership_journal.h"
#include "gtest/gtest.h"
#include "tests/controller/reconciler_test_util.h"

namespace kustodian {
namespace {

// Bytes this process has written to storage so far (Linux /proc/self/io).
long long WrittenBytes() {
  std::ifstream io("/proc/self/io");
  std::string name;
  long long value = 0;
  while (io >> name >> value) {
    if (name == "wchar:") {
      return value;
    }
  }
  return -1;
}

TEST(OwnershipJournalBench, AddThenFlushPerRecord) {
  const char* env = std::getenv("KUSTODIAN_JOURNAL_BENCH");
  if (env == nullptr) {
    GTEST_SKIP() << "set KUSTODIAN_JOURNAL_BENCH=N to measure N Add+Flush";
  }
  const int n = std::atoi(env);
  testing_util::ScopedDir dir;
  auto journal = OwnershipJournal::Open(dir.path());
  ASSERT_TRUE(journal.ok()) << journal.status();
  const long long bytes_before = WrittenBytes();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    OwnershipRecord rec;
    rec.id = absl::StrCat(
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
        "Microsoft.Kusto/clusters/cluster",
        i % 10, "/databases/db", i % 100, "/dataConnections/connection-", i);
    rec.kind = "EventHub";
    rec.file = absl::StrCat("/etc/kustodian/manifests/team-", i % 50, ".yaml");
    rec.since = absl::FromUnixSeconds(1'790'000'000 + i);
    const std::string key = absl::AsciiStrToLower(rec.id);
    (*journal)->Add(key, rec);
    ASSERT_TRUE((*journal)->Flush().ok());
    ASSERT_TRUE((*journal)->SetLastAppliedHash(key, absl::StrCat("hash-", i)));
    ASSERT_TRUE((*journal)->Flush().ok());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const long long written = WrittenBytes() - bytes_before;
  long long on_disk = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    on_disk += static_cast<long long>(e.file_size());
  }
  std::cout << "journal bench: " << n << " x (Add+Flush, SetLastAppliedHash+Flush): " << seconds
            << " s, " << written / (1024.0 * 1024.0) << " MiB written, " << on_disk
            << " bytes on disk" << std::endl;
  auto reloaded = OwnershipJournal::Open(dir.path());
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  EXPECT_EQ((*reloaded)->size(), static_cast<size_t>(n));
}

}  // namespace
}  // namespace kustodian
