// Watch semantics: framing, synthetic ADDED for rv "0"/unset, events after an explicit rv,
// bookmarks, selectors turning MODIFIED into ADDED/DELETED, 410 Expired, break-watches, timeout.
#include "gtest/gtest.h"
#include "tests/kubeapi_tests/test_util.h"

namespace kustodian::kubeapi::testing {
namespace {

class WatchTest : public ApiServerTest {
 protected:
  std::string ListRv() { return Get(kDcs).Json()["metadata"]["resourceVersion"]; }
  bool WaitOpen(int n) {
    absl::Time deadline = absl::Now() + absl::Seconds(3);
    while (absl::Now() < deadline) {
      if (Get("/_test/watches").Json()["open"] == n) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  }
};

TEST_F(WatchTest, InitialEventsThenChangesThenDelete) {
  Post(kDcs, Dc("a"));
  WatchReader w(port_, std::string(kDcs) + "?watch=1&resourceVersion=0");
  auto first = w.NextChange();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ((*first)["type"], "ADDED");
  EXPECT_EQ((*first)["object"]["metadata"]["name"], "a");
  EXPECT_EQ((*first)["object"]["kind"], "DataConnection");
  Patch(std::string(kDcs) + "/a", R"({"spec":{"location":"x"}})");
  auto mod = w.NextChange();
  ASSERT_TRUE(mod.has_value());
  EXPECT_EQ((*mod)["type"], "MODIFIED");
  EXPECT_EQ((*mod)["object"]["metadata"]["generation"], 2);
  Delete(std::string(kDcs) + "/a");
  auto del = w.NextChange();
  ASSERT_TRUE(del.has_value());
  EXPECT_EQ((*del)["type"], "DELETED");
}

TEST_F(WatchTest, FromResourceVersionSkipsOlderEventsAndSendsBookmarks) {
  Post(kDcs, Dc("a"));
  std::string rv = ListRv();
  WatchReader w(port_,
                std::string(kDcs) + "?watch=true&allowWatchBookmarks=true&resourceVersion=" + rv);
  auto bookmark = w.Next(absl::Seconds(3));
  ASSERT_TRUE(bookmark.has_value());
  EXPECT_EQ((*bookmark)["type"], "BOOKMARK");
  EXPECT_EQ((*bookmark)["object"]["metadata"]["resourceVersion"], rv);
  EXPECT_EQ((*bookmark)["object"]["kind"], "DataConnection");
  Post(kDcs, Dc("b"));
  auto added = w.NextChange();
  ASSERT_TRUE(added.has_value());
  EXPECT_EQ((*added)["type"], "ADDED");
  EXPECT_EQ((*added)["object"]["metadata"]["name"], "b") << "a was created before rv";
}

TEST_F(WatchTest, LabelSelectorTurnsModifiedIntoAddedAndDeleted) {
  Post(kDcs, Dc("a"));
  WatchReader w(
      port_, std::string(kDcs) + "?watch=1&labelSelector=team%3Dblue&resourceVersion=" + ListRv());
  Patch(std::string(kDcs) + "/a", R"({"metadata":{"labels":{"team":"blue"}}})");
  auto in = w.NextChange();
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ((*in)["type"], "ADDED");
  Patch(std::string(kDcs) + "/a", R"({"metadata":{"labels":{"team":"red"}}})");
  auto out = w.NextChange();
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ((*out)["type"], "DELETED");
}

TEST_F(WatchTest, TooOldResourceVersionIsExpired) {
  Post(kDcs, Dc("a"));
  std::string old_rv = ListRv();
  Post(kDcs, Dc("b"));
  ASSERT_EQ(Http(port_, "POST", "/_test/compact").status, 200);
  WatchReader w(port_, std::string(kDcs) + "?watch=1&resourceVersion=" + old_rv);
  auto err = w.Next();
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(w.Status(), 200);
  EXPECT_EQ((*err)["type"], "ERROR");
  EXPECT_EQ((*err)["object"]["code"], 410);
  EXPECT_EQ((*err)["object"]["reason"], "Expired");
  EXPECT_TRUE(w.Ended(absl::Seconds(3)));
}

TEST_F(WatchTest, WindowOverflowExpiresOldVersions) {
  std::string rv = ListRv();
  for (int i = 0; i < 60; ++i) {  // window is 50 events
    Post(kDcs, Dc(absl::StrCat("n", i)));
  }
  WatchReader w(port_, std::string(kDcs) + "?watch=1&resourceVersion=" + rv);
  auto err = w.Next();
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ((*err)["object"]["code"], 410);
}

TEST_F(WatchTest, BreakWatchesEndsStreamsAndTimeoutEndsStreams) {
  WatchReader w(port_, std::string(kDcs) + "?watch=1&resourceVersion=" + ListRv());
  EXPECT_TRUE(WaitOpen(1));
  ASSERT_EQ(Http(port_, "POST", "/_test/break-watches").status, 200);
  EXPECT_TRUE(w.Ended(absl::Seconds(3)));
  WatchReader t(port_, std::string(kDcs) + "?watch=1&timeoutSeconds=1&resourceVersion=" + ListRv());
  EXPECT_TRUE(t.Ended(absl::Seconds(4)));
}

TEST_F(WatchTest, TableWatchCarriesRows) {
  Post(kDcs, Dc("a"));
  int fd = Connect(port_);
  std::string req = RequestText("GET", std::string(kDcs) + "?watch=1", "", "",
                                {{"Accept", "application/json;as=Table;v=v1;g=meta.k8s.io"}});
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string raw;
  absl::Time deadline = absl::Now() + absl::Seconds(3);
  while (raw.find("\"Table\"") == std::string::npos && absl::Now() < deadline) {
    char buf[4096];
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) > 0) {
      ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n <= 0) break;
      raw.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  EXPECT_NE(raw.find("\"Table\""), std::string::npos);
  EXPECT_NE(raw.find("\"mycluster\""), std::string::npos);
}

}  // namespace
}  // namespace kustodian::kubeapi::testing
