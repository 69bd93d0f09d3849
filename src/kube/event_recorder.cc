// EventRecorder: a bounded queue drained by one writer thread. The first occurrence of an
// (object, type, reason, note) creates an events.k8s.io/v1 Event; repeats within 10 minutes
// merge-patch its series {count, lastObservedTime}; an event that vanished is created anew.
#include "src/kube/event_recorder.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/kube/kube_time.h"

namespace kustodian::kube {
namespace {

constexpr absl::Duration kSeriesWindow = absl::Minutes(10);
constexpr size_t kMaxNote = 1024;
constexpr size_t kMaxSeen = 4096;

// Cuts `note` to at most kMaxNote bytes without splitting a UTF-8 sequence.
std::string TruncateNote(const std::string& note) {
  if (note.size() <= kMaxNote) {
    return note;
  }
  size_t end = kMaxNote;
  while (end > 0 && (static_cast<unsigned char>(note[end]) & 0xC0) == 0x80) {
    --end;
  }
  return note.substr(0, end);
}

std::string HostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') {
    return "kustodian";
  }
  return name;
}

std::string MetaField(const nlohmann::json& object, const char* field) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) {
    return "";
  }
  auto it = meta->find(field);
  return it != meta->end() && it->is_string() ? it->get<std::string>() : "";
}

nlohmann::json Reference(const nlohmann::json& object) {
  nlohmann::json ref = nlohmann::json::object();
  if (auto it = object.find("apiVersion"); it != object.end() && it->is_string()) {
    ref["apiVersion"] = *it;
  }
  if (auto it = object.find("kind"); it != object.end() && it->is_string()) {
    ref["kind"] = *it;
  }
  for (const char* field : {"name", "namespace", "uid", "resourceVersion"}) {
    if (std::string value = MetaField(object, field); !value.empty()) {
      ref[field] = value;
    }
  }
  return ref;
}

}  // namespace

EventRecorder::EventRecorder(KubeClient& client, Clock& clock, Logger& logger,
                             EventRecorderOptions options)
    : client_(client), clock_(clock), logger_(logger), options_([&] {
        if (options.reporting_instance.empty()) {
          options.reporting_instance = HostName();
        }
        return options;
      }()) {
  thread_ = std::thread([this] { Run(); });
}

EventRecorder::~EventRecorder() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void EventRecorder::Record(const nlohmann::json& regarding, const std::string& type,
                           const std::string& reason, const std::string& action,
                           const std::string& note) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stop_) {
    return;
  }
  if (queue_.size() >= options_.max_queue && !queue_.empty()) {
    queue_.pop_front();
    ++done_;
    logger_.Warn("event queue full; dropped the oldest event");
  }
  queue_.push_back(Pending{regarding, type, reason, action, note, clock_.Now()});
  ++enqueued_;
  cv_.notify_all();
}

void EventRecorder::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  const int64_t target = enqueued_;
  cv_.wait(lock, [&] { return done_ >= target || thread_.get_id() == std::thread::id(); });
}

void EventRecorder::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) {
      return;  // stopping and drained
    }
    Pending event = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    Write(event);
    lock.lock();
    ++done_;
    cv_.notify_all();
  }
}

void EventRecorder::Write(const Pending& event) {
  const std::string object_name = MetaField(event.regarding, "name");
  std::string ns = MetaField(event.regarding, "namespace");
  if (ns.empty()) {
    ns = "default";  // events about cluster-scoped objects
  }
  const std::string note = TruncateNote(event.note);
  const std::string key =
      absl::StrCat(MetaField(event.regarding, "uid"), "\x1f", ns, "\x1f", object_name, "\x1f",
                   event.type, "\x1f", event.reason, "\x1f", note);
  const std::string when = FormatMicroTime(event.at);

  if (auto it = seen_.find(key); it != seen_.end() && event.at - it->second.last < kSeriesWindow) {
    Seen& seen = it->second;
    nlohmann::json patch = {{"series", {{"count", seen.count + 1}, {"lastObservedTime", when}}}};
    absl::StatusOr<nlohmann::json> patched =
        client_.Patch(EventGvr(), ns, seen.event_name, PatchType::kMerge, patch.dump());
    if (patched.ok()) {
      ++seen.count;
      seen.last = event.at;
      return;
    }
    if (!kube::IsNotFound(patched.status())) {
      logger_.Warn("cannot update event series; dropped",
                   {{"event", absl::StrCat(ns, "/", seen.event_name)},
                    {"reason", event.reason},
                    {"error", std::string(patched.status().message())}});
      return;
    }
    seen_.erase(it);  // the event expired or was deleted: start a new one
  }

  if (seen_.size() >= kMaxSeen) {
    for (auto it = seen_.begin(); it != seen_.end();) {
      it = event.at - it->second.last >= kSeriesWindow ? seen_.erase(it) : std::next(it);
    }
    if (seen_.size() >= kMaxSeen) {
      seen_.clear();
    }
  }
  nlohmann::json object = {
      {"apiVersion", "events.k8s.io/v1"},
      {"kind", "Event"},
      {"metadata", {{"namespace", ns}}},
      {"eventTime", when},
      {"reportingController", options_.reporting_controller},
      {"reportingInstance", options_.reporting_instance},
      {"action", event.action},
      {"reason", event.reason},
      {"regarding", Reference(event.regarding)},
      {"note", note},
      {"type", event.type},
  };
  for (int attempt = 0; attempt < 2; ++attempt) {
    const std::string name =
        absl::StrFormat("%s.%x", object_name.empty() ? "object" : object_name.substr(0, 200),
                        static_cast<uint64_t>(absl::ToUnixNanos(clock_.Now())) + attempt);
    object["metadata"]["name"] = name;
    absl::StatusOr<nlohmann::json> created = client_.Create(EventGvr(), ns, object);
    if (created.ok()) {
      seen_[key] = Seen{name, 1, event.at};
      return;
    }
    if (!kube::IsAlreadyExists(created.status()) || attempt == 1) {
      logger_.Warn("cannot create event; dropped",
                   {{"regarding", absl::StrCat(ns, "/", object_name)},
                    {"reason", event.reason},
                    {"error", std::string(created.status().message())}});
      return;
    }
  }
}

}  // namespace kustodian::kube
