#include "daemon/lab/announce.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/if_ether.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "daemon/common/errno_status.h"
#include "daemon/common/fd.h"
#include "daemon/netns/netns.h"

namespace nslab::lab {

absl::Status AnnounceIpv4(int netns_fd, const std::string& interface,
                          const std::vector<std::string>& cidrs) {
  std::vector<in_addr> addresses;
  for (const auto& cidr : cidrs) {
    in_addr address{};
    if (::inet_pton(AF_INET, cidr.substr(0, cidr.find('/')).c_str(), &address) == 1) {
      addresses.push_back(address);
    }
  }
  if (addresses.empty()) {
    return absl::OkStatus();
  }
  return netns::RunIn(netns_fd, [&]() -> absl::Status {
    UniqueFd sock(::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP)));
    if (!sock.valid()) {
      return ErrnoStatus("announce: open a packet socket", errno);
    }
    ifreq request{};
    std::strncpy(request.ifr_name, interface.c_str(), IFNAMSIZ - 1);
    if (::ioctl(sock.get(), SIOCGIFHWADDR, &request) != 0) {
      return ErrnoStatus(absl::StrCat("announce: read the MAC of ", interface), errno);
    }
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_protocol = htons(ETH_P_ARP);
    to.sll_ifindex = static_cast<int>(::if_nametoindex(interface.c_str()));
    to.sll_halen = ETH_ALEN;
    std::memset(to.sll_addr, 0xff, ETH_ALEN);
    for (const in_addr& address : addresses) {
      ether_arp arp{};
      arp.arp_hrd = htons(ARPHRD_ETHER);
      arp.arp_pro = htons(ETH_P_IP);
      arp.arp_hln = ETH_ALEN;
      arp.arp_pln = 4;
      arp.arp_op = htons(ARPOP_REQUEST);
      std::memcpy(arp.arp_sha, request.ifr_hwaddr.sa_data, ETH_ALEN);
      std::memcpy(arp.arp_spa, &address, 4);
      std::memcpy(arp.arp_tpa, &address, 4);  // sender = target: an announcement
      if (::sendto(sock.get(), &arp, sizeof arp, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) !=
          static_cast<ssize_t>(sizeof arp)) {
        return ErrnoStatus(absl::StrCat("announce: send on ", interface), errno);
      }
    }
    return absl::OkStatus();
  });
}

}  // namespace nslab::lab
