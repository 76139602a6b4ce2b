#pragma once

// The answer to a segment that reaches no connection (RFC 9293 3.10.7.1, "CLOSED"): a RST that
// the sender will accept, or nothing for a RST.

#include <optional>

#include "daemon/ustack/packet/tcp.h"

namespace nslab::ustack::tcp {

std::optional<packet::TcpRepr> reset_for(const packet::TcpRepr& segment);

}  // namespace nslab::ustack::tcp
