#include "client/ustack_print.h"

#include "absl/strings/str_cat.h"
#include "client/table.h"

namespace nslab::client {

std::string DescribeUstackFault(const nslab::v1::UstackFault& fault) {
  std::string text = fault.mode();
  if (fault.bytes() != 0) {
    absl::StrAppend(&text, " ", fault.bytes(), " bytes");
  }
  if (fault.rate() != 0) {
    absl::StrAppend(&text, " ", fault.rate(), " B/s");
  }
  return text;
}

std::string UstackFaultTable(
    const google::protobuf::RepeatedPtrField<nslab::v1::UstackFault>& faults) {
  if (faults.empty()) {
    return "(none)\n";
  }
  Table table({"PORT", "FAULT"});
  for (const auto& fault : faults) {
    table.AddRow({absl::StrCat("tcp:", fault.port()), DescribeUstackFault(fault)});
  }
  return table.ToString();
}

}  // namespace nslab::client
