#pragma once

#include <cstddef>
#include <functional>

#include "absl/status/status.h"

namespace nslab {

// Runs work(i) for i in [0, count) on up to `workers` threads (the caller's thread is
// one of them) and returns the first error; after an error no new index is started.
// Labs are built this way because most of the time goes to the kernel setting up
// namespaces and links, which proceeds in parallel.
absl::Status ParallelFor(size_t count, size_t workers,
                         const std::function<absl::Status(size_t)>& work);

}  // namespace nslab
