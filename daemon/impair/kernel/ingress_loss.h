#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace nslab::impair::kernel {

// Loss without netem (DESIGN.md, "Impairments: two backends, one model"): an nftables
// `numgen random` drop in the netdev ingress hook of the *receiving* interface. There it is
// silent, as a lossy wire is; the same drop in the sender's output path would hand the
// sending socket EPERM. `numgen random` takes no seed: these losses do not replay.
//
// Each receiving interface gets a table of its own, so the ruleset is replaced and removed
// without touching anyone else's rules. The texts below are nft commands for
// nft::RunCommands(<receiving namespace>, text), which applies them as one transaction.

// nft identifiers after an "nslab_..." prefix may hold letters, digits, '_', '.', '-' and '/';
// Linux allows more in interface names, but no lab interface needs them, and a name that is
// refused is better than a table name that collides or needs escaping. INVALID_ARGUMENT
// naming the interface otherwise.
absl::Status CheckNftIfname(absl::string_view ifname);

// "nslab_impair_<ifname>".
std::string IngressLossTableName(absl::string_view ifname);

// Installs, or replaces, the drop of `loss_percent` (0 < loss_percent <= 100, resolution
// 1 in 10^6) of the frames arriving on `ifname`, ARP included, as on a wire. The chain hooks
// at priority -500, ahead of user ingress chains, so those only see the frames that
// "arrived"; its rule carries a counter of the frames dropped.
// INVALID_ARGUMENT for a loss out of range or an interface name nft cannot carry.
absl::StatusOr<std::string> RenderIngressLossRuleset(absl::string_view ifname, double loss_percent);

// Removes that table; succeeds whether or not it exists.
absl::StatusOr<std::string> RenderIngressLossRemoval(absl::string_view ifname);

}  // namespace nslab::impair::kernel
