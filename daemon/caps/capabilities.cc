#include "daemon/caps/capabilities.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "daemon/caps/tap_probe.h"
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
    feature->set_detail(absl::StrCat(status.message(), hint.empty() ? "" : "; ", hint));
  }
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
    Record(out, "tbf", netlink::ProbeRootQdisc(*sock, "probe0", "tbf"));
    Record(out, "htb", netlink::ProbeRootQdisc(*sock, "probe0", "htb"));
  }
  auto nft = nft::RunCommands(fd->get(), "add table inet nslab_probe\n");
  Record(out, "nftables", nft.status());
  if (nft.ok()) {
    Record(out, "nftables_numgen",
           nft::RunCommands(fd->get(),
                            "add chain inet nslab_probe c\n"
                            "add rule inet nslab_probe c numgen random mod 100 < 10 drop\n")
               .status());
    Record(out, "nftables_netdev",
           nft::RunCommands(fd->get(),
                            "add table netdev nslab_probe\n"
                            "add chain netdev nslab_probe in { type filter hook ingress device "
                            "probe1 priority 0; }\n")
               .status());
  }
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
