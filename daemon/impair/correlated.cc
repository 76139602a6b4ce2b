#include "daemon/impair/correlated.h"

#include <cmath>
#include <limits>

namespace nslab::impair {

uint32_t ScaledPercent(double percent) {
  if (!(percent > 0)) {  // also NaN
    return 0;
  }
  if (percent >= 100) {
    return std::numeric_limits<uint32_t>::max();
  }
  return static_cast<uint32_t>(std::rint(percent / 100.0 * std::numeric_limits<uint32_t>::max()));
}

}  // namespace nslab::impair
