// Shared helpers of the reconciler and store tests: valid specs, temp directories and a harness
// that wires a Reconciler to a FakeArmClient, a FakeClock and in-memory stores.
#pragma once

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "controller/cluster_lock.h"
#include "controller/desired_store.h"
#include "controller/live_cache.h"
#include "controller/ownership_journal.h"
#include "controller/prune_guard.h"
#include "controller/reconciler.h"
#include "controller/status_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/core/logging.h"
#include "src/core/status.h"
#include "src/metrics/kustodian_metrics.h"
#include "src/metrics/registry.h"
#include "tests/fakes/fake_arm_client.h"
#include "tests/fakes/fake_clock.h"

namespace kustodian::testing_util {

inline constexpr char kSub[] = "00000000-0000-0000-0000-000000000001";

// A valid EventHub spec for connection `name` in cluster `cluster`, database `db`.
inline DataConnectionSpec MakeSpec(const std::string& name, const std::string& cluster = "c1",
                                   const std::string& db = "db1") {
  DataConnectionSpec spec;
  spec.id = DataConnectionId{kSub, "rg", cluster, db, name};
  spec.location = "eastus2";
  spec.kind = ConnectionKind::kEventHub;
  spec.properties = {
      {"eventHubResourceId",
       absl::StrCat("/subscriptions/", kSub,
                    "/resourceGroups/rg/providers/Microsoft.EventHub/namespaces/ns/eventhubs/",
                    name)},
      {"consumerGroup", "$Default"},
      {"tableName", "Events"},
  };
  spec.source.name = name;
  spec.source.file = "m.yaml";
  return spec;
}

// What ARM would report for `spec` (display-name location, as real ARM does).
// `status` carrying ARM's error `code` (as the ArmClient reports it).
inline absl::Status ArmError(absl::Status status, std::string_view code) {
  SetArmErrorCode(status, code);
  return status;
}

inline LiveConnection LiveFrom(const DataConnectionSpec& spec) {
  LiveConnection live;
  live.id = spec.id;
  live.location = "East US 2";
  live.kind_name = std::string(KindName(spec.kind));
  live.kind = spec.kind;
  live.properties = spec.properties;
  live.provisioning_state = "Succeeded";
  return live;
}

// A fresh directory under the test temp dir, removed with everything in it on destruction.
class ScopedDir {
 public:
  ScopedDir() {
    std::string templ = (std::filesystem::path(::testing::TempDir()) / "kusrecXXXXXX").string();
    char* made = ::mkdtemp(templ.data());
    EXPECT_NE(made, nullptr);
    path_ = templ;
  }
  ~ScopedDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScopedDir(const ScopedDir&) = delete;
  ScopedDir& operator=(const ScopedDir&) = delete;
  const std::string& path() const { return path_; }
  // File names (not paths) in the directory, sorted.
  std::vector<std::string> Names() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(path_)) {
      out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  std::string path_;
};

// The whole content of `path` ("" when it cannot be read), and its replacement by `text`.
inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}
inline void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// Everything a Reconciler needs, in memory, with log lines captured.
struct Harness {
  // `state_dir` "" keeps the journal in memory; `status_dir` "" keeps statuses in memory.
  explicit Harness(ReconcilerOptions options = {}, int max_deletes = kDefaultMaxDeletesPerPass,
                   std::string status_dir = "", const std::string& state_dir = "")
      : journal_owner(OpenJournal(state_dir)),
        journal(*journal_owner),
        logger(LogLevel::kDebug, LogFormat::kText, clock,
               [this](std::string_view line) {
                 std::lock_guard<std::mutex> lock(log_mu);
                 log_lines.emplace_back(line);
               }),
        arm(&clock),
        live(clock),
        status(logger, std::move(status_dir)),
        prune(max_deletes),
        metrics(registry) {
    reconciler =
        std::make_unique<Reconciler>(ReconcilerDeps{clock, logger, arm, desired, live, journal,
                                                    status, cluster_lock, prune, &metrics},
                                     options);
  }

  // Makes `specs` the whole content of manifest file `file`.
  void Apply(std::vector<DataConnectionSpec> specs, const std::string& file = "m.yaml") {
    desired.ApplyFile(file, std::move(specs));
  }
  // Records `spec` as managed (as if kustodian had created it).
  void Manage(const DataConnectionSpec& spec, DeletionPolicy deletion = DeletionPolicy::kDelete,
              const std::string& last_applied_hash = "") {
    OwnershipRecord rec;
    rec.id = spec.id.RequestPath();
    rec.kind = std::string(KindName(spec.kind));
    rec.deletion = deletion;
    rec.since = clock.Now();
    rec.last_applied_hash = last_applied_hash;
    journal.Add(spec.id.Key(), rec);
  }
  ReconcileResult Reconcile(const DataConnectionSpec& spec) {
    return reconciler->Reconcile(spec.id.Key());
  }
  // Reconciles `key` until it is no longer waiting on an operation (at most `max_passes`),
  // advancing the clock by each requeue delay. Returns the last result.
  ReconcileResult Converge(const std::string& key, int max_passes = 20) {
    ReconcileResult r;
    for (int i = 0; i < max_passes; ++i) {
      r = reconciler->Reconcile(key);
      if (r.outcome != ReconcileResult::kRequeueAfter) {
        return r;
      }
      clock.Advance(r.requeue_after);
    }
    return r;
  }
  std::string Phase(const DataConnectionSpec& spec) const {
    std::optional<ConnectionStatus> s = status.Get(spec.id.Key());
    return s ? s->phase : "<none>";
  }
  int Writes() const {
    return arm.calls(FakeArmClient::Method::kPut) + arm.calls(FakeArmClient::Method::kDelete);
  }
  bool Logged(std::string_view text) {
    std::lock_guard<std::mutex> lock(log_mu);
    for (const std::string& line : log_lines) {
      if (line.find(text) != std::string::npos) {
        return true;
      }
    }
    return false;
  }

  static std::unique_ptr<OwnershipJournal> OpenJournal(const std::string& state_dir) {
    if (state_dir.empty()) {
      return std::make_unique<OwnershipJournal>();
    }
    auto opened = OwnershipJournal::Open(state_dir);
    EXPECT_TRUE(opened.ok()) << opened.status();
    return opened.ok() ? *std::move(opened) : std::make_unique<OwnershipJournal>();
  }

  std::unique_ptr<OwnershipJournal> journal_owner;
  OwnershipJournal& journal;
  FakeClock clock;
  std::mutex log_mu;
  std::vector<std::string> log_lines;
  Logger logger;
  FakeArmClient arm;
  DesiredStore desired;
  LiveCache live;
  StatusStore status;
  ClusterLock cluster_lock;
  PruneGuard prune;
  Registry registry;
  KustodianMetrics metrics;
  std::unique_ptr<Reconciler> reconciler;
};

}  // namespace kustodian::testing_util
