// Arbitrary bytes as a TAP would hand them over: a virtio_net_hdr (both layouts) and an
// Ethernet frame, walked through every view and Repr. Whatever a Repr accepts must emit into a
// buffer of exactly buffer_len() and parse back to the same Repr. Checksums are repaired in a
// copy before parsing so that the search reaches past them; the unrepaired bytes go through the
// same parsers first. The seeds in corpus/ are real frames behind a 10-byte header.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "daemon/tap/vnet_header.h"
#include "daemon/ustack/packet/arp.h"
#include "daemon/ustack/packet/ethernet.h"
#include "daemon/ustack/packet/icmp.h"
#include "daemon/ustack/packet/ipv4.h"
#include "daemon/ustack/packet/tcp.h"
#include "daemon/ustack/packet/udp.h"

namespace nslab::ustack::packet {
namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "inconsistent: %s\n", what);
    std::abort();
  }
}

// Exactly sized, so that AddressSanitizer sees any access past the end.
std::vector<std::byte> copy_of(ConstBytes bytes) { return {bytes.begin(), bytes.end()}; }

void walk_tcp(ConstBytes segment, Ipv4Address source, Ipv4Address destination) {
  const auto view = TcpView<ConstBytes>::checked(segment);
  if (!view) {
    return;
  }
  TcpOptionReader reader(view->options());
  while (reader.next()) {
  }
  const bool valid = view->verify_checksum(source, destination);
  const auto strict = TcpRepr::parse(*view, source, destination);
  const auto trusting = TcpRepr::parse(*view, source, destination, Checksum::kOffload);
  check(strict.has_value() == (valid && trusting.has_value()), "tcp checksum modes");
  if (!trusting) {
    check(reader.malformed() || view->source_port() == 0 || view->destination_port() == 0,
          "tcp refused well-formed options");
    return;
  }
  for (const Checksum mode : {Checksum::kCompute, Checksum::kOffload}) {
    std::vector<std::byte> out(trusting->buffer_len());
    trusting->emit(out, source, destination, mode);
    const auto again_view = TcpView<ConstBytes>::checked(out);
    check(again_view.has_value(), "tcp emit not viewable");
    const auto again = TcpRepr::parse(*again_view, source, destination, mode);
    check(again.has_value() && *again == *trusting, "tcp round trip");
  }
}

void walk_udp(ConstBytes datagram, Ipv4Address source, Ipv4Address destination) {
  const auto view = UdpView<ConstBytes>::checked(datagram);
  if (!view) {
    return;
  }
  const bool valid = view->verify_checksum(source, destination);
  const auto strict = UdpRepr::parse(*view, source, destination);
  const auto trusting = UdpRepr::parse(*view, source, destination, Checksum::kOffload);
  check(strict.has_value() == (valid && trusting.has_value()), "udp checksum modes");
  if (!trusting) {
    return;
  }
  for (const Checksum mode : {Checksum::kCompute, Checksum::kOffload}) {
    std::vector<std::byte> out(trusting->buffer_len());
    trusting->emit(out, source, destination, mode);
    const auto again_view = UdpView<ConstBytes>::checked(out);
    check(again_view.has_value(), "udp emit not viewable");
    const auto again = UdpRepr::parse(*again_view, source, destination, mode);
    check(again.has_value() && *again == *trusting, "udp round trip");
  }
}

void walk_icmp(ConstBytes message) {
  const auto view = IcmpView<ConstBytes>::checked(message);
  if (!view) {
    return;
  }
  (void)IcmpRepr::parse(*view);
  std::vector<std::byte> fixed = copy_of(message);
  auto fixed_view = *IcmpView<MutableBytes>::checked(fixed);
  fixed_view.fill_checksum();
  const auto repr = IcmpRepr::parse(fixed_view);
  if (!repr) {
    return;
  }
  std::vector<std::byte> out(repr->buffer_len());
  repr->emit(out);
  check(std::memcmp(out.data(), fixed.data(), out.size()) == 0 ||
            repr->kind == IcmpRepr::Kind::kDestinationUnreachable ||
            repr->kind == IcmpRepr::Kind::kTimeExceeded,
        "icmp echo not byte-identical");
  const auto again = IcmpRepr::parse(*IcmpView<ConstBytes>::checked(out));
  check(again.has_value() && *again == *repr, "icmp round trip");
  // Errors quote the offending datagram's header.
  if (repr->kind != IcmpRepr::Kind::kEchoRequest && repr->kind != IcmpRepr::Kind::kEchoReply) {
    if (const auto quoted = Ipv4View<ConstBytes>::checked(repr->data)) {
      (void)quoted->verify_checksum();
      (void)quoted->payload();
    }
  }
}

void walk_ipv4(ConstBytes packet) {
  const auto view = Ipv4View<ConstBytes>::checked(packet);
  if (!view) {
    return;
  }
  (void)view->options();
  (void)Ipv4Repr::parse(*view);
  std::vector<std::byte> fixed = copy_of(packet);
  auto fixed_view = *Ipv4View<MutableBytes>::checked(fixed);
  fixed_view.fill_checksum();
  const auto repr = Ipv4Repr::parse(fixed_view);
  if (!repr) {
    check(fixed_view.version() != 4, "ipv4 refused a repaired header");
    return;
  }
  std::vector<std::byte> out(repr->buffer_len() + repr->payload_len);
  repr->emit(out);
  const ConstBytes payload = fixed_view.payload();
  std::memcpy(out.data() + repr->buffer_len(), payload.data(), payload.size());
  if (fixed_view.header_len() == Ipv4View<ConstBytes>::kMinHeaderLen &&
      !fixed_view.reserved_flag()) {
    check(std::memcmp(out.data(), fixed.data(), repr->buffer_len()) == 0,
          "ipv4 header not byte-identical");
  }
  const auto again_view = Ipv4View<ConstBytes>::checked(out);
  check(again_view.has_value(), "ipv4 emit not viewable");
  const auto again = Ipv4Repr::parse(*again_view);
  check(again.has_value() && *again == *repr, "ipv4 round trip");
  if (repr->more_fragments || repr->fragment_offset != 0) {
    return;
  }
  switch (repr->protocol) {
    case ip_protocol::kIcmp:
      walk_icmp(payload);
      break;
    case ip_protocol::kUdp:
      walk_udp(payload, repr->source, repr->destination);
      break;
    case ip_protocol::kTcp:
      walk_tcp(payload, repr->source, repr->destination);
      break;
    default:
      break;
  }
}

void walk_arp(ConstBytes packet) {
  const auto view = ArpView<ConstBytes>::checked(packet);
  if (!view) {
    return;
  }
  (void)view->target_protocol_address();
  const auto repr = ArpRepr::parse(*view);
  if (!repr) {
    return;
  }
  std::vector<std::byte> out(repr->buffer_len());
  repr->emit(out);
  check(std::memcmp(out.data(), packet.data(), out.size()) == 0, "arp not byte-identical");
  const auto again = ArpRepr::parse(*ArpView<ConstBytes>::checked(out));
  check(again.has_value() && *again == *repr, "arp round trip");
}

void walk_ethernet(ConstBytes frame) {
  const auto view = EthernetView<ConstBytes>::checked(frame);
  if (!view) {
    return;
  }
  const auto repr = EthernetRepr::parse(*view);
  check(repr.has_value(), "ethernet repr");
  std::vector<std::byte> out(repr->buffer_len());
  repr->emit(out);
  check(std::memcmp(out.data(), frame.data(), out.size()) == 0, "ethernet not byte-identical");
  switch (view->ethertype()) {
    case ethertype::kArp:
      walk_arp(view->payload());
      break;
    case ethertype::kIpv4:
      walk_ipv4(view->payload());
      break;
    default:
      break;
  }
}

void walk(ConstBytes input, tap::VnetHeaderSize size) {
  const auto view = tap::VnetHeaderView<ConstBytes>::Checked(input, size);
  if (!view) {
    return;
  }
  if (const auto repr = tap::VnetHeaderRepr::Parse(*view)) {
    (void)repr->ChecksumInBounds(view->payload().size());
    std::vector<std::byte> out(repr->buffer_len());
    repr->Emit(out);
    check(std::memcmp(out.data(), input.data(), out.size()) == 0, "virtio_net_hdr not identical");
    const auto again =
        tap::VnetHeaderRepr::Parse(*tap::VnetHeaderView<ConstBytes>::Checked(out, size));
    check(again.has_value() && *again == *repr, "virtio_net_hdr round trip");
  }
  // The frame is walked whatever the header says: the stack drops on a bad header, but the
  // parsers below must hold up on their own.
  walk_ethernet(view->payload());
}

}  // namespace
}  // namespace nslab::ustack::packet

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using nslab::tap::VnetHeaderSize;
  // An exactly sized copy: libFuzzer's own buffer may have slack after `size`.
  const std::vector<std::byte> input(reinterpret_cast<const std::byte*>(data),
                                     reinterpret_cast<const std::byte*>(data) + size);
  nslab::ustack::packet::walk(input, VnetHeaderSize::kBasic);
  nslab::ustack::packet::walk(input, VnetHeaderSize::kWithNumBuffers);
  return 0;
}
