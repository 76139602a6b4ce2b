#include "daemon/common/parallel.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace nslab {

absl::Status ParallelFor(size_t count, size_t workers,
                         const std::function<absl::Status(size_t)>& work) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;
  absl::Status first_error;
  auto run = [&] {
    while (!failed.load(std::memory_order_relaxed)) {
      const size_t i = next.fetch_add(1);
      if (i >= count) {
        return;
      }
      if (absl::Status status = work(i); !status.ok()) {
        std::lock_guard<std::mutex> lock(mutex);
        if (first_error.ok()) {
          first_error = std::move(status);
        }
        failed = true;
      }
    }
  };
  std::vector<std::thread> threads;
  const size_t extra = std::min(workers, count) > 0 ? std::min(workers, count) - 1 : 0;
  for (size_t t = 0; t < extra; ++t) {
    threads.emplace_back(run);
  }
  run();
  for (auto& thread : threads) {
    thread.join();
  }
  return first_error;
}

}  // namespace nslab
