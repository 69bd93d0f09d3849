// Issue 5 end to end: the real `kustodian run` with its Event Grid webhook, and the real
// emulator delivering resource events to it. Periodic resync and directory rescans are off
// (except where a test says otherwise), so every correction here comes from an event.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <regex>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/integration/daemon_harness.h"

namespace kustodian::testing {
namespace {

constexpr char kSecret[] = "it-eventgrid-secret-0123456789";

// The daemon's flags for these tests: webhook on, resync and rescans off (the secret comes from
// KUSTODIAN_EVENTGRID_SECRET).
std::vector<std::string> EventGridFlags(std::vector<std::string> extra = {},
                                        const std::string& resync = "0") {
  std::vector<std::string> flags = {
      "--eventgrid-bind-address", "127.0.0.1:0", "--resync-interval", resync,
      "--rescan-interval",        "0",           "--log-level",       "info"};
  flags.insert(flags.end(), extra.begin(), extra.end());
  return flags;
}

// The webhook port, from the daemon's start-up log.
int EventGridPort(DaemonFixture& f) {
  std::regex re(R"(endpoint=http://127\.0\.0\.1:(\d+)/eventgrid)");
  int port = 0;
  WaitUntil(
      [&] {
        std::smatch m;
        std::string log = f.daemon->Log();
        if (std::regex_search(log, m, re)) {
          port = std::stoi(m[1].str());
          return true;
        }
        return false;
      },
      absl::Seconds(20));
  return port;
}

std::string WebhookUrl(int port, const std::string& code = kSecret) {
  return absl::StrCat("http://127.0.0.1:", port, "/eventgrid", code.empty() ? "" : "?code=", code);
}

// Registers the daemon's webhook with the emulator and waits for the validation handshake.
void Subscribe(DaemonFixture& f, int port) {
  nlohmann::json body = {{"endpoint", WebhookUrl(port)}, {"schema", "EventGridSchema"}};
  absl::StatusOr<HttpResponse> r =
      f.http.Request("PUT", f.emulator.base_url + "/_admin/eventgrid/subscriptions/kustodian",
                     body.dump(), {{"Content-Type", "application/json"}});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_LT(r->status, 300) << r->body;
  ASSERT_TRUE(WaitUntil(
      [&] {
        absl::StatusOr<nlohmann::json> subs =
            f.http.GetJson(f.emulator.base_url + "/_admin/eventgrid/subscriptions");
        if (!subs.ok()) {
          return false;
        }
        for (const nlohmann::json& s : subs->value("subscriptions", nlohmann::json::array())) {
          if (s.value("validated", false)) {
            return true;
          }
        }
        return false;
      },
      absl::Seconds(10)))
      << f.http.GetJson(f.emulator.base_url + "/_admin/eventgrid/subscriptions")->dump(1);
}

// Sum of every sample of `name` whose labels contain each of `labels` (e.g. outcome="x").
double MetricSum(const std::string& metrics, const std::string& name,
                 const std::vector<std::string>& labels = {}) {
  double sum = 0;
  for (absl::string_view line : absl::StrSplit(metrics, '\n')) {
    if (!absl::StartsWith(line, name) || line.size() <= name.size() ||
        (line[name.size()] != '{' && line[name.size()] != ' ')) {
      continue;
    }
    bool match = true;
    for (const std::string& l : labels) {
      match = match && absl::StrContains(line, l);
    }
    double v = 0;
    size_t space = line.rfind(' ');
    if (match && space != absl::string_view::npos && absl::SimpleAtod(line.substr(space + 1), &v)) {
      sum += v;
    }
  }
  return sum;
}

double Reconciles(DaemonFixture& f) {
  return MetricSum(f.Metrics(), "controller_runtime_reconcile_total");
}
double EgOutcome(DaemonFixture& f, const std::string& outcome) {
  return MetricSum(f.Metrics(), "kustodian_eventgrid_events_total",
                   {absl::StrCat("outcome=\"", outcome, "\"")});
}

std::string AdminUrl(DaemonFixture& f, const std::string& name) {
  return absl::StrCat(f.emulator.base_url, "/_admin/connections", ConnPath("clu1", "db1", name));
}

// The daemon's requests of `method` on connection `name` since `since` (admin calls excluded),
// with their times from the emulator's request log.
std::vector<absl::Time> DaemonCalls(DaemonFixture& f, int64_t since, const std::string& method,
                                    const std::string& name) {
  std::vector<absl::Time> out;
  const std::string suffix = absl::StrCat("/dataconnections/", name);
  for (const nlohmann::json& r :
       f.EmulatorRequests(since).value("requests", nlohmann::json::array())) {
    std::string path = absl::AsciiStrToLower(r.value("path", ""));
    if (r.value("method", "") != method || absl::StartsWith(path, "/_admin") ||
        !absl::EndsWith(path, suffix)) {
      continue;
    }
    absl::Time t;
    std::string err;
    if (absl::ParseTime(absl::RFC3339_full, r.value("time", ""), &t, &err)) {
      out.push_back(t);
    }
  }
  return out;
}

std::string TableOf(DaemonFixture& f, const std::string& name) {
  std::optional<nlohmann::json> c = f.EmulatorConnection(ConnKey("clu1", "db1", name));
  if (!c) {
    return "";
  }
  return c->value("properties", nlohmann::json::object()).value("tableName", "");
}
std::string ProvisioningOf(DaemonFixture& f, const std::string& name) {
  std::optional<nlohmann::json> c = f.EmulatorConnection(ConnKey("clu1", "db1", name));
  if (!c) {
    return "";
  }
  return c->value("properties", nlohmann::json::object()).value("provisioningState", "");
}

// A synthetic ResourceWriteSuccess for connection `name` (Event Grid schema).
nlohmann::json ResourceEvent(const std::string& id, const std::string& name,
                             const std::string& correlation) {
  std::string uri = ConnPath("clu1", "db1", name);
  return {{"id", id},
          {"topic", absl::StrCat("/subscriptions/", kItSub)},
          {"subject", uri},
          {"eventType", "Microsoft.Resources.ResourceWriteSuccess"},
          {"eventTime", "2026-12-01T10:00:00Z"},
          {"dataVersion", "2"},
          {"metadataVersion", "1"},
          {"data",
           {{"resourceUri", uri},
            {"correlationId", correlation},
            {"operationName", "Microsoft.Kusto/Clusters/Databases/DataConnections/write"},
            {"status", "Succeeded"}}}};
}

absl::Duration Percentile(std::vector<absl::Duration> v, double p) {
  if (v.empty()) {
    return absl::InfiniteDuration();
  }
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size()))) - 1;
  return v[std::min(i, v.size() - 1)];
}

class EventGridDaemonTest : public ::testing::Test {
 protected:
  // Starts emulator + daemon with one managed connection "hub" (clu1/db1), converged.
  void StartWith(std::vector<std::string> daemon_flags, bool subscribe) {
    f_ = std::make_unique<DaemonFixture>(
        std::vector<std::string>{"--eventgrid-retry-scale", "0.001"});
    f_->dir.WriteFile("config/hub.yaml", Manifest("hub", "EventHub", "clu1", "db1", "T1"));
    f_->StartDaemon(daemon_flags, {{"KUSTODIAN_EVENTGRID_SECRET", kSecret}});
    port_ = EventGridPort(*f_);
    ASSERT_GT(port_, 0) << f_->daemon->Log();
    if (subscribe) {
      Subscribe(*f_, port_);
    }
    WaitSettled();
  }
  // Ready, the emulator's operation finished, and the daemon's poll of it done.
  void WaitSettled() {
    ASSERT_TRUE(WaitUntil(
        [&] {
          return f_->Phase(key_) == "Ready" && ProvisioningOf(*f_, "hub") == "Succeeded" &&
                 f_->DaemonStatus().dump().find("\"pendingOperation\"") == std::string::npos;
        },
        absl::Seconds(30)))
        << f_->DaemonStatus().dump(1) << "\n"
        << f_->daemon->Log();
  }
  absl::StatusOr<HttpResponse> PostEvents(const nlohmann::json& body,
                                          const std::string& code = kSecret) {
    return f_->http.Request(
        "POST", WebhookUrl(port_, code), body.dump(),
        {{"Content-Type", "application/json"}, {"aeg-event-type", "Notification"}});
  }

  std::unique_ptr<DaemonFixture> f_;
  int port_ = 0;
  const std::string key_ = ConnKey("clu1", "db1", "hub");
};

TEST_F(EventGridDaemonTest, OutOfBandDeletesAndEditsAreCorrectedWithinASecond) {
  StartWith(EventGridFlags(), /*subscribe=*/true);
  constexpr int kTrials = 100;  // alternating: 50 deletes, 50 edits
  std::vector<absl::Duration> deletes, edits, all;
  const absl::Time test_start = absl::Now();
  for (int trial = 0; trial < kTrials; ++trial) {
    const bool is_delete = trial % 2 == 0;
    const int64_t since = f_->LastSeq();
    const absl::Time changed = absl::Now();
    absl::StatusOr<HttpResponse> r =
        is_delete ? f_->http.Request("DELETE", AdminUrl(*f_, "hub"))
                  : f_->http.Request("PUT", AdminUrl(*f_, "hub"),
                                     R"({"properties":{"tableName":"Drifted"}})",
                                     {{"Content-Type", "application/json"}});
    ASSERT_TRUE(r.ok() && r->status < 300) << (r.ok() ? r->body : r.status().ToString());
    // Corrected = the daemon's PUT reached the emulator and the connection is back as declared.
    std::vector<absl::Time> puts;
    ASSERT_TRUE(WaitUntil(
        [&] {
          puts = DaemonCalls(*f_, since, "PUT", "hub");
          return !puts.empty() && TableOf(*f_, "hub") == "T1";
        },
        absl::Seconds(10)))
        << "trial " << trial << (is_delete ? " (delete)" : " (edit)") << "\n"
        << f_->daemon->Log();
    absl::Duration latency = puts.front() - changed;
    (is_delete ? deletes : edits).push_back(latency);
    all.push_back(latency);
    // Let the correcting operation finish before the next change.
    ASSERT_TRUE(
        WaitUntil([&] { return ProvisioningOf(*f_, "hub") == "Succeeded"; }, absl::Seconds(10)));
    EXPECT_EQ(DaemonCalls(*f_, since, "PUT", "hub").size(), 1u)
        << "trial " << trial << ": one correction per change";
  }
  auto ms = [](absl::Duration d) { return absl::ToDoubleMilliseconds(d); };
  std::printf(
      "[eventgrid] change -> corrective PUT over %d trials in %.1f s: all p50 %.1f ms, p99 %.1f "
      "ms, max %.1f ms | deletes p50 %.1f p99 %.1f ms | edits p50 %.1f p99 %.1f ms\n",
      kTrials, absl::ToDoubleSeconds(absl::Now() - test_start), ms(Percentile(all, 0.5)),
      ms(Percentile(all, 0.99)), ms(Percentile(all, 1.0)), ms(Percentile(deletes, 0.5)),
      ms(Percentile(deletes, 0.99)), ms(Percentile(edits, 0.5)), ms(Percentile(edits, 0.99)));
  EXPECT_LE(Percentile(deletes, 0.99), absl::Seconds(1));
  EXPECT_LE(Percentile(edits, 0.99), absl::Seconds(1));
  EXPECT_GE(EgOutcome(*f_, "enqueued"), kTrials);
  EXPECT_GE(EgOutcome(*f_, "own_write"), kTrials);  // every correction came back as our own
}

TEST_F(EventGridDaemonTest, EventsWithoutTheSecretOrWithForgedBodiesChangeNothing) {
  StartWith(EventGridFlags(), /*subscribe=*/false);
  // Drift the daemon does not know about (no subscription, no resync): only an event can wake it.
  ASSERT_TRUE(f_->http
                  .Request("PUT", AdminUrl(*f_, "hub"), R"({"properties":{"tableName":"Drifted"}})",
                           {{"Content-Type", "application/json"}})
                  .ok());
  const int64_t since = f_->LastSeq();
  const double reconciles = Reconciles(*f_);
  nlohmann::json good = nlohmann::json::array({ResourceEvent("e1", "hub", "someone")});

  absl::StatusOr<HttpResponse> r = PostEvents(good, "");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 401);
  r = PostEvents(good, "wrong-secret-wrong-secret");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 401);
  r = f_->http.Request("POST", WebhookUrl(port_, ""), good.dump(),
                       {{"X-Kustodian-Eventgrid-Secret", "not-it-not-it-not-it"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 401);
  // Forged bodies with the right secret: not JSON, not events, a mistyped field.
  for (const std::string& body :
       {std::string("{\"eventType\": \"Microsoft.Resources.ResourceWriteSuccess\""),
        std::string("[{\"id\": \"x\", \"subject\": \"/subscriptions/x\"}]"),
        std::string("{\"resourceUri\": \"") + ConnPath("clu1", "db1", "hub") + "\"}",
        absl::StrCat("[", ResourceEvent("e2", "hub", "x").dump().substr(0, 40), "]")}) {
    r = f_->http.Request("POST", WebhookUrl(port_), body, {{"Content-Type", "application/json"}});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 400) << body << " -> " << r->body;
  }
  nlohmann::json mistyped = ResourceEvent("e3", "hub", "x");
  mistyped["data"]["resourceUri"] = 42;
  r = PostEvents(nlohmann::json::array({mistyped}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400) << r->body;
  // An oversized body.
  r = f_->http.Request("POST", WebhookUrl(port_), std::string(2 << 20, ' '));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 413);

  absl::SleepFor(absl::Milliseconds(500));  // longer than any coalescing window
  EXPECT_EQ(DaemonCalls(*f_, since, "PUT", "hub").size(), 0u);
  EXPECT_EQ(DaemonCalls(*f_, since, "DELETE", "hub").size(), 0u);
  EXPECT_EQ(DaemonCalls(*f_, since, "GET", "hub").size(), 0u);
  EXPECT_EQ(TableOf(*f_, "hub"), "Drifted");
  EXPECT_EQ(Reconciles(*f_), reconciles);
  EXPECT_EQ(EgOutcome(*f_, "unauthorized"), 3);
  EXPECT_EQ(EgOutcome(*f_, "malformed"), 5);
  EXPECT_EQ(EgOutcome(*f_, "too_large"), 1);
  EXPECT_EQ(EgOutcome(*f_, "enqueued"), 0);

  // The same event with the secret is accepted and the drift corrected (the rejection above was
  // not for want of a working receiver).
  r = PostEvents(good);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(WaitUntil([&] { return TableOf(*f_, "hub") == "T1"; }, absl::Seconds(10)));
}

TEST_F(EventGridDaemonTest, WithTheReceiverDownResyncStillCorrectsDrift) {
  // A subscription whose endpoint is dead (nothing listens there), and resync every 2 s.
  StartWith(EventGridFlags({}, "2s"), /*subscribe=*/false);
  nlohmann::json dead = {{"endpoint", "http://127.0.0.1:1/eventgrid?code=x"},
                         {"schema", "EventGridSchema"}};
  ASSERT_TRUE(f_->http
                  .Request("PUT", f_->emulator.base_url + "/_admin/eventgrid/subscriptions/dead",
                           dead.dump(), {{"Content-Type", "application/json"}})
                  .ok());
  const absl::Time changed = absl::Now();
  ASSERT_TRUE(f_->http.Request("DELETE", AdminUrl(*f_, "hub")).ok());
  ASSERT_TRUE(WaitUntil([&] { return TableOf(*f_, "hub") == "T1"; }, absl::Seconds(15)))
      << f_->daemon->Log();
  std::printf("[eventgrid] receiver down: resync corrected the delete after %.1f s\n",
              absl::ToDoubleSeconds(absl::Now() - changed));
  EXPECT_EQ(EgOutcome(*f_, "enqueued"), 0);  // no event reached the daemon
}

TEST_F(EventGridDaemonTest, OwnWritesCauseNoExtraReconcile) {
  StartWith(EventGridFlags(), /*subscribe=*/true);
  // The create's event came back as our own write.
  ASSERT_TRUE(WaitUntil([&] { return EgOutcome(*f_, "own_write") >= 1; }, absl::Seconds(10)))
      << f_->Metrics();
  const double own_before = EgOutcome(*f_, "own_write");
  const double reconciles_before = Reconciles(*f_);
  const int64_t since = f_->LastSeq();
  // A manifest change makes the daemon write (one PUT), which Event Grid reports back.
  f_->dir.WriteFile("config/hub.yaml", Manifest("hub", "EventHub", "clu1", "db1", "T2"));
  ASSERT_TRUE(WaitUntil([&] { return TableOf(*f_, "hub") == "T2"; }, absl::Seconds(10)));
  ASSERT_TRUE(
      WaitUntil([&] { return EgOutcome(*f_, "own_write") >= own_before + 1; }, absl::Seconds(10)))
      << f_->Metrics();
  WaitSettled();
  absl::SleepFor(absl::Milliseconds(500));  // any reconcile an event would cause is due by now
  const double reconciles = Reconciles(*f_) - reconciles_before;
  const size_t gets = DaemonCalls(*f_, since, "GET", "hub").size();
  std::printf("[eventgrid] own write: %.0f reconciles (write + operation poll), %zu GETs\n",
              reconciles, gets);
  EXPECT_EQ(EgOutcome(*f_, "own_write"), own_before + 1);
  EXPECT_EQ(EgOutcome(*f_, "enqueued"), 0);
  EXPECT_EQ(DaemonCalls(*f_, since, "PUT", "hub").size(), 1u);
  // The write's pass and the pass that polls its operation; an event-caused pass would be a third.
  EXPECT_EQ(reconciles, 2);
}

TEST_F(EventGridDaemonTest, AStormOfEventsForOneKeyIsOneReconcile) {
  // A wider coalescing window than the default: the storm is sent by this (loaded) test machine.
  StartWith(EventGridFlags({"--eventgrid-coalesce", "150ms", "--eventgrid-coalesce-max", "2s"}),
            /*subscribe=*/false);
  auto storm = [&](const std::string& tag) {
    // 1000 distinct events (ids and correlation ids) in 50 requests from 5 threads.
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 5; ++t) {
      threads.emplace_back([&, t] {
        HttpHelper http;
        for (int req = 0; req < 10; ++req) {
          nlohmann::json batch = nlohmann::json::array();
          for (int i = 0; i < 20; ++i) {
            std::string id = absl::StrCat(tag, "-", t, "-", req, "-", i);
            batch.push_back(ResourceEvent(id, "hub", "corr-" + id));
          }
          absl::StatusOr<HttpResponse> r = http.Request("POST", WebhookUrl(port_), batch.dump(),
                                                        {{"Content-Type", "application/json"}});
          if (r.ok() && r->status == 200) {
            ++ok;
          }
        }
      });
    }
    for (std::thread& t : threads) {
      t.join();
    }
    return ok.load();
  };

  // In sync: the storm costs one reconcile, which reads the connection once and writes nothing.
  double reconciles_before = Reconciles(*f_);
  int64_t since = f_->LastSeq();
  ASSERT_EQ(storm("a"), 50);
  ASSERT_TRUE(WaitUntil([&] { return Reconciles(*f_) > reconciles_before; }, absl::Seconds(10)));
  absl::SleepFor(absl::Milliseconds(2500));  // past the longest window: nothing else follows
  EXPECT_EQ(Reconciles(*f_) - reconciles_before, 1);
  EXPECT_EQ(DaemonCalls(*f_, since, "GET", "hub").size(), 1u);
  EXPECT_EQ(DaemonCalls(*f_, since, "PUT", "hub").size(), 0u);
  EXPECT_EQ(EgOutcome(*f_, "enqueued"), 1000);

  // Drifted: one correcting PUT.
  ASSERT_TRUE(f_->http
                  .Request("PUT", AdminUrl(*f_, "hub"), R"({"properties":{"tableName":"Drifted"}})",
                           {{"Content-Type", "application/json"}})
                  .ok());
  since = f_->LastSeq();
  ASSERT_EQ(storm("b"), 50);
  ASSERT_TRUE(WaitUntil([&] { return TableOf(*f_, "hub") == "T1"; }, absl::Seconds(10)));
  WaitSettled();
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(DaemonCalls(*f_, since, "PUT", "hub").size(), 1u);
  EXPECT_EQ(EgOutcome(*f_, "enqueued"), 2000);
}

}  // namespace
}  // namespace kustodian::testing
