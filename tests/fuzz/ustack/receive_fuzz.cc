// Arbitrary frames into the stack's receive path (Ethernet, ARP, IPv4, ICMP, UDP with the echo
// and discard apps bound), as a neighbour on the link could send them. Input: one flag byte
// (bit 0: the NIC vouched for checksums, bit 1: the link offloads checksums), then frames, each
// a 2-byte big-endian length, one byte of seconds to let pass first, and the bytes. Whatever the
// stack sends back must be a well-formed frame: an ARP packet, or IPv4 with a valid header
// checksum. The seeds in receive_corpus/ are frames a Linux neighbour sends.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "daemon/ustack/apps/udp_discard.h"
#include "daemon/ustack/apps/udp_echo.h"
#include "daemon/ustack/net/stack.h"
#include "daemon/ustack/packet/arp.h"
#include "daemon/ustack/packet/ethernet.h"
#include "daemon/ustack/packet/ipv4.h"

namespace nslab::ustack::net {
namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "stack sent a bad frame: %s\n", what);
    std::abort();
  }
}

class CheckingLink final : public Link {
 public:
  bool send(std::size_t len, std::optional<LinkChecksumOffload> checksum,
            absl::FunctionRef<void(packet::MutableBytes frame)> fill) override {
    check(checksum.has_value() == false || offload, "offload without the link's consent");
    std::vector<std::byte> frame(len);  // exactly sized: ASan sees any write past it
    fill(frame);
    const auto ethernet = packet::EthernetView<packet::ConstBytes>::checked(frame);
    check(ethernet.has_value(), "short Ethernet");
    if (ethernet->ethertype() == packet::ethertype::kArp) {
      const auto arp = packet::ArpView<packet::ConstBytes>::checked(ethernet->payload());
      check(arp && packet::ArpRepr::parse(*arp), "ARP");
    } else {
      check(ethernet->ethertype() == packet::ethertype::kIpv4, "ethertype");
      const auto ip = packet::Ipv4View<packet::ConstBytes>::checked(ethernet->payload());
      check(ip && packet::Ipv4Repr::parse(*ip), "IPv4 header");
      check(ip->total_len() == ethernet->payload().size(), "IPv4 length");
    }
    return true;
  }
  bool checksum_offload() const override { return offload; }
  bool offload = false;
};

}  // namespace
}  // namespace nslab::ustack::net

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nslab::ustack;
  if (size < 1) {
    return 0;
  }
  net::CheckingLink link;
  link.offload = (data[0] & 2) != 0;
  const bool trusted = (data[0] & 1) != 0;
  net::InterfaceConfig config;
  config.mac = packet::MacAddress({0x02, 0, 0, 0, 0, 0x02});
  config.addresses = {net::Ipv4Cidr{packet::Ipv4Address(10, 0, 0, 2), 24}};
  net::Stack stack(config, link);
  (void)stack.add_route(net::Ipv4Cidr{{}, 0}, packet::Ipv4Address(10, 0, 0, 1));
  (void)apps::start_udp_echo(stack.udp(), 7);
  (void)apps::start_udp_discard(stack.udp(), 9);
  net::Instant now = net::Instant() + std::chrono::hours(1);
  stack.start(now);
  std::size_t at = 1;
  while (at + 3 <= size) {
    const std::size_t len = std::size_t{data[at]} << 8 | data[at + 1];
    now += std::chrono::seconds(data[at + 2]);
    at += 3;
    const std::size_t take = std::min(len, size - at);
    // An exactly sized copy, so that ASan catches a read past the frame.
    const std::vector<std::byte> frame(reinterpret_cast<const std::byte*>(data + at),
                                       reinterpret_cast<const std::byte*>(data + at + take));
    at += take;
    stack.poll(now);
    stack.receive(frame, trusted, now);
  }
  stack.poll(now + std::chrono::minutes(5));
  (void)stack.stats();
  return 0;
}
