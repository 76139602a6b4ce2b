#include "daemon/impair/class_streams.h"

#include <algorithm>
#include <utility>

namespace nslab::impair {

void ClassDraws::Apply(const ImpairmentSpec& spec) {
  loss = LossModel(spec.loss, rng);
  // The proto carries correlation for delay and loss only; the others are netem's with rho 0.
  delay.Reset(spec.delay_correlation, rng);
  duplicate.Reset(0, rng);
  reorder.Reset(0, rng);
  corrupt.Reset(0, rng);
  counter = 0;
}

ClassTable::ClassTable(size_t capacity)
    : capacity_(std::clamp<size_t>(capacity, 1, std::numeric_limits<uint32_t>::max() - 1)) {}

ClassDraws* ClassTable::Find(uint64_t key) {
  // Frames come in runs of one class (a burst, a bulk transfer): skip the hash for those.
  if (newest_ != kNone && slots_[newest_].key == key) {
    return &slots_[newest_].draws;
  }
  const auto found = index_.find(key);
  if (found == index_.end()) {
    return nullptr;
  }
  Unlink(found->second);
  LinkNewest(found->second);
  return &slots_[found->second].draws;
}

ClassDraws& ClassTable::Insert(uint64_t key, ClassDraws draws) {
  uint32_t slot;
  if (slots_.size() < capacity_) {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.push_back(Slot{key, std::move(draws)});
  } else {
    slot = oldest_;
    Unlink(slot);
    index_.erase(slots_[slot].key);
    slots_[slot].key = key;
    slots_[slot].draws = std::move(draws);
    ++evictions_;
  }
  index_[key] = slot;
  LinkNewest(slot);
  return slots_[slot].draws;
}

void ClassTable::Unlink(uint32_t slot) {
  Slot& entry = slots_[slot];
  (entry.newer == kNone ? newest_ : slots_[entry.newer].older) = entry.older;
  (entry.older == kNone ? oldest_ : slots_[entry.older].newer) = entry.newer;
  entry.newer = kNone;
  entry.older = kNone;
}

void ClassTable::LinkNewest(uint32_t slot) {
  Slot& entry = slots_[slot];
  entry.older = newest_;
  entry.newer = kNone;
  if (newest_ != kNone) {
    slots_[newest_].newer = slot;
  } else {
    oldest_ = slot;
  }
  newest_ = slot;
}

}  // namespace nslab::impair
