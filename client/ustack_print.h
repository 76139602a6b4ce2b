#pragma once

// How the CLI prints a ustack node's faults, for `nslab ustack` and `nslab show`.

#include <string>

#include "google/protobuf/repeated_ptr_field.h"
#include "nslab/v1/ustack.pb.h"

namespace nslab::client {

// "close-wait", "reset-after 1000 bytes", "slow-read 4096 B/s".
std::string DescribeUstackFault(const nslab::v1::UstackFault& fault);

// A PORT / FAULT table, or "(none)\n" when no fault is in force.
std::string UstackFaultTable(
    const google::protobuf::RepeatedPtrField<nslab::v1::UstackFault>& faults);

}  // namespace nslab::client
