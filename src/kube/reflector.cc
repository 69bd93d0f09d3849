// Reflector loop: list (OnReplace), then watch from the list's resourceVersion; bookmarks and
// events move the version forward. 410 Gone -> relist; a broken watch -> re-watch from the last
// version after a backoff (reset once a watch delivered events or ended cleanly).
#include "src/kube/reflector.h"

#include "absl/strings/str_cat.h"
#include "src/kube/backoff.h"

namespace kustodian::kube {

Reflector::Reflector(KubeClient& client, Clock& clock, Logger& logger, ReflectorOptions options,
                     ReflectorHandler handler)
    : client_(client),
      clock_(clock),
      logger_(logger),
      options_(std::move(options)),
      handler_(std::move(handler)) {}

Reflector::~Reflector() { Stop(); }

void Reflector::Start() {
  if (thread_.joinable()) {
    return;
  }
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void Reflector::Stop() {
  stop_ = true;
  if (thread_.joinable()) {
    thread_.join();
  }
}

std::string Reflector::LastResourceVersion() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_rv_;
}

void Reflector::Run() {
  const std::string what =
      absl::StrCat(options_.gvr.resource, options_.ns.empty() ? "" : " in ", options_.ns);
  Backoff backoff(options_.min_backoff, options_.max_backoff);
  bool need_list = true;
  while (!stop_.load()) {
    if (need_list) {
      ListOptions list_options;
      list_options.label_selector = options_.label_selector;
      list_options.limit = 500;
      absl::StatusOr<ObjectList> list = client_.List(options_.gvr, options_.ns, list_options);
      if (stop_.load()) {
        break;
      }
      if (!list.ok()) {
        absl::Duration wait = backoff.Next();
        logger_.Warn("list failed; retrying", {{"resource", what},
                                               {"error", std::string(list.status().message())},
                                               {"retry_in", absl::FormatDuration(wait)}});
        SleepUnlessStopped(clock_, stop_, wait);
        continue;
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        last_rv_ = list->resource_version;
      }
      ++lists_;
      if (handler_.on_replace) {
        handler_.on_replace(list->items);
      }
      synced_ = true;
      need_list = false;
    }

    WatchOptions watch_options;
    watch_options.resource_version = LastResourceVersion();
    watch_options.allow_bookmarks = true;
    watch_options.label_selector = options_.label_selector;
    watch_options.timeout = options_.watch_timeout;
    int64_t events = 0;
    ++watches_;
    absl::Status status = client_.Watch(
        options_.gvr, options_.ns, watch_options,
        [&](const WatchEvent& event) {
          ++events;
          std::string rv = ResourceVersionOf(event.object);
          if (!rv.empty()) {
            std::lock_guard<std::mutex> lock(mu_);
            last_rv_ = rv;
          }
          switch (event.type) {
            case WatchEvent::Type::kAdded:
            case WatchEvent::Type::kModified:
              if (handler_.on_upsert) {
                handler_.on_upsert(event.object);
              }
              break;
            case WatchEvent::Type::kDeleted:
              if (handler_.on_delete) {
                handler_.on_delete(event.object);
              }
              break;
            case WatchEvent::Type::kBookmark:
              break;
          }
          return !stop_.load();
        },
        &stop_);
    if (stop_.load()) {
      break;
    }
    if (status.ok()) {
      backoff.Reset();  // the server ended the watch (timeoutSeconds): re-watch at once
      continue;
    }
    if (events > 0) {
      backoff.Reset();  // it was healthy for a while: reconnect quickly
    }
    if (IsGone(status)) {
      logger_.Info("watch version too old (410 Gone); relisting", {{"resource", what}});
      need_list = true;
      if (events == 0 && lists_.load() > 1) {
        SleepUnlessStopped(clock_, stop_, backoff.Next());  // 410 again right after a relist
      }
      continue;
    }
    absl::Duration wait = backoff.Next();
    logger_.Warn("watch broke; re-watching from the last version",
                 {{"resource", what},
                  {"resource_version", LastResourceVersion()},
                  {"error", std::string(status.message())},
                  {"retry_in", absl::FormatDuration(wait)}});
    SleepUnlessStopped(clock_, stop_, wait);
  }
}

}  // namespace kustodian::kube
