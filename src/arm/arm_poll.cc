// ArmClientImpl::Poll: one look at a long-running operation, following ARM's algorithm
// (Azure-AsyncOperation, else Location, else the resource's provisioningState). Never sleeps.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "src/arm/arm_client_impl.h"
#include "src/arm/arm_response.h"
#include "src/arm/error_mapping.h"
#include "src/core/arm_id.h"
#include "src/core/status.h"
#include "src/core/strings.h"

namespace kustodian {
namespace {

PollResult NotDone(const ArmOperation& op, const HttpResponse& response) {
  PollResult result;
  result.done = false;
  result.retry_after = ParseRetryAfter(response.headers).value_or(PollBackoff(op.polls));
  return result;
}

PollResult Done(absl::Status outcome = absl::OkStatus()) {
  PollResult result;
  result.done = true;
  result.outcome = std::move(outcome);
  return result;
}

// The operation succeeded: its outcome stands whatever happens next. The resource is read back
// once for the caller's cache; when that read fails (most often the read bucket is empty, or a
// 429), the result is still "done" without a resource, and the caller reads it later. Failing
// the poll instead would keep the operation pending, and each later poll would spend a read on
// the status monitor before the final GET failed again: a livelock under throttling.
void ReadBack(PollResult& result, absl::StatusOr<LiveConnection> resource) {
  if (resource.ok()) {
    result.resource = *std::move(resource);
  }
}

std::string OperationName(const ArmOperation& op) {
  return absl::StrCat("ARM ", Av(ArmVerbName(op.verb)), " of ", op.id.RequestPath());
}

}  // namespace

absl::StatusOr<PollResult> ArmClientImpl::Poll(const ArmOperation& op) {
  absl::Duration budget = absl::ZeroDuration();  // Poll never waits
  if (!op.async_url.empty()) {
    return PollAsyncOperation(op, &budget);
  }
  if (!op.location_url.empty()) {
    return PollLocation(op, &budget);
  }
  return PollResource(op, &budget);
}

absl::StatusOr<PollResult> ArmClientImpl::PollAsyncOperation(const ArmOperation& op,
                                                             absl::Duration* budget) {
  Call call;
  call.method = "GET";
  call.url = EncodeSpacesInUrl(op.async_url);  // used as received otherwise
  call.op_type = ArmOpType::kRead;
  call.subscription = op.id.subscription_id;
  KUS_ASSIGN_OR_RETURN(Answer answer, Send(call, budget));
  const HttpResponse& response = answer.response;
  if (response.status == 202 && response.body.empty()) {
    return NotDone(op, response);
  }
  std::string what = absl::StrCat("ARM operation status ", UrlPathForLog(call.url));
  KUS_ASSIGN_OR_RETURN(nlohmann::json body, ParseJsonBody(what, response));
  std::string status = OperationStatus(body);
  if (status.empty()) {
    return absl::InternalError(absl::StrCat(what, " answered without a status"));
  }
  if (absl::EqualsIgnoreCase(status, "Failed") || absl::EqualsIgnoreCase(status, "Canceled")) {
    return Done(OperationFailureStatus(status, body, OperationName(op)));
  }
  if (!absl::EqualsIgnoreCase(status, "Succeeded")) {
    return NotDone(op, response);  // Running, InProgress, Accepted, ...
  }
  PollResult result = Done();
  if (op.verb == ArmOperation::Verb::kPut) {
    ReadBack(result, GetVersioned(op.id, op.api_version, budget));
  }
  return result;
}

absl::StatusOr<PollResult> ArmClientImpl::PollLocation(const ArmOperation& op,
                                                       absl::Duration* budget) {
  Call call;
  call.method = "GET";
  call.url = EncodeSpacesInUrl(op.location_url);
  call.op_type = ArmOpType::kRead;
  call.subscription = op.id.subscription_id;
  // A client error from the Location URL is the operation's outcome, not a failed poll.
  call.pass_through = {400, 404, 409, 412, 422};
  KUS_ASSIGN_OR_RETURN(Answer answer, Send(call, budget));
  const HttpResponse& response = answer.response;
  switch (response.status) {
    case 202:
      return NotDone(op, response);
    case 200:
    case 201:
    case 204:
      break;
    case 404:
      if (op.verb == ArmOperation::Verb::kDelete) {
        return Done();
      }
      [[fallthrough]];
    default:
      if (response.status >= 400) {
        return Done(MapArmError(call.method, call.url, response, answer.client_request_id));
      }
      return absl::InternalError(
          absl::StrCat(OperationName(op), ": the Location URL answered ", response.status));
  }
  PollResult result = Done();
  if (op.verb == ArmOperation::Verb::kPut) {
    std::string what = absl::StrCat("ARM operation result ", UrlPathForLog(call.url));
    absl::StatusOr<LiveConnection> live = response.body.empty()
                                              ? absl::NotFoundError("no body")
                                              : DecodeConnectionBody(what, response);
    ReadBack(result, live.ok() ? std::move(live) : GetVersioned(op.id, op.api_version, budget));
  }
  return result;
}

absl::StatusOr<PollResult> ArmClientImpl::PollResource(const ArmOperation& op,
                                                       absl::Duration* budget) {
  if (op.verb == ArmOperation::Verb::kValidate) {
    return absl::InternalError("a validation operation has no URL to poll");
  }
  Call call;
  call.method = "GET";
  call.url = Url(op.id.RequestPath(), op.api_version);
  call.op_type = ArmOpType::kRead;
  call.subscription = op.id.subscription_id;
  call.pass_through = {404};
  KUS_ASSIGN_OR_RETURN(Answer answer, Send(call, budget));
  const HttpResponse& response = answer.response;
  if (response.status == 404) {
    // Gone: a delete is done; a create may not be visible yet.
    return op.verb == ArmOperation::Verb::kDelete ? Done() : NotDone(op, response);
  }
  std::string what = absl::StrCat("ARM GET ", op.id.RequestPath());
  if (response.status != 200) {
    return absl::InternalError(absl::StrCat(what, " answered ", response.status));
  }
  KUS_ASSIGN_OR_RETURN(LiveConnection live, DecodeConnectionBody(what, response));
  const std::string& state = live.provisioning_state;
  if (absl::EqualsIgnoreCase(state, "Failed") || absl::EqualsIgnoreCase(state, "Canceled")) {
    absl::Status outcome(absl::EqualsIgnoreCase(state, "Canceled") ? absl::StatusCode::kAborted
                                                                   : absl::StatusCode::kInternal,
                         absl::StrCat(OperationName(op), " ended with provisioningState ", state));
    return Done(std::move(outcome));
  }
  if (op.verb == ArmOperation::Verb::kDelete || !IsTerminalProvisioningState(state)) {
    return NotDone(op, response);  // still there, or still provisioning
  }
  PollResult result = Done();
  result.resource = std::move(live);
  return result;
}

}  // namespace kustodian
