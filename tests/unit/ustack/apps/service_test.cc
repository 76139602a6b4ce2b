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
