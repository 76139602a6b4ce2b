#include "daemon/ustack/tcp/options.h"

#include <algorithm>

namespace nslab::ustack::tcp {

std::uint16_t mss_for_mtu(std::size_t mtu) {
  if (mtu <= kIpv4TcpHeadersLen + kDefaultMss) {
    return kDefaultMss;
  }
  return static_cast<std::uint16_t>(std::min<std::size_t>(mtu - kIpv4TcpHeadersLen, 0xffff));
}

std::uint8_t window_shift_for(std::size_t buffer_size) {
  std::uint8_t shift = 0;
  while (shift < kMaxWindowShift && (buffer_size >> shift) > 0xffff) {
    ++shift;
  }
  return shift;
}

void add_syn_options(const OfferedOptions& offer, packet::TcpRepr& syn) {
  syn.max_segment_size = offer.mss;
  syn.window_scale = offer.window_shift;
  syn.sack_permitted = offer.sack_permitted;
  if (!offer.timestamps) {
    syn.timestamps.reset();
  }
}

OfferedOptions offered_by(const packet::TcpRepr& syn) {
  OfferedOptions offer;
  if (syn.max_segment_size && *syn.max_segment_size > 0) {
    offer.mss = *syn.max_segment_size;
  }
  if (syn.window_scale) {
    // RFC 7323 2.3: a larger shift is logged and used as 14.
    offer.window_shift = std::min(*syn.window_scale, kMaxWindowShift);
  }
  offer.sack_permitted = syn.sack_permitted;
  offer.timestamps = syn.timestamps.has_value();
  return offer;
}

OfferedOptions answer_to(const OfferedOptions& ours, const OfferedOptions& theirs) {
  OfferedOptions answer = ours;
  if (!theirs.window_shift) {
    answer.window_shift.reset();
  }
  answer.sack_permitted = ours.sack_permitted && theirs.sack_permitted;
  answer.timestamps = ours.timestamps && theirs.timestamps;
  return answer;
}

NegotiatedOptions negotiate(const OfferedOptions& ours, const OfferedOptions& theirs) {
  NegotiatedOptions result;
  result.send_mss = std::min(ours.mss, theirs.mss);
  if (ours.window_shift && theirs.window_shift) {
    result.send_window_shift = *theirs.window_shift;
    result.receive_window_shift = *ours.window_shift;
  }
  result.timestamps = ours.timestamps && theirs.timestamps;
  result.sack = ours.sack_permitted && theirs.sack_permitted;
  return result;
}

}  // namespace nslab::ustack::tcp
