#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "daemon/ustack/control/stats_proto.h"

namespace nslab::ustack::control {
namespace {

using ::testing::HasSubstr;

v1::UstackFault Fault(uint32_t port, const std::string& mode, uint64_t bytes = 0,
                      uint64_t rate = 0) {
  v1::UstackFault fault;
  fault.set_port(port);
  fault.set_mode(mode);
  fault.set_bytes(bytes);
  fault.set_rate(rate);
  return fault;
}

TEST(FaultFromProto, EachModeWithItsNumber) {
  auto fault = from_proto(Fault(80, "close-wait"));
  ASSERT_TRUE(fault.ok()) << fault.status();
  EXPECT_EQ(fault->port, 80);
  EXPECT_EQ(fault->fault.mode, apps::FaultMode::kCloseWait);
  fault = from_proto(Fault(80, "reset-after", 1000));
  ASSERT_TRUE(fault.ok()) << fault.status();
  EXPECT_EQ(fault->fault, (apps::FaultSpec{apps::FaultMode::kResetAfter, 1000, 0}));
  fault = from_proto(Fault(80, "slow-read", 0, 4096));
  ASSERT_TRUE(fault.ok()) << fault.status();
  EXPECT_EQ(fault->fault, (apps::FaultSpec{apps::FaultMode::kSlowRead, 0, 4096}));
  fault = from_proto(Fault(80, "clear"));
  ASSERT_TRUE(fault.ok()) << fault.status();
  EXPECT_EQ(fault->fault.mode, apps::FaultMode::kNone);
}

TEST(FaultFromProto, SaysWhatToFix) {
  const std::pair<v1::UstackFault, std::string> wrong[] = {
      {Fault(0, "refuse"), "1-65535"},
      {Fault(70000, "refuse"), "1-65535"},
      {Fault(80, "half-open"), "close-wait"},
      {Fault(80, "reset-after"), "reset-after needs bytes"},
      {Fault(80, "reset-after", 0, 5), "reset-after needs bytes"},
      {Fault(80, "slow-read", 5), "slow-read needs a rate"},
      {Fault(80, "refuse", 5), "only reset-after takes bytes"},
      {Fault(80, "reset-after", 5, 5), "only slow-read takes a rate"},
  };
  for (const auto& [fault, message] : wrong) {
    const absl::Status status = from_proto(fault).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << fault.ShortDebugString();
    EXPECT_THAT(status.message(), HasSubstr(message)) << fault.ShortDebugString();
  }
}

TEST(FaultToProto, ModeWordsAndNumbers) {
  google::protobuf::RepeatedPtrField<v1::UstackFault> out;
  to_proto({{80, {apps::FaultMode::kResetAfter, 1000, 0}}, {81, {apps::FaultMode::kRefuse, 0, 0}}},
           &out);
  ASSERT_EQ(out.size(), 2);
  EXPECT_EQ(out[0].port(), 80u);
  EXPECT_EQ(out[0].mode(), "reset-after");
  EXPECT_EQ(out[0].bytes(), 1000u);
  EXPECT_EQ(out[1].mode(), "refuse");
}

}  // namespace
}  // namespace nslab::ustack::control
