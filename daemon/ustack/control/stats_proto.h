#pragma once

// The node's stats and NIC settings as the UstackControl messages carry them.

#include "daemon/ustack/driver/nic_settings.h"
#include "daemon/ustack/node/node.h"
#include "daemon/ustack/tcp/socket_info.h"
#include "nslab/v1/ustack.pb.h"

namespace nslab::ustack::control {

void to_proto(const driver::NicSettings& settings, v1::UstackNicSettings* out);
void to_proto(const node::NodeStats& stats, v1::UstackStats* out);
void to_proto(const tcp::TcpSocketInfo& socket, v1::UstackTcpSocket* out);
driver::NicSettingsUpdate from_proto(const v1::UstackControlServiceSetNicRequest& request);

}  // namespace nslab::ustack::control
