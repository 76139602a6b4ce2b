#pragma once

#include <string>

#include "nslab/v1/diag.pb.h"

namespace nslab::client {

// The human layouts of `nslab diag`, shaped like the tools people know.
std::string FormatSockets(const nslab::v1::SocketsResponse& list, bool memory);  // ss -tanpi
std::string FormatSocketSummary(const nslab::v1::SocketsResponse& list);         // uniq -c
std::string FormatRoute(const nslab::v1::RouteGetResponse& route);               // ip route get
std::string FormatRoutingTables(const nslab::v1::RoutesResponse& tables);    // ip rule; ip route
std::string FormatFirewall(const nslab::v1::Firewall& firewall);             // iptables -L -v
std::string FormatConntrack(const nslab::v1::ConntrackResponse& table);      // conntrack -L
std::string FormatQdiscs(const nslab::v1::QdiscsResponse& list);             // tc -s qdisc
std::string FormatLinks(const nslab::v1::LinksResponse& list, bool driver);  // ip -s -s link
std::string FormatNeighbours(const nslab::v1::NeighboursResponse& list);     // ip neigh
std::string FormatTrace(const nslab::v1::TraceResponse& report);

// Counters that changed between two snapshots of the same lab.
nslab::v1::SnapshotDiff DiffSnapshots(const nslab::v1::SnapshotResponse& before,
                                      const nslab::v1::SnapshotResponse& after);
std::string FormatSnapshotDiff(const nslab::v1::SnapshotDiff& diff);
std::string FormatSnapshot(const nslab::v1::SnapshotResponse& snapshot);

}  // namespace nslab::client
