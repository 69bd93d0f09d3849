// ParseUrl, IsLoopbackHost, UrlEncode and FindHeader.
#include <gtest/gtest.h>

#include "src/http/http.h"

namespace kustodian {
namespace {

TEST(ParseUrlTest, HttpsDefaultPortAndPath) {
  auto url = ParseUrl("https://management.azure.com/subscriptions/s?api-version=2023-08-15");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->scheme, "https");
  EXPECT_EQ(url->host, "management.azure.com");
  EXPECT_EQ(url->port, 443);
  EXPECT_EQ(url->path_and_query, "/subscriptions/s?api-version=2023-08-15");
}

TEST(ParseUrlTest, HttpDefaultPortEmptyPathBecomesSlash) {
  auto url = ParseUrl("http://localhost");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->scheme, "http");
  EXPECT_EQ(url->port, 80);
  EXPECT_EQ(url->path_and_query, "/");
}

TEST(ParseUrlTest, ExplicitPortQueryOnlyAndFragment) {
  auto url = ParseUrl("HTTP://Example.COM:8080?a=b#frag");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->scheme, "http");
  EXPECT_EQ(url->host, "example.com");
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->path_and_query, "/?a=b");
}

TEST(ParseUrlTest, Ipv6LiteralHostLosesBrackets) {
  auto url = ParseUrl("http://[::1]:9000/x/y");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 9000);
  EXPECT_EQ(url->path_and_query, "/x/y");
  auto no_port = ParseUrl("https://[::1]/");
  ASSERT_TRUE(no_port.ok()) << no_port.status();
  EXPECT_EQ(no_port->port, 443);
}

TEST(ParseUrlTest, RejectsMalformed) {
  for (const char* bad :
       {"", "/relative/path", "ftp://host/", "http://", "http://:80/", "http://host:/",
        "http://host:0/", "http://host:65536/", "http://host:12a/", "http://[::1/",
        "http://[::1]x/", "http://user:pw@host/", "http://host/a b", "http://host/a\r\nX: y",
        "http://ho$t/", "http://host/\xc3\xa9"}) {
    auto url = ParseUrl(bad);
    EXPECT_EQ(url.status().code(), absl::StatusCode::kInvalidArgument) << "url: " << bad;
  }
}

TEST(ParseUrlTest, ErrorDoesNotEchoQuery) {
  auto url = ParseUrl("http://host:99999/p?sig=SECRET");
  ASSERT_FALSE(url.ok());
  EXPECT_EQ(std::string(url.status().message()).find("SECRET"), std::string::npos);
}

TEST(IsLoopbackHostTest, Loopbacks) {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "127.255.255.254", "::1", "[::1]", "localhost",
                           "LOCALHOST", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(IsLoopbackHost(host)) << host;
  }
}

TEST(IsLoopbackHostTest, NonLoopbacks) {
  for (const char* host :
       {"128.0.0.1", "10.0.0.1", "0.0.0.0", "::", "::2", "[::2]", "localhost.example.com",
        "127.0.0.1.example.com", "example.com", "", "127.0.0", "::ffff:10.0.0.1"}) {
    EXPECT_FALSE(IsLoopbackHost(host)) << host;
  }
}

TEST(UrlEncodeTest, KeepsUnreservedEncodesEverythingElse) {
  EXPECT_EQ(UrlEncode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(UrlEncode("a b"), "a%20b");
  EXPECT_EQ(UrlEncode("a+b/c?d=e&f#g%"), "a%2Bb%2Fc%3Fd%3De%26f%23g%25");
  EXPECT_EQ(UrlEncode("\xc3\xa9"), "%C3%A9");
  EXPECT_EQ(UrlEncode(std::string_view("\0\n", 2)), "%00%0A");
  EXPECT_EQ(UrlEncode(""), "");
}

TEST(FindHeaderTest, CaseInsensitiveFirstMatch) {
  HttpHeaders headers = {{"Content-Type", "a"}, {"retry-after", "5"}, {"Retry-After", "9"}};
  EXPECT_EQ(FindHeader(headers, "content-type"), "a");
  EXPECT_EQ(FindHeader(headers, "RETRY-AFTER"), "5");
  EXPECT_EQ(FindHeader(headers, "Location"), std::nullopt);
  HttpResponse response;
  response.headers = headers;
  EXPECT_EQ(response.Header("Retry-after"), "5");
}

}  // namespace
}  // namespace kustodian
