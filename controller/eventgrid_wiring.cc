// The Manager's Event Grid parts (declared in manager.h): the recording ArmClient that lets the
// webhook recognise the daemon's own writes, and the webhook wired to the stores, the reconciler,
// the work queue and the resync loop.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "controller/manager.h"

namespace kustodian {

ArmClient& Manager::PrepareEventGrid() {
  if (!options_.eventgrid.enabled()) {
    return deps_.arm;
  }
  if (!recording_arm_) {
    own_writes_ = std::make_unique<OwnWrites>(deps_.clock);
    recording_arm_ = std::make_unique<OwnWriteRecordingArmClient>(deps_.arm, *own_writes_);
  }
  return *recording_arm_;
}

absl::Status Manager::StartEventGrid() {
  if (!options_.eventgrid.enabled()) {
    return absl::OkStatus();
  }
  PrepareEventGrid();
  Reconciler* reconciler = reconciler_.get();
  WorkQueue* queue = queue_.get();
  ResyncLoop* resync = resync_.get();
  DesiredStore* desired = &desired_;
  OwnershipJournal* journal = journal_.get();
  EventGridReceiverDeps deps{deps_.clock, deps_.logger, &deps_.metrics, *own_writes_};
  deps.is_managed = [desired, journal](const std::string& key) {
    return desired->Contains(key) || journal->Contains(key);
  };
  deps.reconcile = [reconciler, queue](const std::string& key) {
    reconciler->RequestConfirm(key);
    queue->Add(key);
  };
  deps.manages_scope = [desired, journal](const std::string& scope) {
    const std::string under = absl::StrCat(scope, "/");
    for (const DatabaseId& db : desired->Databases()) {
      const std::string key = db.Key();
      if (key == scope || absl::StartsWith(key, under)) {
        return true;
      }
    }
    for (const auto& [key, record] : journal->All()) {
      if (absl::StartsWith(key, under)) {
        return true;
      }
    }
    return false;
  };
  deps.relist = [resync](const std::string& scope) { resync->ListSoon(scope); };
  eventgrid_ = std::make_unique<EventGridReceiver>(options_.eventgrid, std::move(deps));
  return eventgrid_->Start();
}

}  // namespace kustodian
