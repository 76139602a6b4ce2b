#include "daemon/lab/link_impairment.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "daemon/common/status_macros.h"
#include "daemon/impair/flow_match.h"
#include "daemon/impair/kernel/ingress_loss.h"
#include "daemon/impair/kernel/kernel_impairment.h"
#include "daemon/impair/rng.h"
#include "daemon/lab/lab_wires.h"
#include "daemon/netlink/route_socket.h"
#include "daemon/netns/netns.h"
#include "daemon/nft/nft_context.h"
#include "daemon/topology/names.h"

namespace nslab::lab {

std::array<LinkDirection, 2> DirectionsOf(const std::string& lab, const nslab::v1::Link& link,
                                          uint64_t lab_seed) {
  const std::string a_ns = topology::NamespaceOf(lab, link.a().node());
  const std::string b_ns = topology::NamespaceOf(lab, link.b().node());
  const uint32_t mtu = link.mtu() == 0 ? 1500 : link.mtu();
  const std::string label = LinkLabel(link);
  return {LinkDirection{a_ns, link.a().interface(), b_ns, link.b().interface(), mtu,
                        impair::SeedFor(lab_seed, label, impair::Direction::kAToB)},
          LinkDirection{b_ns, link.b().interface(), a_ns, link.a().interface(), mtu,
                        impair::SeedFor(lab_seed, label, impair::Direction::kBToA)}};
}

std::array<nslab::v1::Impairment, 2> RequestedImpairments(const nslab::v1::Link& link) {
  return {link.has_a_to_b() ? link.a_to_b() : link.impair(),
          link.has_b_to_a() ? link.b_to_a() : link.impair()};
}

std::array<std::vector<nslab::v1::FlowImpairmentState>, 2> RequestedFlows(
    const nslab::v1::Link& link) {
  std::array<std::vector<nslab::v1::FlowImpairmentState>, 2> flows;
  for (const nslab::v1::FlowImpairment& flow : link.flows()) {
    const std::array<const nslab::v1::Impairment*, 2> wanted = {
        flow.has_a_to_b() ? &flow.a_to_b() : (flow.has_impair() ? &flow.impair() : nullptr),
        flow.has_b_to_a() ? &flow.b_to_a() : (flow.has_impair() ? &flow.impair() : nullptr)};
    for (int direction = 0; direction < 2; ++direction) {
      if (wanted[direction] == nullptr) {
        continue;
      }
      nslab::v1::FlowImpairmentState state;
      *state.mutable_match() = flow.match();
      state.set_match_text(impair::FlowMatchText(flow.match()));
      *state.mutable_impairment() = *wanted[direction];
      flows[direction].push_back(std::move(state));
    }
  }
  return flows;
}

absl::Status ApplyLinkDirection(const LinkDirection& direction,
                                const nslab::v1::Impairment& impairment,
                                const impair::kernel::KernelFeatures& features) {
  const bool clear = impairment.ByteSizeLong() == 0;
  double ingress_loss = 0;
  if (!clear) {
    NSLAB_ASSIGN_OR_RETURN(
        auto plan, impair::kernel::PlanKernelImpairment(impairment, features, direction.mtu));
    ingress_loss = plan.ingress_loss_percent;
  }
  NSLAB_ASSIGN_OR_RETURN(auto send_fd, netns::Open(direction.send_netns));
  NSLAB_ASSIGN_OR_RETURN(auto send_sock, netlink::RouteSocket::OpenIn(send_fd.get()));
  if (clear) {
    NSLAB_RETURN_IF_ERROR(
        impair::kernel::ClearKernelImpairment(send_sock, direction.send_interface));
  } else {
    NSLAB_RETURN_IF_ERROR(impair::kernel::ApplyKernelImpairment(
        send_sock, direction.send_interface, impairment, features, direction.fate_seed));
  }
  // The receiving side's loss table is set when this plan needs it and removed when an earlier
  // plan left one; otherwise nftables is not touched at all: a kernel with netem needs none,
  // and may have no netdev family to ask.
  NSLAB_ASSIGN_OR_RETURN(auto receive_fd, netns::Open(direction.receive_netns));
  if (ingress_loss > 0) {
    NSLAB_ASSIGN_OR_RETURN(auto ruleset, impair::kernel::RenderIngressLossRuleset(
                                             direction.receive_interface, ingress_loss));
    return nft::RunCommands(receive_fd.get(), ruleset).status();
  }
  NSLAB_ASSIGN_OR_RETURN(auto removal,
                         impair::kernel::RenderIngressLossRemoval(direction.receive_interface));
  // Listing one family's tables is a dump that a kernel without that family answers empty.
  NSLAB_ASSIGN_OR_RETURN(std::string tables,
                         nft::RunCommands(receive_fd.get(), "list tables netdev\n"));
  const std::string table_line = absl::StrCat(
      "table netdev ", impair::kernel::IngressLossTableName(direction.receive_interface), "\n");
  if (!absl::StrContains(absl::StrCat("\n", tables), absl::StrCat("\n", table_line))) {
    return absl::OkStatus();
  }
  return nft::RunCommands(receive_fd.get(), removal).status();
}

}  // namespace nslab::lab
