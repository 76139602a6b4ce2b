#pragma once

// The eleven connection states of RFC 9293 3.3.2.

#include <cstdint>
#include <string_view>

namespace nslab::ustack::tcp {

enum class TcpState : std::uint8_t {
  kClosed,
  kListen,
  kSynSent,
  kSynReceived,
  kEstablished,
  kFinWait1,
  kFinWait2,
  kCloseWait,
  kClosing,
  kLastAck,
  kTimeWait,
};

inline constexpr int kTcpStateCount = 11;

// As `ss` prints them: "ESTAB", "SYN-SENT", "FIN-WAIT-1", ...
std::string_view state_name(TcpState state);

// States in which both sides' sequence numbers are known (RFC 9293 "synchronized").
constexpr bool is_synchronized(TcpState state) {
  return state != TcpState::kClosed && state != TcpState::kListen && state != TcpState::kSynSent &&
         state != TcpState::kSynReceived;
}

}  // namespace nslab::ustack::tcp
