// The reconciler with the real ArmClientImpl under ARM throttling (issue 6): a write whose
// long-running operation succeeded stays done even when the read-back GET is throttled, the
// cluster lock is released, and every 429 is honoured through the shared throttling pause.
// A small in-test ARM (MiniArm) answers over HttpTransport on a FakeClock.
#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "controller/reconciler.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "src/arm/arm_client_impl.h"
#include "src/arm/token_sources.h"
#include "src/core/strings.h"
#include "tests/controller/reconciler_test_util.h"

namespace kustodian {
namespace {

using testing_util::MakeSpec;

constexpr char kEndpoint[] = "https://arm.test";

// An ARM for data connections that completes every operation at once (Azure-AsyncOperation
// answering Succeeded), with an optional server-side read bucket that answers 429 when empty.
class MiniArm final : public HttpTransport {
 public:
  explicit MiniArm(Clock& clock) : clock_(clock) {}

  // Server-side read throttling: `burst` tokens, refilled at `per_second`; 429 with
  // Retry-After `retry_after_s` when empty.
  void ThrottleReads(double burst, double per_second, int retry_after_s) {
    std::lock_guard<std::mutex> lock(mu_);
    read_burst_ = burst;
    read_tokens_ = burst;
    read_rate_ = per_second;
    retry_after_s_ = retry_after_s;
    refilled_ = clock_.Now();
  }

  // Retry-After (seconds) on the answers that start an operation; negative: none (as Kusto).
  void SetWriteRetryAfter(int seconds) {
    std::lock_guard<std::mutex> lock(mu_);
    write_retry_after_s_ = seconds;
  }

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::string rest = request.url.substr(std::string(kEndpoint).size());
    std::string path = rest.substr(0, rest.find('?'));
    std::string lower = AsciiLower(path);
    if (request.method == "GET" && !TakeReadToken()) {
      ++count_["429"];
      return Answer(429, {{"error", {{"code", "TooManyRequests"}, {"message", "reads throttled"}}}},
                    {{"Retry-After", std::to_string(retry_after_s_)}});
    }
    if (absl::StrContains(lower, "/operationresults/")) {
      ++count_["GET operation"];
      return Answer(200, {{"status", "Succeeded"}, {"name", "op"}});
    }
    if (request.method == "PUT") {
      ++count_["PUT"];
      nlohmann::json body = nlohmann::json::parse(request.body);
      std::vector<std::string> parts = absl::StrSplit(path, '/');
      body["id"] = path;
      body["name"] =
          absl::StrCat(parts[parts.size() - 5], "/", parts[parts.size() - 3], "/", parts.back());
      body["type"] = "Microsoft.Kusto/Clusters/Databases/DataConnections";
      body["properties"]["provisioningState"] = "Succeeded";
      connections_[lower] = body;
      nlohmann::json answer = body;
      answer["properties"]["provisioningState"] = "Creating";
      std::string op_url =
          absl::StrCat(kEndpoint, "/subscriptions/", testing_util::kSub,
                       "/providers/Microsoft.Kusto/locations/eastus2/operationResults/op-", ++ops_,
                       "?api-version=2024-04-13");
      HttpHeaders headers = {{"Azure-AsyncOperation", op_url}};
      if (write_retry_after_s_ >= 0) {
        headers.emplace_back("Retry-After", std::to_string(write_retry_after_s_));
      }
      return Answer(201, answer, std::move(headers));
    }
    if (absl::EndsWith(lower, "/dataconnections")) {
      ++count_["LIST"];
      nlohmann::json value = nlohmann::json::array();
      for (const auto& [key, body] : connections_) {
        if (absl::StartsWith(key, lower + "/")) {
          value.push_back(body);
        }
      }
      return Answer(200, {{"value", value}});
    }
    ++count_["GET"];
    auto it = connections_.find(lower);
    if (it == connections_.end()) {
      return Answer(404, {{"error", {{"code", "NotFound"}, {"message", "no such connection"}}}});
    }
    return Answer(200, it->second);
  }

  int Count(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu_);
    return count_[what];
  }

 private:
  static HttpResponse Answer(int status, const nlohmann::json& body, HttpHeaders headers = {}) {
    HttpResponse response;
    response.status = status;
    response.body = body.dump();
    response.headers = std::move(headers);
    response.headers.emplace_back("Content-Type", "application/json");
    return response;
  }

  bool TakeReadToken() {  // requires mu_
    if (read_rate_ <= 0) {
      return true;
    }
    absl::Time now = clock_.Now();
    read_tokens_ =
        std::min(read_burst_, read_tokens_ + absl::ToDoubleSeconds(now - refilled_) * read_rate_);
    refilled_ = now;
    if (read_tokens_ < 1.0) {
      return false;
    }
    read_tokens_ -= 1.0;
    return true;
  }

  Clock& clock_;
  std::mutex mu_;
  std::map<std::string, nlohmann::json> connections_;
  std::map<std::string, int> count_;
  int ops_ = 0;
  double read_burst_ = 0;
  double read_tokens_ = 0;
  double read_rate_ = 0;  // 0: no server throttling
  int retry_after_s_ = 1;
  int write_retry_after_s_ = -1;
  absl::Time refilled_;
};

// A Reconciler wired to an ArmClientImpl over MiniArm.
struct ThrottleHarness {
  explicit ThrottleHarness(RateLimitOptions limits)
      : logger(LogLevel::kInfo, LogFormat::kText, clock, [](std::string_view) {}),
        server(clock),
        tokens("token", clock),
        live(clock),
        status(logger) {
    ArmClientOptions options;
    options.endpoint = kEndpoint;
    options.rate_limit = limits;
    options.retry.jitter = 0;
    arm = std::make_unique<ArmClientImpl>(options, server, tokens, clock, logger);
    reconciler = std::make_unique<Reconciler>(
        ReconcilerDeps{clock, logger, *arm, desired, live, journal, status, cluster_lock, prune},
        ReconcilerOptions{});
  }

  // Reconciles `key` as the work queue would (requeue delays and Retry-After on the clock)
  // until it is done, at most `max_passes` times. Returns the passes made.
  int Drive(const std::string& key, int max_passes, ReconcileResult* last) {
    for (int pass = 1; pass <= max_passes; ++pass) {
      *last = reconciler->Reconcile(key);
      if (last->outcome == ReconcileResult::kDone ||
          last->outcome == ReconcileResult::kTerminalError) {
        return pass;
      }
      clock.Advance(std::max(last->requeue_after, absl::Milliseconds(500)));
    }
    return max_passes;
  }

  std::string Phase(const std::string& key) const {
    std::optional<ConnectionStatus> s = status.Get(key);
    return s ? s->phase : "<none>";
  }

  FakeClock clock;
  Logger logger;
  MiniArm server;
  StaticTokenSource tokens;
  std::unique_ptr<ArmClientImpl> arm;
  DesiredStore desired;
  LiveCache live;
  OwnershipJournal journal;
  StatusStore status;
  ClusterLock cluster_lock;
  PruneGuard prune;
  std::unique_ptr<Reconciler> reconciler;
};

// The livelock of the issue 6 bench: reads of one token per second (the client's bucket). The
// first poll's status GET takes the token, the read-back finds none; that used to fail the
// poll, keep the operation (and the cluster lock) and repeat at every pass.
TEST(ReconcilerThrottleTest, CompletedWriteStaysDoneWhenItsReadBackIsThrottled) {
  RateLimitOptions limits;
  limits.reads = {1, 1};
  ThrottleHarness h(limits);
  DataConnectionSpec a = MakeSpec("a");
  h.desired.ApplyFile("m.yaml", {a});
  ReconcileResult last;
  int passes = h.Drive(a.id.Key(), 10, &last);
  EXPECT_EQ(last.outcome, ReconcileResult::kDone) << last.error;
  EXPECT_LE(passes, 3);
  EXPECT_EQ(h.Phase(a.id.Key()), kPhaseReady);
  EXPECT_EQ(h.server.Count("PUT"), 1);  // the write is never redone
  EXPECT_EQ(h.server.Count("GET operation"), 1);
  EXPECT_EQ(h.cluster_lock.HeldCount(), 0u);
  EXPECT_TRUE(h.reconciler->PendingOperations().empty());
  EXPECT_EQ(h.server.Count("429"), 0);  // the client's bucket kept us under the limit
}

// The same with ARM throttling and the client's buckets off (--arm-rate-limits off): the 429
// on the read-back ends the poll as done; its Retry-After pauses every read, so the next read
// goes out only when ARM asked.
TEST(ReconcilerThrottleTest, ArmThrottledReadBackIsReadLaterAfterRetryAfter) {
  RateLimitOptions limits;
  limits.enabled = false;
  ThrottleHarness h(limits);
  h.server.ThrottleReads(/*burst=*/1, /*per_second=*/1, /*retry_after_s=*/1);
  DataConnectionSpec a = MakeSpec("a");
  h.desired.ApplyFile("m.yaml", {a});
  ReconcileResult last;
  h.Drive(a.id.Key(), 10, &last);
  EXPECT_EQ(last.outcome, ReconcileResult::kDone) << last.error;
  EXPECT_EQ(h.Phase(a.id.Key()), kPhaseReady);
  EXPECT_EQ(h.server.Count("PUT"), 1);
  EXPECT_EQ(h.cluster_lock.HeldCount(), 0u);
  // One 429 (the read-back); every later read waited for its Retry-After.
  EXPECT_EQ(h.server.Count("429"), 1);
}

// The first poll of an operation waits what the write's Retry-After said (0: at once), and only
// without one the reconciler's initial_poll_delay.
TEST(ReconcilerThrottleTest, FirstPollFollowsTheWritesRetryAfter) {
  ThrottleHarness h(RateLimitOptions{});
  DataConnectionSpec a = MakeSpec("a");
  DataConnectionSpec b = MakeSpec("b", "c2");
  h.desired.ApplyFile("m.yaml", {a, b});
  h.server.SetWriteRetryAfter(0);
  ReconcileResult r = h.reconciler->Reconcile(a.id.Key());
  ASSERT_EQ(r.outcome, ReconcileResult::kRequeueAfter) << r.error;
  EXPECT_EQ(r.requeue_after, absl::ZeroDuration());
  EXPECT_EQ(h.reconciler->Reconcile(a.id.Key()).outcome, ReconcileResult::kDone);
  h.server.SetWriteRetryAfter(-1);
  r = h.reconciler->Reconcile(b.id.Key());
  ASSERT_EQ(r.outcome, ReconcileResult::kRequeueAfter) << r.error;
  EXPECT_EQ(r.requeue_after, absl::Seconds(1));
}

// Many keys on one cluster under a tight read budget all converge with one PUT each.
TEST(ReconcilerThrottleTest, ManyKeysOnOneClusterConvergeUnderThrottling) {
  RateLimitOptions limits;
  limits.reads = {2, 2};
  ThrottleHarness h(limits);
  std::vector<DataConnectionSpec> specs;
  for (int i = 0; i < 6; ++i) {
    specs.push_back(MakeSpec(absl::StrCat("k", i)));
  }
  h.desired.ApplyFile("m.yaml", specs);
  // Round-robin passes over every key not done yet, as workers would.
  std::map<std::string, absl::Time> due;
  for (const DataConnectionSpec& s : specs) {
    due[s.id.Key()] = h.clock.Now();
  }
  for (int round = 0; round < 200 && !due.empty(); ++round) {
    auto next = std::min_element(due.begin(), due.end(),
                                 [](const auto& x, const auto& y) { return x.second < y.second; });
    if (next->second > h.clock.Now()) {
      h.clock.Advance(next->second - h.clock.Now());
    }
    std::string key = next->first;
    ReconcileResult r = h.reconciler->Reconcile(key);
    ASSERT_NE(r.outcome, ReconcileResult::kTerminalError) << r.error;
    if (r.outcome == ReconcileResult::kDone) {
      due.erase(key);
    } else {
      due[key] = h.clock.Now() + std::max(r.requeue_after, absl::Milliseconds(100));
    }
  }
  EXPECT_TRUE(due.empty()) << due.size() << " keys never converged";
  EXPECT_EQ(h.server.Count("PUT"), 6);
  EXPECT_EQ(h.cluster_lock.HeldCount(), 0u);
  for (const DataConnectionSpec& s : specs) {
    EXPECT_EQ(h.Phase(s.id.Key()), kPhaseReady) << s.id.name;
  }
}

bool HasReason(const std::optional<ConnectionStatus>& s, const std::string& reason) {
  if (!s) {
    return false;
  }
  for (const Condition& c : s->conditions) {
    if (c.reason == reason) {
      return true;
    }
  }
  return false;
}

// A poll the client's read bucket holds back was never sent: the pass requeues for the token's
// wait, and the operation's status stays as it was (no PollFailed, no error, no rewrite with a
// new duration at every attempt; the fault soak saw 179 such "failures" in 12 s).
TEST(ReconcilerThrottleTest, PollHeldBackByTheReadBucketIsAWaitNotAFailure) {
  RateLimitOptions limits;
  limits.reads = {1, 0.5};  // one read every 2 s
  ThrottleHarness h(limits);
  DataConnectionSpec a = MakeSpec("a");
  h.desired.ApplyFile("m.yaml", {a});
  ReconcileResult r = h.reconciler->Reconcile(a.id.Key());  // LIST (the token), PUT
  ASSERT_EQ(r.outcome, ReconcileResult::kRequeueAfter) << r.error;
  ASSERT_EQ(r.requeue_after, absl::Seconds(1));
  const std::optional<ConnectionStatus> before = h.status.Get(a.id.Key());
  h.clock.Advance(absl::Seconds(1));
  r = h.reconciler->Reconcile(a.id.Key());  // half a token: the poll waits 1 s more
  EXPECT_EQ(r.outcome, ReconcileResult::kRequeueAfter) << r.error;
  EXPECT_EQ(r.requeue_after, absl::Seconds(1));
  EXPECT_EQ(h.server.Count("GET operation"), 0);
  std::optional<ConnectionStatus> now = h.status.Get(a.id.Key());
  ASSERT_TRUE(now.has_value());
  EXPECT_EQ(now->phase, kPhaseCreating);
  EXPECT_FALSE(HasReason(now, "PollFailed"));
  EXPECT_EQ(now->last_error, "");
  EXPECT_EQ(now->conditions.size(), before->conditions.size());
  EXPECT_EQ(h.cluster_lock.HeldCount(), 1u);  // the operation still runs and holds it
  ReconcileResult last;
  h.Drive(a.id.Key(), 10, &last);
  EXPECT_EQ(last.outcome, ReconcileResult::kDone) << last.error;
  EXPECT_EQ(h.server.Count("PUT"), 1);
  EXPECT_EQ(h.Phase(a.id.Key()), kPhaseReady);
}

// A write the client's write bucket holds back: Pending/Throttled (not Error), no error to
// retry with backoff, the cluster lock free for others meanwhile, and the PUT goes out after
// the wait.
TEST(ReconcilerThrottleTest, WriteHeldBackByTheWriteBucketWaitsWithoutFailing) {
  RateLimitOptions limits;
  limits.writes = {1, 0.1};  // one write every 10 s
  ThrottleHarness h(limits);
  DataConnectionSpec a = MakeSpec("a");
  h.desired.ApplyFile("m.yaml", {a});
  ReconcileResult last;
  h.Drive(a.id.Key(), 10, &last);
  ASSERT_EQ(last.outcome, ReconcileResult::kDone) << last.error;
  a.properties["tableName"] = "Other";
  h.desired.ApplyFile("m.yaml", {a});
  ReconcileResult r = h.reconciler->Reconcile(a.id.Key());
  EXPECT_EQ(r.outcome, ReconcileResult::kRequeueAfter) << r.error;
  EXPECT_GT(r.requeue_after, absl::Seconds(2));  // beyond the inline budget
  EXPECT_LE(r.requeue_after, absl::Seconds(10));
  EXPECT_EQ(h.server.Count("PUT"), 1);
  std::optional<ConnectionStatus> s = h.status.Get(a.id.Key());
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->phase, kPhasePending);
  EXPECT_TRUE(HasReason(s, "Throttled"));
  EXPECT_EQ(s->last_error, "");
  EXPECT_EQ(h.cluster_lock.HeldCount(), 0u);
  h.clock.Advance(r.requeue_after);
  r = h.reconciler->Reconcile(a.id.Key());
  EXPECT_EQ(r.outcome, ReconcileResult::kRequeueAfter) << r.error;
  EXPECT_EQ(h.server.Count("PUT"), 2);
  h.Drive(a.id.Key(), 10, &last);
  EXPECT_EQ(last.outcome, ReconcileResult::kDone) << last.error;
  EXPECT_EQ(h.Phase(a.id.Key()), kPhaseReady);
}

}  // namespace
}  // namespace kustodian
