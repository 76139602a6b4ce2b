#pragma once

// The sender's record of what the peer reported holding beyond SND.UNA (RFC 2018 SACK blocks),
// kept as sorted, disjoint ranges. Loss recovery asks it for the holes: bytes below the highest
// SACKed byte that the peer has not reported, which are what RFC 6675's NextSeg() retransmits.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "daemon/ustack/packet/tcp.h"
#include "daemon/ustack/tcp/seq.h"

namespace nslab::ustack::tcp {

class SackScoreboard {
 public:
  struct Range {
    SeqNumber begin;
    SeqNumber end;  // one past the last byte
  };

  // Records the blocks of an ACK. Blocks outside (snd_una, snd_max], empty or inverted ones (a
  // peer's mistake or a forgery) are ignored.
  void add(std::span<const packet::TcpSackBlock> blocks, SeqNumber snd_una, SeqNumber snd_max);
  // SND.UNA moved: what lies below it no longer matters.
  void advance(SeqNumber snd_una);
  void clear() { ranges_.clear(); }

  // The first hole at or after `from`: its start and length, up to the highest SACKed byte.
  std::optional<Range> next_hole(SeqNumber from) const;
  bool empty() const { return ranges_.empty(); }
  std::uint32_t sacked_bytes() const;
  const std::vector<Range>& ranges() const { return ranges_; }

 private:
  std::vector<Range> ranges_;
};

}  // namespace nslab::ustack::tcp
