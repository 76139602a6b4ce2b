#pragma once

// `nslab diag sockets` for a ustack node: the stack's own socket table (UstackStats.tcp_sockets),
// in the rows, states, filters and summary that ListSockets gives for a kernel node, so one verb
// finds a CLOSE-WAIT leak on either kind of node.

#include "absl/status/statusor.h"
#include "daemon/diag/sockets.h"
#include "nslab/v1/diag.pb.h"
#include "nslab/v1/ustack.pb.h"

namespace nslab::diag {

// INVALID_ARGUMENT for a state or protocol ListSockets would refuse too. The stack keeps no UDP
// socket table: protocol "udp" lists nothing.
absl::StatusOr<nslab::v1::SocketsResponse> SocketsFromUstack(const nslab::v1::UstackStats& stats,
                                                             const SocketFilter& filter);

}  // namespace nslab::diag
