// FlowMatcher::Matches: a compiled match against the bytes of one frame. Frames come from
// namespaces nslab does not control: nothing here reads past the frame, and nothing allocates.
#include <cstddef>
#include <cstdint>
#include <span>

#include "daemon/impair/flow_match.h"
#include "daemon/impair/ip_headers.h"

namespace nslab::impair {

using Bytes = std::span<const std::byte>;

bool FlowMatcher::Prefix::Holds(const std::byte* address, size_t length) const {
  if (any) {
    return true;
  }
  for (size_t i = 0; i < length; ++i) {
    if ((static_cast<uint8_t>(address[i]) & mask[i]) != network[i]) {
      return false;
    }
  }
  return true;
}

bool FlowMatcher::Matches(Bytes frame) const {
  if (matches_everything_) {
    return true;
  }
  const IpHeaders headers = ReadIpHeaders(frame);
  if (headers.ip_version == 0) {
    return false;
  }
  if (ip_version_ != 0 && headers.ip_version != ip_version_) {
    return false;
  }
  if (protocol_ >= 0 && headers.protocol != protocol_) {
    return false;
  }
  const size_t address_length = headers.ip_version == 4 ? 4 : 16;
  if (!source_.Holds(headers.source, address_length) ||
      !destination_.Holds(headers.destination, address_length)) {
    return false;
  }
  if (source_port_.any && destination_port_.any) {
    return true;
  }
  if (headers.transport.size() < 4) {  // a fragment, or a header cut short
    return false;
  }
  return source_port_.Holds(Load16(headers.transport, 0)) &&
         destination_port_.Holds(Load16(headers.transport, 2));
}

}  // namespace nslab::impair
