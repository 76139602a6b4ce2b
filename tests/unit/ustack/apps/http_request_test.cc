// The HTTP request head parser: fed whole, in pieces and byte by byte; its limits, the
// keep-alive rules of HTTP/1.0 and 1.1, and the malformed heads it must refuse.

#include "daemon/ustack/apps/http_request.h"

#include <gtest/gtest.h>

#include <string>

namespace nslab::ustack::apps {
namespace {

using State = HttpRequestParser::State;

// Feeds `text` in pieces of `piece` bytes; returns how much was used.
std::size_t FeedInPieces(HttpRequestParser& parser, const std::string& text, std::size_t piece) {
  std::size_t used = 0;
  for (std::size_t at = 0; at < text.size() && parser.state() == State::kIncomplete; at += piece) {
    used += parser.feed(absl::string_view(text).substr(at, piece));
  }
  return used;
}

TEST(HttpRequestTest, ParsesAGetWholeInPiecesAndByteByByte) {
  const std::string text =
      "GET /bytes/100?x=1 HTTP/1.1\r\nHost: 10.0.0.2\r\nUser-Agent: curl/7.88\r\n"
      "Accept: */*\r\n\r\n";
  for (const std::size_t piece : {text.size(), std::size_t{7}, std::size_t{1}}) {
    HttpRequestParser parser;
    EXPECT_EQ(FeedInPieces(parser, text, piece), text.size()) << piece;
    ASSERT_EQ(parser.state(), State::kComplete) << piece;
    EXPECT_EQ(parser.request().method, "GET");
    EXPECT_EQ(parser.request().target, "/bytes/100?x=1");
    EXPECT_EQ(parser.request().minor_version, 1);
    EXPECT_TRUE(parser.request().keep_alive);
    EXPECT_EQ(parser.request().content_length, 0u);
    EXPECT_FALSE(parser.request().transfer_encoding);
  }
}

TEST(HttpRequestTest, StopsAtTheEndOfTheHeadSoPipelinedRequestsStayApart) {
  const std::string first = "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n";
  const std::string second = "GET /x HTTP/1.1\r\nHost: a\r\n\r\n";
  const std::string both = first + second;
  HttpRequestParser parser;
  EXPECT_EQ(parser.feed(both), first.size());
  ASSERT_EQ(parser.state(), State::kComplete);
  EXPECT_EQ(parser.request().method, "HEAD");
  EXPECT_EQ(parser.feed(both), 0u);  // nothing more once complete
  parser.reset();
  EXPECT_EQ(parser.feed(absl::string_view(both).substr(first.size())), second.size());
  ASSERT_EQ(parser.state(), State::kComplete);
  EXPECT_EQ(parser.request().target, "/x");
}

TEST(HttpRequestTest, AcceptsBareLineFeedsAndLeadingEmptyLines) {
  HttpRequestParser parser;
  const std::string text = "\r\n\nGET / HTTP/1.0\nHost: a\n\n";
  EXPECT_EQ(parser.feed(text), text.size());
  ASSERT_EQ(parser.state(), State::kComplete);
  EXPECT_EQ(parser.request().target, "/");
  EXPECT_EQ(parser.request().minor_version, 0);
}

TEST(HttpRequestTest, KeepAliveRules) {
  struct Case {
    const char* head;
    bool keep_alive;
  };
  for (const Case& c : {
           Case{"GET / HTTP/1.1\r\nHost: a\r\n\r\n", true},
           Case{"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false},
           Case{"GET / HTTP/1.1\r\nHost: a\r\nconnection: Upgrade, CLOSE\r\n\r\n", false},
           Case{"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n", true},
           Case{"GET / HTTP/1.0\r\n\r\n", false},
           Case{"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true},
           Case{"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false},
       }) {
    HttpRequestParser parser;
    parser.feed(c.head);
    ASSERT_EQ(parser.state(), State::kComplete) << c.head;
    EXPECT_EQ(parser.request().keep_alive, c.keep_alive) << c.head;
  }
}

TEST(HttpRequestTest, ReportsBodies) {
  HttpRequestParser parser;
  parser.feed("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\nhello");
  ASSERT_EQ(parser.state(), State::kComplete);
  EXPECT_EQ(parser.request().method, "POST");
  EXPECT_EQ(parser.request().content_length, 12u);
  parser.reset();
  parser.feed("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
  ASSERT_EQ(parser.state(), State::kComplete);
  EXPECT_TRUE(parser.request().transfer_encoding);
}

TEST(HttpRequestTest, RefusesAHeadOverTheLimit) {
  HttpRequestParser parser;
  std::string text = "GET / HTTP/1.1\r\nHost: a\r\nX-Filler: ";
  text.append(HttpRequestParser::kMaxHead, 'x');
  // Fed in pieces the parser never holds more than the limit, and says so at once.
  const std::size_t used = FeedInPieces(parser, text, 1000);
  ASSERT_EQ(parser.state(), State::kError);
  EXPECT_EQ(parser.error_status(), 431);
  EXPECT_LE(used, HttpRequestParser::kMaxHead + 1);
  // Just under the limit is fine.
  parser.reset();
  std::string fits = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
  fits.append(HttpRequestParser::kMaxHead - fits.size() - 4, 'y');
  fits += "\r\n\r\n";
  ASSERT_EQ(fits.size(), HttpRequestParser::kMaxHead);
  parser.feed(fits);
  EXPECT_EQ(parser.state(), State::kComplete);
}

TEST(HttpRequestTest, RefusesMalformedHeads) {
  struct Case {
    const char* head;
    int status;
  };
  for (const Case& c : {
           Case{"GET /\r\n\r\n", 400},                                 // no version
           Case{"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400},            // two spaces
           Case{"GET / HTTP/1.1 x\r\nHost: a\r\n\r\n", 400},           // four parts
           Case{"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400},             // not a token
           Case{"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},             // other version
           Case{"GET / HTTP/1.1x\r\nHost: a\r\n\r\n", 400},            // not a version
           Case{"GET / http/1.1\r\nHost: a\r\n\r\n", 400},             // case matters
           Case{"GET / HTTP/1.1\r\n\r\n", 400},                        // 1.1 without Host
           Case{"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},  // two Hosts
           Case{"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},            // space before colon
           Case{"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400},  // obs-fold
           Case{"GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400},
           Case{"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400},  // stray CR
           Case{"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400},
           Case{"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
           Case{"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", 400},
       }) {
    HttpRequestParser parser;
    parser.feed(c.head);
    ASSERT_EQ(parser.state(), State::kError) << c.head;
    EXPECT_EQ(parser.error_status(), c.status) << c.head;
  }
  // A NUL in the target.
  HttpRequestParser parser;
  parser.feed(std::string("GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n", 28));
  EXPECT_EQ(parser.state(), State::kError);
}

}  // namespace
}  // namespace nslab::ustack::apps
