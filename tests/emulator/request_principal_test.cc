// The request log says who called (GET /_admin/requests "principal"): an ARM call's
// authenticated caller (the token's oid, "dev" for the dev token, "anonymous" when not
// authenticated) and a token request's client_id. Tests use it to prove which identity wrote.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/emulator/emulator_test_util.h"

namespace kustodian::emulator::testing {
namespace {

class RequestPrincipalTest : public EmulatorTest {
 protected:
  // The "principal" of every logged request, in order.
  std::vector<std::string> Principals() {
    ServerResponse r = Call("GET", "/_admin/requests?since=0");
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> out;
    const nlohmann::json body = BodyJson(r);
    for (const nlohmann::json& item : body["requests"]) {
      out.push_back(item.value("principal", "<missing>"));
    }
    return out;
  }
  ServerRequest ListWith(const std::string& authorization) {
    ServerRequest request =
        MakeRequest("GET", absl::StrCat(kDb, "/dataConnections", kApi), "", false);
    if (!authorization.empty()) {
      request.headers.emplace_back("Authorization", authorization);
    }
    return request;
  }
};

TEST_F(RequestPrincipalTest, RecordsTheCallerOfEachRequest) {
  ServerResponse token =
      Call(MakeRequest("POST", absl::StrCat("/", kTenant, "/oauth2/v2.0/token"),
                       absl::StrCat("grant_type=client_credentials&client_id=", kClientId,
                                    "&client_secret=", kSecret,
                                    "&scope=https%3A%2F%2Fmanagement.azure.com%2F.default"),
                       false));
  ASSERT_EQ(token.status, 200) << token.body;
  const std::string bearer =
      absl::StrCat("Bearer ", BodyJson(token)["access_token"].get<std::string>());

  EXPECT_EQ(Call(ListWith(bearer)).status, 200);
  EXPECT_EQ(Call(ListWith("Bearer devtok")).status, 200);
  EXPECT_EQ(Call(ListWith("")).status, 401);
  EXPECT_EQ(Principals(),
            (std::vector<std::string>{kClientId, "21111111-1111-1111-1111-111111111111", "dev",
                                      "anonymous"}));
}

}  // namespace
}  // namespace kustodian::emulator::testing
