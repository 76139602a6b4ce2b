#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "daemon/impair/correlated.h"
#include "daemon/impair/loss.h"
#include "daemon/impair/rng.h"
#include "daemon/impair/spec.h"

namespace nslab::impair {

// A lab's own traffic is a few dozen classes per direction; the bound is for a scan or a
// flood of random addresses, which would otherwise grow the table without end. A full table
// holds ~170 KiB.
inline constexpr size_t kDefaultMaxClasses = 1024;

// Everything netem keeps between frames that comes from its random stream, for one traffic
// class (FlowClass) of one direction. What the link itself shares between classes (rate,
// trace, queue limit) is FateEngine's.
struct ClassDraws {
  explicit ClassDraws(uint64_t seed) : rng(seed) {}

  // netem_change() for this class: the loss chain and the correlations restart, taking their
  // first values from the class's stream, which carries on; the reorder counter resets.
  void Apply(const ImpairmentSpec& spec);

  Rng rng;
  LossModel loss;
  CorrelatedUniform delay;
  CorrelatedUniform duplicate;
  CorrelatedUniform reorder;
  CorrelatedUniform corrupt;
  uint32_t counter = 0;  // netem's reorder counter
};

// The classes of one direction by FlowClassKey, at most `capacity` of them. When it is full
// a new class takes the place of the least recently used one; should that class come back, it
// starts its stream from the beginning, like a class never seen. Finding a held class does not
// allocate; holding a new one may.
class ClassTable {
 public:
  explicit ClassTable(size_t capacity = kDefaultMaxClasses);

  // The class's draws, marked as just used; nullptr when the class is not held. The pointer
  // is valid until the next Insert.
  ClassDraws* Find(uint64_t key);

  // Holds `draws` for a class Find did not find, as the most recently used.
  ClassDraws& Insert(uint64_t key, ClassDraws draws);

  template <typename Fn>
  void ForEach(Fn fn) {
    for (Slot& slot : slots_) {
      fn(slot.draws);
    }
  }

  size_t size() const { return slots_.size(); }
  size_t capacity() const { return capacity_; }
  uint64_t evictions() const { return evictions_; }

 private:
  static constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

  struct Slot {
    uint64_t key;
    ClassDraws draws;
    uint32_t newer = kNone;  // the LRU list, by slot index
    uint32_t older = kNone;
  };

  void Unlink(uint32_t slot);
  void LinkNewest(uint32_t slot);

  size_t capacity_;
  std::vector<Slot> slots_;
  absl::flat_hash_map<uint64_t, uint32_t> index_;
  uint32_t newest_ = kNone;
  uint32_t oldest_ = kNone;
  uint64_t evictions_ = 0;
};

}  // namespace nslab::impair
