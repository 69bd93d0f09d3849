#include "tests/fakes/scripted_transport.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kustodian {

ScriptedTransport::Matcher ScriptedTransport::MethodAndUrl(std::string method, std::string url) {
  return [method = std::move(method), url = std::move(url)](const HttpRequest& request) {
    if (!method.empty() && request.method != method) {
      return false;
    }
    if (url.empty()) {
      return true;
    }
    if (url.back() == '*') {
      return absl::StartsWith(request.url, absl::string_view(url).substr(0, url.size() - 1));
    }
    return request.url == url;
  };
}

ScriptedTransport& ScriptedTransport::Expect(std::string method, std::string url,
                                             HttpResponse response) {
  std::string description = absl::StrCat(method, " ", url);
  return ExpectMatching(std::move(description), MethodAndUrl(std::move(method), std::move(url)),
                        std::move(response));
}

ScriptedTransport& ScriptedTransport::ExpectError(std::string method, std::string url,
                                                  absl::Status error) {
  std::string description = absl::StrCat(method, " ", url, " (-> ", error.ToString(), ")");
  return ExpectMatching(std::move(description), MethodAndUrl(std::move(method), std::move(url)),
                        std::move(error));
}

ScriptedTransport& ScriptedTransport::ExpectMatching(std::string description, Matcher matcher,
                                                     absl::StatusOr<HttpResponse> result) {
  std::lock_guard<std::mutex> lock(mu_);
  steps_.push_back(Step{std::move(description), std::move(matcher), std::move(result)});
  return *this;
}

void ScriptedTransport::SetOnSend(std::function<void(const HttpRequest&)> on_send) {
  std::lock_guard<std::mutex> lock(mu_);
  on_send_ = std::move(on_send);
}

absl::StatusOr<HttpResponse> ScriptedTransport::Send(const HttpRequest& request) {
  std::function<void(const HttpRequest&)> on_send;
  absl::StatusOr<HttpResponse> result;
  {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(request);
    on_send = on_send_;
    if (steps_.empty()) {
      failures_.push_back(absl::StrCat(
          "unexpected request after the script ended: ", request.method, " ", request.url));
      return absl::InternalError(failures_.back());
    }
    Step step = std::move(steps_.front());
    steps_.pop_front();
    if (!step.matcher(request)) {
      failures_.push_back(absl::StrCat("request ", requests_.size(), " was ", request.method, " ",
                                       request.url, " but the script expected ", step.description));
      return absl::InternalError(failures_.back());
    }
    result = std::move(step.result);
  }
  if (on_send) {
    on_send(request);
  }
  return result;
}

std::vector<HttpRequest> ScriptedTransport::Requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

size_t ScriptedTransport::RequestCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_.size();
}

HttpRequest ScriptedTransport::Request(size_t i) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (i >= requests_.size()) {
    ADD_FAILURE() << "ScriptedTransport: request " << i << " asked for, only " << requests_.size()
                  << " received";
    return {};
  }
  return requests_[i];
}

size_t ScriptedTransport::Pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return steps_.size();
}

testing::AssertionResult ScriptedTransport::Verify() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> problems = failures_;
  for (const Step& step : steps_) {
    problems.push_back(absl::StrCat("expected request never came: ", step.description));
  }
  if (problems.empty()) {
    return testing::AssertionSuccess();
  }
  return testing::AssertionFailure() << absl::StrJoin(problems, "\n");
}

HttpResponse ScriptedTransport::Json(int status, const nlohmann::json& body, HttpHeaders headers) {
  HttpResponse response;
  response.status = status;
  response.headers = std::move(headers);
  response.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
  response.body = body.dump();
  return response;
}

HttpResponse ScriptedTransport::Empty(int status, HttpHeaders headers) {
  HttpResponse response;
  response.status = status;
  response.headers = std::move(headers);
  return response;
}

}  // namespace kustodian
