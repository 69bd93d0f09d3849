// ArmClientImpl::Validate: POST dataConnectionValidation and, when ARM answers 202, wait for
// the result with Clock::SleepFor (a CLI path; reconcile workers never call it).
#include "absl/strings/str_cat.h"
#include "src/arm/arm_client_impl.h"
#include "src/arm/arm_response.h"
#include "src/arm/error_mapping.h"
#include "src/core/status.h"
#include "src/core/strings.h"
#include "src/model/arm_codec.h"

namespace kustodian {
namespace {

constexpr absl::Duration kMaxValidationWait = absl::Minutes(5);

absl::StatusOr<std::vector<std::string>> DecodeValidationBody(std::string_view what,
                                                              const HttpResponse& response) {
  if (response.status == 204 || response.body.empty()) {
    return std::vector<std::string>();
  }
  KUS_ASSIGN_OR_RETURN(nlohmann::json body, ParseJsonBody(what, response));
  absl::StatusOr<std::vector<std::string>> messages = DecodeValidationResult(body);
  if (!messages.ok()) {
    return absl::InternalError(absl::StrCat(Av(what), " returned a validation result that does ",
                                            "not decode: ", messages.status().message()));
  }
  return messages;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ArmClientImpl::Validate(const DataConnectionSpec& spec) {
  std::string api_version =
      KindNeedsApi2025(spec.kind) ? options_.api_version_2025 : options_.api_version;
  DatabaseId db = spec.id.Database();
  Call call;
  call.method = "POST";
  call.url = Url(absl::StrCat(db.RequestPath(), "/dataConnectionValidation"), api_version);
  call.body =
      EncodeValidationRequest(spec).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  call.op_type = ArmOpType::kWrite;
  call.subscription = spec.id.subscription_id;
  call.correlation_id = NewRequestId();
  absl::Duration budget = options_.max_inline_wait;
  KUS_ASSIGN_OR_RETURN(Answer answer, Send(call, &budget));
  const HttpResponse& response = answer.response;
  std::string what = absl::StrCat("ARM POST ", db.RequestPath(), "/dataConnectionValidation");
  if (response.status == 200 || response.status == 204) {
    return DecodeValidationBody(what, response);
  }
  if (response.status != 202) {
    return absl::InternalError(absl::StrCat(what, " answered ", response.status));
  }
  ArmOperation op = OperationFromResponse(ArmOperation::Verb::kValidate, spec.id, response,
                                          api_version, call.correlation_id, clock_.Now());
  if (op.async_url.empty() && op.location_url.empty()) {
    return absl::InternalError(absl::StrCat(what, " answered 202 without an operation URL"));
  }
  return AwaitValidation(std::move(op), ParseRetryAfter(response.headers).value_or(PollBackoff(0)));
}

absl::StatusOr<std::vector<std::string>> ArmClientImpl::AwaitValidation(ArmOperation op,
                                                                        absl::Duration wait) {
  const absl::Time deadline = clock_.Now() + kMaxValidationWait;
  bool status_done = op.async_url.empty();
  for (;;) {
    if (wait > absl::ZeroDuration()) {
      if (clock_.Now() + wait > deadline) {
        return absl::DeadlineExceededError(absl::StrCat(
            "data connection validation did not finish within ",
            absl::FormatDuration(kMaxValidationWait), " (correlation id ", op.correlation_id, ")"));
      }
      clock_.SleepFor(wait);
    }
    ++op.polls;
    absl::Duration budget = options_.max_inline_wait;
    if (!status_done) {
      KUS_ASSIGN_OR_RETURN(PollResult poll, PollAsyncOperation(op, &budget));
      if (!poll.done) {
        wait = poll.retry_after;
        continue;
      }
      KUS_RETURN_IF_ERROR(poll.outcome);
      if (op.location_url.empty()) {
        return absl::InternalError(
            "data connection validation succeeded but ARM gave no Location to read the result");
      }
      status_done = true;
      wait = absl::ZeroDuration();
      continue;
    }
    Call call;
    call.method = "GET";
    call.url = op.location_url;
    call.op_type = ArmOpType::kRead;
    call.subscription = op.id.subscription_id;
    KUS_ASSIGN_OR_RETURN(Answer answer, Send(call, &budget));
    if (answer.response.status == 202) {
      wait = ParseRetryAfter(answer.response.headers).value_or(PollBackoff(op.polls));
      continue;
    }
    return DecodeValidationBody(absl::StrCat("ARM validation result ", UrlPathForLog(call.url)),
                                answer.response);
  }
}

}  // namespace kustodian
