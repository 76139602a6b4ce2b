#pragma once

// Each nslab enum's zero value is *_UNSPECIFIED (buf's STANDARD lint), and means the
// documented default: these say which value an unset field stands for, in one place.

#include "nslab/v1/topology.pb.h"

namespace nslab::v1 {

inline bool IsUniform(DelayDistribution distribution) {
  return distribution == DELAY_DISTRIBUTION_UNSPECIFIED ||
         distribution == DELAY_DISTRIBUTION_UNIFORM;
}

inline bool IsUnicast(RouteType type) {
  return type == ROUTE_TYPE_UNSPECIFIED || type == ROUTE_TYPE_UNICAST;
}

}  // namespace nslab::v1
