#include "daemon/ustack/tcp/sack_scoreboard.h"

#include <algorithm>

namespace nslab::ustack::tcp {

void SackScoreboard::add(std::span<const packet::TcpSackBlock> blocks, SeqNumber snd_una,
                         SeqNumber snd_max) {
  for (const packet::TcpSackBlock& block : blocks) {
    const SeqNumber begin(block.left);
    const SeqNumber end(block.right);
    if (!(begin < end) || !(snd_una < end) || snd_max < end) {
      continue;
    }
    Range added{seq_max(begin, snd_una), end};
    // Merge with every range it touches, keeping the order.
    auto it = ranges_.begin();
    while (it != ranges_.end() && it->end < added.begin) {
      ++it;
    }
    while (it != ranges_.end() && it->begin <= added.end) {
      added.begin = seq_min(added.begin, it->begin);
      added.end = seq_max(added.end, it->end);
      it = ranges_.erase(it);
    }
    ranges_.insert(it, added);
  }
}

void SackScoreboard::advance(SeqNumber snd_una) {
  while (!ranges_.empty() && ranges_.front().end <= snd_una) {
    ranges_.erase(ranges_.begin());
  }
  if (!ranges_.empty() && ranges_.front().begin < snd_una) {
    ranges_.front().begin = snd_una;
  }
}

std::optional<SackScoreboard::Range> SackScoreboard::next_hole(SeqNumber from) const {
  SeqNumber hole_begin = from;
  for (const Range& range : ranges_) {
    if (range.end <= hole_begin) {
      continue;
    }
    if (hole_begin < range.begin) {
      return Range{hole_begin, range.begin};
    }
    hole_begin = range.end;  // `from` lies inside this range: the hole starts after it
  }
  return std::nullopt;
}

std::uint32_t SackScoreboard::sacked_bytes() const {
  std::uint32_t total = 0;
  for (const Range& range : ranges_) {
    total += range.end - range.begin;
  }
  return total;
}

}  // namespace nslab::ustack::tcp
