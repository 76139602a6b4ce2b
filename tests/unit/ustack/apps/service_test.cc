#include "daemon/ustack/apps/service.h"

#include <gtest/gtest.h>

namespace nslab::ustack::apps {
namespace {

TEST(ServiceTest, Parses) {
  const absl::StatusOr<ServiceSpec> echo = parse_service("udp:7:echo");
  ASSERT_TRUE(echo.ok()) << echo.status();
  EXPECT_EQ(echo->transport, "udp");
  EXPECT_EQ(echo->port, 7);
  EXPECT_EQ(echo->app, "echo");
  EXPECT_EQ(echo->to_string(), "udp:7:echo");
  const absl::StatusOr<ServiceSpec> http = parse_service("tcp:80:http");
  ASSERT_TRUE(http.ok()) << http.status();
  EXPECT_EQ(http->app, "http");
  EXPECT_FALSE(parse_service("udp:80:http").ok());
}

TEST(ServiceTest, SaysWhatIsWrong) {
  EXPECT_NE(parse_service("udp:7").status().message().find("transport:port:app"),
            absl::string_view::npos);
  EXPECT_NE(parse_service("udp:70000:echo").status().message().find("1-65535"),
            absl::string_view::npos);
  const absl::Status unknown = parse_service("tcp:70:gopher").status();
  EXPECT_EQ(unknown.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.message().find("known: udp:echo, udp:discard"), absl::string_view::npos)
      << unknown;
  EXPECT_NE(unknown.message().find("tcp:http"), absl::string_view::npos) << unknown;
}

TEST(ServiceTest, ParsesClients) {
  const absl::StatusOr<ServiceSpec> source = parse_service("tcp:10.0.0.1:5001:source:1000000");
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_TRUE(source->is_client());
  EXPECT_EQ(source->transport, "tcp");
  EXPECT_EQ(source->connect, packet::Ipv4Address(10, 0, 0, 1));
  EXPECT_EQ(source->port, 5001);
  EXPECT_EQ(source->app, "source");
  EXPECT_EQ(source->bytes, 1000000u);
  EXPECT_EQ(source->to_string(), "tcp:10.0.0.1:5001:source:1000000");
  const absl::StatusOr<ServiceSpec> endless = parse_service("tcp:10.0.0.1:5001:source");
  ASSERT_TRUE(endless.ok()) << endless.status();
  EXPECT_FALSE(endless->bytes.has_value());
  EXPECT_EQ(endless->to_string(), "tcp:10.0.0.1:5001:source");
  for (const char* text : {"tcp:10.0.0.1:9:sink", "tcp:10.0.0.1:9:hold"}) {
    const absl::StatusOr<ServiceSpec> client = parse_service(text);
    ASSERT_TRUE(client.ok()) << client.status();
    EXPECT_EQ(client->to_string(), text);
  }
  EXPECT_FALSE(parse_service("tcp:7:echo")->is_client());
}

TEST(ServiceTest, SaysWhatIsWrongWithAClient) {
  const auto message = [](absl::string_view text) {
    return std::string(parse_service(text).status().message());
  };
  EXPECT_NE(message("udp:10.0.0.1:7:source").find("only tcp clients"), std::string::npos);
  EXPECT_NE(message("tcp:10.0.0:7:source").find("not an IPv4 address"), std::string::npos);
  EXPECT_NE(message("tcp:224.0.0.1:7:source").find("not a unicast"), std::string::npos);
  EXPECT_NE(message("tcp:10.0.0.1:0:source").find("1-65535"), std::string::npos);
  EXPECT_NE(message("tcp:10.0.0.1:7:echo").find("known: source, sink, hold"), std::string::npos);
  EXPECT_NE(message("tcp:10.0.0.1:7:sink:100").find("only source takes a byte count"),
            std::string::npos);
  EXPECT_NE(message("tcp:10.0.0.1:7:source:lots").find("not a number"), std::string::npos);
  EXPECT_NE(message("tcp:1:2:3:4:5").find("tcp:address:port:app[:bytes]"), std::string::npos);
  // A server's error points at the client form too.
  EXPECT_NE(message("tcp:7:source").find("clients: tcp:address:port:"), std::string::npos);
}

TEST(ServiceTest, StartRefusesATakenPort) {
  class NullLink final : public net::Link {
   public:
    bool send(std::size_t, std::optional<net::LinkChecksumOffload>,
              absl::FunctionRef<void(packet::MutableBytes)>) override {
      return true;
    }
    bool checksum_offload() const override { return false; }
  } link;
  net::InterfaceConfig config;
  config.mac = packet::MacAddress({2, 0, 0, 0, 0, 1});
  config.addresses = {*net::Ipv4Cidr::parse("10.0.0.1/24")};
  net::Stack stack(config, link);
  const auto echo = start_service(*parse_service("udp:7:echo"), stack);
  ASSERT_TRUE(echo.ok()) << echo.status();
  const absl::Status again = start_service(*parse_service("udp:7:discard"), stack).status();
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(again.message().find("udp:7:discard"), absl::string_view::npos) << again;
}

}  // namespace
}  // namespace nslab::ustack::apps
