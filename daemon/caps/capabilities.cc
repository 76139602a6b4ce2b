#include "daemon/caps/capabilities.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "daemon/caps/tap_probe.h"
#include "daemon/impair/kernel/kernel_impairment.h"
#include "daemon/impair/kernel_support.h"
#include "daemon/netlink/links.h"
#include "daemon/netlink/qdiscs.h"
#include "daemon/netlink/route_socket.h"
#include "daemon/netns/netns.h"
#include "daemon/nft/nft_context.h"

namespace nslab::caps {
namespace {

void Record(nslab::v1::Capabilities& out, const char* name, const absl::Status& status,
            const std::string& hint = "") {
  auto* feature = out.add_features();
  feature->set_name(name);
  feature->set_available(status.ok());
  if (!status.ok()) {
    // The first line: nft follows its message with the command and a caret line.
    const absl::string_view message = status.message();
    feature->set_detail(
        absl::StrCat(message.substr(0, message.find('\n')), hint.empty() ? "" : "; ", hint));
  }
}

// An nft probe's answer, said in a table cell: the kernel's refusal without nft's wording.
absl::Status Short(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kFailedPrecondition) {
    return status;
  }
  return absl::FailedPreconditionError("the kernel refused it (Operation not supported)");
}

void ProbeInside(const std::string& ns, nslab::v1::Capabilities& out) {
  auto fd = netns::Open(ns);
  if (!fd.ok()) {
    Record(out, "netns", fd.status());
    return;
  }
  auto sock = netlink::RouteSocket::OpenIn(fd->get());
  if (!sock.ok()) {
    Record(out, "netns", sock.status());
    return;
  }
  Record(out, "netns", absl::OkStatus());
  auto veth =
      netlink::CreateVethPair(*sock, {"probe0", fd->get(), "", 0}, {"probe1", fd->get(), "", 0});
  Record(out, "veth", veth);
  Record(out, "bridge", netlink::CreateBridge(*sock, "probebr0", {}));
  Record(out, "tun", netns::RunIn(fd->get(), ProbeTap));
  Record(out, "vxlan", netlink::CreateSimpleLink(*sock, "probevx0", "vxlan"));
  Record(out, "ifb", netlink::CreateSimpleLink(*sock, "probeifb0", "ifb"));
  if (veth.ok()) {
    Record(out, "netem", netlink::ProbeRootQdisc(*sock, "probe0", "netem"),
           "kernel has no sch_netem: delay, jitter, duplicate, reorder and corrupt need "
           "mode: wire");
    if (Has(out, "netem")) {
      Record(out, "netem_seed", impair::kernel::ProbeNetemSeed(*sock, "probe0"));
    } else {
      Record(out, "netem_seed",
             absl::FailedPreconditionError("no sch_netem: kernel-backend fates are not seeded"));
    }
    Record(out, "tbf", netlink::ProbeRootQdisc(*sock, "probe0", "tbf"));
    Record(out, "htb", netlink::ProbeRootQdisc(*sock, "probe0", "htb"));
  }
  // Each family on its own: a kernel may have nf_tables with some families and not others
  // (Debian's user-mode-linux has bridge alone).
  Record(out, "nftables",
         Short(nft::RunCommands(fd->get(), "add table inet nslab_probe\n").status()),
         "firewalls, partitions and nft traces need nftables' inet family");
  const absl::Status netdev =
      veth.ok() ? nft::RunCommands(fd->get(),
                                   "add table netdev nslab_probe\n"
                                   "add chain netdev nslab_probe in { type filter hook ingress "
                                   "device probe1 priority 0; }\n")
                      .status()
                : absl::FailedPreconditionError("needs a veth to hook");
  Record(out, "nftables_netdev", Short(netdev),
         "loss on a veth without sch_netem needs nftables' netdev family");
  Record(out, "nftables_numgen",
         netdev.ok() ? Short(nft::RunCommands(fd->get(),
                                              "add rule netdev nslab_probe in numgen random mod "
                                              "100 < 10 drop\n")
                                 .status())
                     : absl::FailedPreconditionError("probed in a netdev table, which is missing"));
  // Linux 5.16's egress hook, with the statement the flow classifier needs.
  Record(out, "nftables_egress",
         netdev.ok() ? Short(nft::RunCommands(fd->get(),
                                              "add chain netdev nslab_probe out { type filter "
                                              "hook egress device probe0 priority 0; }\n"
                                              "add rule netdev nslab_probe out meta priority set "
                                              "1:1\n")
                                 .status())
                     : absl::FailedPreconditionError("probed in a netdev table, which is missing"),
         "flows beside a rate on a veth need nftables' netdev egress hook (Linux 5.16)");
}

}  // namespace

nslab::v1::Capabilities ProbeCapabilities() {
  nslab::v1::Capabilities out;
  utsname uts{};
  if (::uname(&uts) == 0) {
    out.set_kernel(uts.release);
  }
  const std::string ns = absl::StrCat("nslab-probe-", ::getpid());
  if (auto status = netns::Create(ns); !status.ok()) {
    Record(out, "netns", status);
    return out;
  }
  ProbeInside(ns, out);
  (void)netns::Delete(ns);
  const bool tun = Has(out, "tun");
  for (const auto& parameter :
       impair::KernelSupportByParameter(Has(out, "netem"), Has(out, "tbf"))) {
    auto* row = out.add_impairments();
    row->set_parameter(std::string(parameter.parameter));
    row->set_veth(parameter.kernel);
    row->set_veth_how(std::string(parameter.how));
    if (parameter.how.starts_with("nftables") &&
        !(Has(out, "nftables_numgen") && Has(out, "nftables_netdev"))) {
      row->set_veth(false);
      row->set_veth_how("needs nftables with numgen and netdev hooks (not available)");
    }
    row->set_wire(tun);
  }
  return out;
}

bool Has(const nslab::v1::Capabilities& capabilities, const char* name) {
  for (const auto& feature : capabilities.features()) {
    if (feature.name() == name) {
      return feature.available();
    }
  }
  return false;
}

}  // namespace nslab::caps
