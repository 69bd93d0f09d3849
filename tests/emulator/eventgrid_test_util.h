// Helpers for the Event Grid delivery tests: an in-process webhook receiver (HttpServer on
// 127.0.0.1) that records every call and can refuse validation or fail deliveries, and a fixture
// with an Emulator whose retry schedule is scaled down a thousand times.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "tests/emulator/emulator_test_util.h"

namespace kustodian::emulator::testing {

struct ReceivedCall {
  std::string method;
  std::string target;
  HttpHeaders headers;
  std::string body;
  std::string Header(std::string_view name) const { return GetHeader(headers, name).value_or(""); }
  bool IsNotification() const {
    return method == "POST" && Header("aeg-event-type") == "Notification";
  }
  bool IsValidation() const {
    return method == "OPTIONS" || Header("aeg-event-type") == "SubscriptionValidation";
  }
};

class Receiver {
 public:
  Receiver() {
    server_.Route("*", "/", [this](const ServerRequest& r) { return Handle(r); });
    absl::StatusOr<int> port = server_.Start("127.0.0.1", 0);
    EXPECT_TRUE(port.ok()) << port.status();
    port_ = port.value_or(0);
  }
  ~Receiver() {
    Release();
    server_.Stop();
  }

  std::string Url(const std::string& path_and_query = "/eventgrid?code=s3cret") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path_and_query;
  }

  // Knobs (set before the calls they affect).
  std::atomic<bool> answer_validation{true};  // false: 200 {} to the validation event / no origin
  std::atomic<int> fail_notifications{0};     // the next N notifications get `fail_status`
  std::atomic<int> fail_status{500};
  std::atomic<bool> block{false};  // notifications wait until Release()

  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    block = false;
    cv_.notify_all();
  }

  std::vector<ReceivedCall> Calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  std::vector<ReceivedCall> Notifications() const {
    std::vector<ReceivedCall> out;
    for (const ReceivedCall& c : Calls()) {
      if (c.IsNotification()) {
        out.push_back(c);
      }
    }
    return out;
  }
  // The events of every notification, in arrival order (arrays flattened, single CloudEvents
  // taken as is).
  std::vector<nlohmann::json> Events() const {
    std::vector<nlohmann::json> out;
    for (const ReceivedCall& c : Notifications()) {
      nlohmann::json body = nlohmann::json::parse(c.body);
      if (body.is_array()) {
        for (auto& e : body) {
          out.push_back(e);
        }
      } else {
        out.push_back(body);
      }
    }
    return out;
  }

 private:
  ServerResponse Handle(const ServerRequest& request) {
    ReceivedCall call{request.method, request.raw_target, request.headers, request.body};
    {
      std::unique_lock<std::mutex> lock(mu_);
      calls_.push_back(call);
      if (call.IsNotification()) {
        cv_.wait(lock, [this] { return !block.load(); });
      }
    }
    ServerResponse response;
    if (request.method == "OPTIONS") {
      if (answer_validation) {
        response.headers.emplace_back("WebHook-Allowed-Origin", "eventgrid.azure.net");
      }
      response.body = "";
      return response;
    }
    if (call.IsValidation()) {
      nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
      if (answer_validation && body.is_array() && !body.empty()) {
        response.body =
            nlohmann::json{{"validationResponse", body[0]["data"]["validationCode"]}}.dump();
      } else {
        response.body = "{}";
      }
      return response;
    }
    if (fail_notifications.fetch_sub(1) > 0) {
      response.status = fail_status;
      response.body = "{}";
      return response;
    }
    response.body = "";
    return response;
  }

  HttpServer server_;
  int port_ = 0;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ReceivedCall> calls_;  // guarded by mu_
};

// Polls `done` every 2 ms until it holds or `timeout` passes.
template <typename F>
bool WaitUntil(F done, absl::Duration timeout = absl::Seconds(10)) {
  absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) {
      return false;
    }
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

class EventGridTest : public EmulatorTest {
 protected:
  void SetUp() override { Start(EventGridOptionsForTest()); }
  void TearDown() override { emulator_.reset(); }

  static EmulatorOptions EventGridOptionsForTest() {
    EmulatorOptions options = TestOptions();
    options.eventgrid.retry_scale = 0.001;  // 10 ms, 30 ms, 60 ms, 300 ms, ...
    options.eventgrid.batch_window = absl::Milliseconds(10);
    return options;
  }

  ServerResponse Admin(const std::string& method, const std::string& target,
                       const std::string& body = "", const std::string& correlation = "") {
    ServerRequest request = MakeRequest(method, "/_admin" + target, body, false);
    if (!correlation.empty()) {
      request.headers.emplace_back("x-ms-correlation-request-id", correlation);
    }
    return Call(request);
  }

  // Registers subscription `name` with `extra` keys on top of the endpoint; expects 200.
  void Subscribe(const std::string& name, nlohmann::json extra = nlohmann::json::object()) {
    nlohmann::json body = {{"endpoint", receiver_.Url()}};
    body.update(extra);
    ServerResponse r = Admin("PUT", "/eventgrid/subscriptions/" + name, body.dump());
    ASSERT_EQ(r.status, 200) << r.body;
  }

  nlohmann::json SubState(const std::string& name) {
    return BodyJson(Admin("GET", "/eventgrid/subscriptions/" + name));
  }

  bool WaitValidated(const std::string& name) {
    return WaitUntil([&] { return SubState(name).value("validated", false); });
  }

  nlohmann::json Counters() { return BodyJson(Admin("GET", "/stats"))["eventGrid"]; }

  // An out-of-band create of connection `name` in mydb.
  void AdminCreate(const std::string& name, const std::string& correlation = "") {
    nlohmann::json body = {
        {"kind", "EventHub"},
        {"properties", {{"eventHubResourceId", kEventHubId}, {"consumerGroup", name}}}};
    ServerResponse r = Admin("PUT", "/connections" + std::string(kDb) + "/dataConnections/" + name,
                             body.dump(), correlation);
    ASSERT_EQ(r.status, 200) << r.body;
  }

  Receiver receiver_;
};

}  // namespace kustodian::emulator::testing
