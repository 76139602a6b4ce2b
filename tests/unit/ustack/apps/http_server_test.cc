// The HTTP server served by one TCP instance and used by another over the in-memory pipe:
// generated bodies arrive intact, keep-alive and pipelining answer in order, errors close.

#include "daemon/ustack/apps/http_server.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/unit/ustack/tcp/segment_pipe.h"
#include "tests/unit/ustack/tcp/stream_apps.h"

namespace nslab::ustack::apps {
namespace {

using std::chrono::seconds;
using tcp::testing::SegmentPipe;
using tcp::testing::StreamSink;
using tcp::testing::StreamSource;

std::vector<std::byte> Bytes(const std::string& text) {
  const auto* data = reinterpret_cast<const std::byte*>(text.data());
  return std::vector<std::byte>(data, data + text.size());
}

std::string Text(const std::vector<std::byte>& bytes, std::size_t from = 0,
                 std::size_t len = std::string::npos) {
  const std::string all(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return all.substr(from, len);
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = HttpServer::start(pipe_.b(), 80);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    const auto client =
        pipe_.a().connect(tcp::Endpoint{tcp::testing::kAddressB, 80}, 0, pipe_.now());
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *client;
  }
  // Sends `requests` (without closing our side unless `shut_down`) and reads until the server
  // closes or `done` holds.
  std::string Exchange(const std::string& requests, bool shut_down,
                       const std::function<bool(const std::string&)>& done) {
    StreamSource source(pipe_.a(), client_, Bytes(requests), pipe_.now(), shut_down);
    StreamSink sink(pipe_.a(), client_, pipe_.now(), &source);
    EXPECT_TRUE(pipe_.run_until(
        [&] { return sink.end_of_stream() || (done && done(Text(sink.received()))); },
        seconds(120)));
    end_of_stream_ = sink.end_of_stream();
    // The source and sink go away with this call; their callback must not outlive them.
    (void)pipe_.a().set_readiness_callback(client_, [](tcp::SocketId, std::uint8_t) {});
    return Text(sink.received());
  }
  // Only the listener is left: every connection was closed, and a server that closed first
  // waited out TIME_WAIT (2 MSL, 60 s).
  bool server_idle() { return pipe_.b().sockets().size() == 1; }

  SegmentPipe pipe_;
  std::unique_ptr<HttpServer> server_;
  tcp::SocketId client_ = 0;
  bool end_of_stream_ = false;
};

TEST_F(HttpServerTest, GeneratesTheBodyAndClosesWhenAsked) {
  pipe_.set_faults(tcp::testing::random_faults(5, 2, 1, 3));
  constexpr std::size_t kSize = 3 * 1024 * 1024 + 7;
  const std::string response = Exchange(
      absl::StrCat("GET /bytes/", kSize, " HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n"),
      false, nullptr);
  ASSERT_TRUE(end_of_stream_);
  const std::size_t body = response.find("\r\n\r\n") + 4;
  const std::string head = response.substr(0, body);
  EXPECT_TRUE(absl::StartsWith(head, "HTTP/1.1 200 OK\r\n")) << head;
  EXPECT_TRUE(absl::StrContains(head, absl::StrCat("Content-Length: ", kSize, "\r\n"))) << head;
  EXPECT_TRUE(absl::StrContains(head, "Connection: close\r\n")) << head;
  ASSERT_EQ(response.size() - body, kSize);
  for (std::size_t i = 0; i < kSize; ++i) {
    ASSERT_EQ(static_cast<unsigned char>(response[body + i]), i % 251) << i;
  }
  ASSERT_TRUE(pipe_.a().close(client_, pipe_.now()).ok());
  ASSERT_TRUE(pipe_.run_until([&] { return server_idle(); }, seconds(120)));
}

TEST_F(HttpServerTest, KeepAliveAnswersPipelinedRequestsInOrder) {
  const std::string requests =
      "GET /bytes/5 HTTP/1.1\r\nHost: b\r\n\r\n"
      "HEAD /bytes/1000 HTTP/1.1\r\nHost: b\r\n\r\n"
      "GET /nothing HTTP/1.1\r\nHost: b\r\n\r\n"
      "DELETE / HTTP/1.1\r\nHost: b\r\n\r\n"
      "GET / HTTP/1.1\r\nHost: b\r\n\r\n";
  const std::string response = Exchange(
      requests, false, [](const std::string& got) { return absl::StrContains(got, "251"); });
  EXPECT_FALSE(end_of_stream_);  // the connection stays open
  const std::string expected_first =
      "HTTP/1.1 200 OK\r\nServer: nslab-ustack\r\nContent-Type: application/octet-stream\r\n"
      "Content-Length: 5\r\n\r\n" +
      std::string("\x00\x01\x02\x03\x04", 5);
  ASSERT_TRUE(absl::StartsWith(response, expected_first)) << response;
  std::size_t at = expected_first.size();
  for (const char* status : {"HTTP/1.1 200 OK\r\n", "HTTP/1.1 404 Not Found\r\n",
                             "HTTP/1.1 405 Method Not Allowed\r\n", "HTTP/1.1 200 OK\r\n"}) {
    const std::size_t found = response.find(status, at);
    ASSERT_NE(found, std::string::npos) << status << " after " << at << " in " << response;
    at = found + 1;
  }
  // HEAD: the length of the body it would have had, and no body (the 404 follows at once).
  EXPECT_TRUE(absl::StrContains(response, "Content-Length: 1000\r\n\r\nHTTP/1.1 404")) << response;
  EXPECT_TRUE(absl::StrContains(response, "Allow: GET, HEAD\r\n")) << response;
  EXPECT_TRUE(absl::StrContains(response, "i % 251")) << response;
}

TEST_F(HttpServerTest, MalformedRequestIsAnswered400AndClosed) {
  const std::string response = Exchange(
      "GET / HTTP/1.1\r\nHost: b\r\n\r\nBLAH\r\n\r\nGET / HTTP/1.1\r\n\r\n", false, nullptr);
  EXPECT_TRUE(end_of_stream_);
  const std::size_t second = response.find("HTTP/1.1 400 Bad Request\r\n");
  ASSERT_NE(second, std::string::npos) << response;
  EXPECT_TRUE(absl::StartsWith(response, "HTTP/1.1 200 OK\r\n")) << response;
  EXPECT_TRUE(absl::StrContains(response.substr(second), "Connection: close\r\n")) << response;
  EXPECT_EQ(response.find("HTTP/1.1", second + 1), std::string::npos) << response;
  ASSERT_TRUE(pipe_.a().close(client_, pipe_.now()).ok());
  ASSERT_TRUE(pipe_.run_until([&] { return server_idle(); }, seconds(120)));
}

TEST_F(HttpServerTest, Http10ClosesUnlessKeepAliveAndBodiesAreRefused) {
  std::string response = Exchange(
      "GET /bytes/3 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", false,
      [](const std::string& got) { return absl::EndsWith(got, std::string("\0\1\2", 3)); });
  EXPECT_FALSE(end_of_stream_);
  EXPECT_TRUE(absl::StrContains(response, "Connection: keep-alive\r\n")) << response;
  response = Exchange("POST / HTTP/1.1\r\nHost: b\r\nContent-Length: 4\r\n\r\nabcd", true, nullptr);
  EXPECT_TRUE(end_of_stream_);
  EXPECT_TRUE(absl::StrContains(response, "HTTP/1.1 405 Method Not Allowed\r\n")) << response;
  EXPECT_TRUE(absl::StrContains(response, "Connection: close\r\n")) << response;
}

TEST_F(HttpServerTest, ClientCloseAfterTheRequestStillGetsTheAnswer) {
  const std::string response = Exchange("GET /bytes/0 HTTP/1.0\r\n\r\n", true, nullptr);
  EXPECT_TRUE(end_of_stream_);
  EXPECT_TRUE(absl::StartsWith(response, "HTTP/1.1 200 OK\r\n")) << response;
  EXPECT_TRUE(absl::EndsWith(response, "Content-Length: 0\r\nConnection: close\r\n\r\n"))
      << response;
  ASSERT_TRUE(pipe_.a().close(client_, pipe_.now()).ok());
  ASSERT_TRUE(pipe_.run_until([&] { return server_idle(); }, seconds(120)));
}

}  // namespace
}  // namespace nslab::ustack::apps
