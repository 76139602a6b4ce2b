#pragma once

// The node's stats and NIC settings as the UstackControl messages carry them.

#include <vector>

#include "absl/status/statusor.h"
#include "daemon/ustack/apps/fault.h"
#include "daemon/ustack/driver/nic_settings.h"
#include "daemon/ustack/node/node.h"
#include "daemon/ustack/tcp/socket_info.h"
#include "nslab/v1/ustack.pb.h"

namespace nslab::ustack::control {

void to_proto(const driver::NicSettings& settings, v1::UstackNicSettings* out);
void to_proto(const node::LatencyHistogram& histogram, v1::UstackLatencyHistogram* out);
void to_proto(const node::NodeStats& stats, v1::UstackStats* out);
void to_proto(const tcp::TcpSocketInfo& socket, v1::UstackTcpSocket* out);
driver::NicSettingsUpdate from_proto(const v1::UstackControlServiceSetNicRequest& request);
void to_proto(const std::vector<node::PortFault>& faults,
              google::protobuf::RepeatedPtrField<v1::UstackFault>* out);
// The port and fault a SetFault request names; INVALID_ARGUMENT saying what to fix: port 0 or
// over 65535, an unknown mode, reset-after without bytes, slow-read without rate, a bytes or rate
// the mode does not take.
absl::StatusOr<node::PortFault> from_proto(const v1::UstackFault& fault);

}  // namespace nslab::ustack::control
