#include "tests/fakes/fake_arm_client.h"

#include "gtest/gtest.h"
#include "src/core/status.h"
#include "tests/arm/arm_test_util.h"

namespace kustodian::testing_arm {
namespace {

using Method = FakeArmClient::Method;

TEST(FakeArmClientTest, SynchronousPutGetListDelete) {
  FakeArmClient arm;
  DataConnectionSpec spec = TestSpec();
  EXPECT_EQ(arm.Get(spec.id).status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<WriteResult> put = arm.Put(spec);
  ASSERT_TRUE(put.ok());
  EXPECT_FALSE(put->operation.has_value());
  absl::StatusOr<LiveConnection> live = arm.Get(spec.id);
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(live->provisioning_state, "Succeeded");
  EXPECT_EQ(live->properties, spec.properties);
  EXPECT_EQ(live->kind_name, "EventHub");
  arm.SetConnection(*arm.Get(spec.id));
  DataConnectionSpec other = TestSpec(ConnectionKind::kEventHub, "other");
  other.id.database = "db2";
  ASSERT_TRUE(arm.Put(other).ok());
  EXPECT_EQ(arm.List(spec.id.Database())->size(), 1u);
  EXPECT_EQ(arm.size(), 2u);
  absl::StatusOr<WriteResult> del = arm.Delete(spec.id);
  ASSERT_TRUE(del.ok());
  EXPECT_TRUE(del->existed);
  EXPECT_FALSE(arm.GetConnection(spec.id).has_value());
  EXPECT_FALSE(arm.Delete(spec.id)->existed);
  EXPECT_EQ(arm.calls(Method::kPut), 2);
  EXPECT_EQ(arm.calls(Method::kGet), 3);
  EXPECT_EQ(arm.calls(Method::kDelete), 2);
  EXPECT_EQ(arm.calls(Method::kList), 1);
  EXPECT_EQ(arm.put_specs().size(), 2u);
  EXPECT_EQ(arm.deleted_ids().size(), 2u);
}

TEST(FakeArmClientTest, AsynchronousPutCompletesAfterNPolls) {
  FakeClock clock;
  FakeArmClient arm(&clock);
  arm.SetPutPolls(2);
  arm.SetPollRetryAfter(absl::Seconds(3));
  DataConnectionSpec spec = TestSpec();
  absl::StatusOr<WriteResult> put = arm.Put(spec);
  ASSERT_TRUE(put.ok());
  ASSERT_TRUE(put->operation.has_value());
  EXPECT_EQ(put->operation->started, clock.Now());
  EXPECT_EQ(arm.Get(spec.id)->provisioning_state, "Creating");
  absl::StatusOr<PollResult> first = arm.Poll(*put->operation);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->done);
  EXPECT_EQ(first->retry_after, absl::Seconds(3));
  absl::StatusOr<PollResult> second = arm.Poll(*put->operation);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->done);
  EXPECT_TRUE(second->outcome.ok());
  ASSERT_TRUE(second->resource.has_value());
  EXPECT_EQ(arm.Get(spec.id)->provisioning_state, "Succeeded");
  EXPECT_EQ(arm.pending_operations(), 0u);
  EXPECT_EQ(arm.Poll(*put->operation).status().code(), absl::StatusCode::kNotFound);
}

TEST(FakeArmClientTest, AsynchronousDeleteAndFailedOperation) {
  FakeArmClient arm;
  DataConnectionSpec spec = TestSpec();
  ASSERT_TRUE(arm.Put(spec).ok());
  arm.SetDeletePolls(1);
  arm.SetNextOperationOutcome(absl::InternalError("delete failed"));
  absl::StatusOr<WriteResult> del = arm.Delete(spec.id);
  ASSERT_TRUE(del.ok());
  ASSERT_TRUE(del->operation.has_value());
  EXPECT_EQ(arm.Get(spec.id)->provisioning_state, "Deleting");
  absl::StatusOr<PollResult> poll = arm.Poll(*del->operation);
  ASSERT_TRUE(poll.ok());
  EXPECT_TRUE(poll->done);
  EXPECT_EQ(poll->outcome.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(arm.Get(spec.id)->provisioning_state, "Succeeded");  // restored
  absl::StatusOr<WriteResult> again = arm.Delete(spec.id);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(arm.Poll(*again->operation)->outcome.ok());
  EXPECT_FALSE(arm.GetConnection(spec.id).has_value());
}

TEST(FakeArmClientTest, InjectedErrorsHitTheNextCall) {
  FakeArmClient arm;
  DataConnectionSpec spec = TestSpec();
  absl::Status throttled = absl::UnavailableError("429");
  SetRetryAfter(throttled, absl::Seconds(9));
  arm.InjectError(Method::kPut, throttled);
  arm.InjectNextError(absl::PermissionDeniedError("403"));
  EXPECT_EQ(arm.List(spec.id.Database()).status().code(), absl::StatusCode::kPermissionDenied);
  absl::StatusOr<WriteResult> put = arm.Put(spec);
  EXPECT_EQ(put.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetRetryAfter(put.status()), absl::Seconds(9));
  EXPECT_FALSE(arm.GetConnection(spec.id).has_value());
  EXPECT_TRUE(arm.Put(spec).ok());
  EXPECT_EQ(arm.calls(Method::kPut), 2);
  EXPECT_EQ(arm.total_calls(), 3);
}

TEST(FakeArmClientTest, ValidateReturnsConfiguredErrors) {
  FakeArmClient arm;
  EXPECT_TRUE(arm.Validate(TestSpec())->empty());
  arm.SetValidationErrors({"bad hub"});
  EXPECT_EQ(arm.Validate(TestSpec())->at(0), "bad hub");
  EXPECT_EQ(arm.calls(Method::kValidate), 2);
}

}  // namespace
}  // namespace kustodian::testing_arm
