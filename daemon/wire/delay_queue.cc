#include "daemon/wire/delay_queue.h"

#include <algorithm>

namespace nslab::wire {
namespace {

// std::*_heap build a max-heap; "later" is the greater element.
bool Later(const DelayQueue::Entry& a, const DelayQueue::Entry& b) {
  return a.due_ns != b.due_ns ? a.due_ns > b.due_ns : a.sequence > b.sequence;
}

}  // namespace

void DelayQueue::Push(int64_t due_ns, uint32_t slot, uint32_t length, uint32_t flow) {
  heap_.push_back(Entry{due_ns, next_sequence_++, slot, length, flow});
  std::push_heap(heap_.begin(), heap_.end(), Later);
}

void DelayQueue::Pop() {
  std::pop_heap(heap_.begin(), heap_.end(), Later);
  heap_.pop_back();
}

}  // namespace nslab::wire
