// The Manager's HTTP endpoint: /metrics, /healthz, /readyz, /status and /status/{key}.
#include <map>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "controller/manager.h"
#include "src/core/arm_id.h"
#include "src/core/strings.h"

namespace kustodian {
namespace {

ServerResponse Text(int code, std::string body) {
  ServerResponse r;
  r.status = code;
  r.body = std::move(body);
  r.content_type = "text/plain; charset=utf-8";
  return r;
}

ServerResponse Json(int code, const nlohmann::json& body) {
  ServerResponse r;
  r.status = code;
  r.body = body.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return r;
}

// The key named by a /status/{key} request: the ARM id as a raw path
// (/status/subscriptions/...), or percent-encoded (/status/%2Fsubscriptions%2F...), any casing.
std::string KeyFromRequest(const ServerRequest& request) {
  std::string target = request.raw_target.empty() ? request.path : request.raw_target;
  target = target.substr(0, target.find('?'));
  std::string rest = PercentDecode(target.substr(std::string_view("/status/").size()));
  while (!rest.empty() && rest.back() == '/') {
    rest.pop_back();
  }
  if (!absl::StartsWith(rest, "/")) {
    rest.insert(0, "/");
  }
  absl::StatusOr<DataConnectionId> id = DataConnectionId::Parse(rest);
  return id.ok() ? id->Key() : AsciiLower(rest);
}

}  // namespace

void Manager::UpdateGauges() {
  // From the status store's running (kind, state) counts: O(kinds x states) per scrape, not a
  // copy of every status.
  std::map<std::pair<std::string, std::string>, int> counts;
  if (status_ != nullptr) {
    counts = status_->KindStateCounts();
  }
  for (const std::string& kind : MetricConnectionKinds()) {
    for (const char* state : {kStateReady, kStateReconciling, kStateStalled}) {
      auto it = counts.find({kind, state});
      deps_.metrics.managed_connections.WithLabels({kind, state})
          .Set(it == counts.end() ? 0 : it->second);
      if (it != counts.end()) {
        counts.erase(it);
      }
    }
  }
  for (const auto& [kind_state, n] : counts) {  // kinds the metrics module does not know
    if (!kind_state.first.empty()) {
      deps_.metrics.managed_connections.WithLabels({kind_state.first, kind_state.second}).Set(n);
    }
  }
  deps_.metrics.pending_deletes.Set(static_cast<double>(prune_guard_.Held().size()));
  if (queue_ != nullptr) {
    queue_->Tick();
  }
}

ServerResponse Manager::HandleMetrics(const ServerRequest& /*request*/) {
  UpdateGauges();
  ServerResponse r = Text(200, deps_.registry.Serialize());
  r.content_type = kPrometheusContentType;
  return r;
}

ServerResponse Manager::HandleHealthz(const ServerRequest& /*request*/) const {
  return Text(200, "ok\n");
}

ServerResponse Manager::HandleReadyz(const ServerRequest& /*request*/) const {
  if (Ready()) {
    return Text(200, "ok\n");
  }
  std::vector<std::string> waiting;
  if (kube_) {
    if (!kube_->Synced()) {
      waiting.push_back("the first LIST of DataConnections");
    }
  } else if (!first_pass_done_) {
    waiting.push_back("the first pass over --config-dir");
  }
  if (resync_ != nullptr) {
    for (const std::string& db : resync_->Unlisted()) {
      waiting.push_back(absl::StrCat("the first LIST of ", db));
    }
  }
  return Text(503, absl::StrCat("not ready; waiting for: ", absl::StrJoin(waiting, ", "), "\n"));
}

ServerResponse Manager::HandleStatus(const ServerRequest& request) const {
  if (status_ == nullptr) {
    return Json(503, {{"error", "starting"}});
  }
  if (absl::StartsWith(request.path, "/status/") && request.path != "/status/") {
    std::string key = KeyFromRequest(request);
    std::optional<ConnectionStatus> s = status_->Get(key);
    if (!s) {
      return Json(404, {{"error", "NotFound"},
                        {"message", absl::StrCat("no connection with key ", key,
                                                 "; GET /status lists every key")},
                        {"key", key}});
    }
    return Json(200, s->ToJson());
  }
  if (request.path != "/status" && request.path != "/status/") {
    return Json(404, {{"error", "NotFound"}, {"message", "no such path"}});
  }
  nlohmann::json connections = nlohmann::json::array();
  for (const ConnectionStatus& s : status_->All()) {
    connections.push_back(s.ToJson());
  }
  nlohmann::json summary = status_->SummaryJson();
  nlohmann::json body = {
      {"ready", Ready()},
      {"summary",
       {{"connections", summary.value("connections", 0)},
        {"phases", summary.value("phases", nlohmann::json::object())},
        {"desired", desired_.size()},
        {"managed", journal_ != nullptr ? journal_->size() : 0},
        {"pendingDeletes", prune_guard_.Held()},
        {"filesWithErrors", summary.value("fileErrors", nlohmann::json::object()).size()}}},
      {"connections", connections},
      {"fileErrors", summary.value("fileErrors", nlohmann::json::object())},
  };
  return Json(200, body);
}

}  // namespace kustodian
