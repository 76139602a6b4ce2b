#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace nslab::wire {

// Frames waiting for their delivery time: a binary min-heap keyed by (time, sequence). The
// sequence number makes ties leave in the order they were queued (netem's tfifo does the same),
// so delivery order is a function of the offered frames alone. A heap rather than a timer
// wheel: times stay exact to the nanosecond (rate shaping depends on it), and with netem's
// queue limits (1000 by default) a push or pop is about ten comparisons; with no jitter, times
// arrive in order and a push is one comparison.
class DelayQueue {
 public:
  struct Entry {
    int64_t due_ns;
    uint64_t sequence;
    uint32_t slot;
    uint32_t length;
    uint32_t flow;  // the pipeline's: which flow of the direction took the frame (0: none)
  };

  void Reserve(size_t entries) { heap_.reserve(entries); }

  void Push(int64_t due_ns, uint32_t slot, uint32_t length, uint32_t flow = 0);
  const Entry& Top() const { return heap_.front(); }
  void Pop();

  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }

  // For flushing: the entries in no particular order, then Clear().
  const std::vector<Entry>& entries() const { return heap_; }
  void Clear() { heap_.clear(); }

 private:
  std::vector<Entry> heap_;
  uint64_t next_sequence_ = 0;
};

}  // namespace nslab::wire
