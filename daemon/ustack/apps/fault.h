#pragma once

// A participant-node fault (DESIGN.md, "Participant-node faults"): how a service breaks TCP on
// purpose, per listening port or per client connection. The text form is what the command line
// (`--fault PORT:MODE[:N]`), topologies and the CLI carry:
//
//   none | clear       no fault (parse_fault reads both; to_string writes "none")
//   refuse             RST to every SYN: the peer's connect fails with ECONNREFUSED at once
//   blackhole-syn      SYNs dropped silently: the peer's connect times out
//   never-accept       handshakes complete, the app never accepts: the accept queue fills, later
//                      SYNs are dropped and counted (ListenOverflows/ListenDrops)
//   close-wait         after the peer's FIN the app never closes: CLOSE-WAIT here, FIN-WAIT-2
//                      there; what was being served before the FIN still is
//   ignore-fin         the peer's FIN is never ACKed: the peer sits in FIN-WAIT-1, retransmitting
//   zero-window        window 0 advertised, persist probes answered with window 0
//   slow-read:RATE     the app reads RATE bytes/s (a token bucket on the stack's clock)
//   reset-after:BYTES  RST once BYTES bytes have been sent plus received on a connection
//
// refuse, blackhole-syn and never-accept are a listener's: a client (which accepts nothing and
// answers no SYN) refuses them with FAILED_PRECONDITION.
//
// Where a change applies (Node::set_fault):
//   refuse, blackhole-syn   the next SYN; existing connections are left alone.
//   never-accept            from now on nothing more is accepted; clearing it accepts what
//                           queued up.
//   close-wait, ignore-fin  every connection whose peer's FIN has not yet arrived (or, for
//                           ignore-fin, not yet been ACKed), existing ones too.
//   zero-window, slow-read  existing and new connections, from their next segment / read.
//   reset-after             existing and new connections; bytes already moved count.
//   none                    existing connections return to normal: the window reopens, reads
//                           resume, a held CLOSE-WAIT closes, a held FIN is ACKed.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "daemon/ustack/tcp/fault_policy.h"

namespace nslab::ustack::apps {

enum class FaultMode {
  kNone,
  kRefuse,
  kBlackholeSyn,
  kNeverAccept,
  kCloseWait,
  kIgnoreFin,
  kZeroWindow,
  kSlowRead,
  kResetAfter
};

struct FaultSpec {
  FaultMode mode = FaultMode::kNone;
  std::uint64_t bytes = 0;  // kResetAfter: bytes sent + received before the RST
  std::uint64_t rate = 0;   // kSlowRead: bytes read per second

  bool operator==(const FaultSpec&) const = default;
};

// "refuse", "close-wait", "reset-after:1000" (bytes), "slow-read:4096" (bytes/s), "none"/"clear".
// INVALID_ARGUMENT naming the word and the known ones; a missing or zero number where one is
// needed; a number where none is taken.
absl::StatusOr<FaultSpec> parse_fault(absl::string_view text);
// The same form parse_fault reads: "reset-after:1000", "none".
std::string to_string(const FaultSpec& spec);
// "close-wait"; kNone is "none".
absl::string_view mode_name(FaultMode mode);

// The part TCP itself carries out (refuse, blackhole-syn, ignore-fin, zero-window, reset-after);
// the apps carry out never-accept, close-wait and slow-read.
tcp::FaultPolicy tcp_fault_policy(const FaultSpec& spec);
// refuse, blackhole-syn, never-accept: only a listener can have them.
bool is_listener_fault(FaultMode mode);

}  // namespace nslab::ustack::apps
