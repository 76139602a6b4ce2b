// A delivery trace's text comes from API callers (Impairment.trace, CreateLabRequest.files):
// arbitrary bytes must give a trace or an error, never a crash, a hang or undefined
// behaviour; and a trace that parses must shape frames without going back in time.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "daemon/impair/trace.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto trace = nslab::impair::DeliveryTrace::Parse(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (!trace.ok()) {
    return 0;
  }
  nslab::impair::TraceShaper shaper(
      std::make_shared<const nslab::impair::DeliveryTrace>(*std::move(trace)));
  constexpr int64_t kOrigin = 1'000'000;
  shaper.Start(kOrigin);
  // Frames of several sizes, some arriving together, over a few passes of the trace.
  int64_t ready = kOrigin;
  int64_t last = kOrigin;
  for (size_t i = 0; i < 64; ++i) {
    const size_t bytes = 64 + (i * 577) % 9000;
    const int64_t departs = shaper.Depart(ready, bytes);
    if (departs < ready || departs < last) {
      std::abort();  // a frame left before it was ready, or overtook the one before it
    }
    last = departs;
    ready += (i % 3 == 0) ? 0 : 400'000;
  }
  return 0;
}
