#pragma once

#include <gtest/gtest.h>

#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {

// A test suite whose tests share one real nslabd, started before the first test and
// stopped after the last. Base is ::testing::Test or ::testing::TestWithParam<T>.
template <typename Base = ::testing::Test>
class DaemonSuite : public Base {
 protected:
  static void SetUpTestSuite() { daemon_ = new TestDaemon(); }
  static void TearDownTestSuite() {
    delete daemon_;
    daemon_ = nullptr;
  }
  static inline TestDaemon* daemon_ = nullptr;
};

}  // namespace nslab::testing
