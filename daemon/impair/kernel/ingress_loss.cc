#include "daemon/impair/kernel/ingress_loss.h"

#include <cmath>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace nslab::impair::kernel {
namespace {

// numgen draws uniformly in [0, kModulus); a frame is dropped when the draw is below
// loss * kModulus. 10^6 gives the 0.0001% resolution netem's percentages are written with.
constexpr int64_t kModulus = 1'000'000;
// IFNAMSIZ - 1.
constexpr size_t kMaxIfnameLength = 15;

}  // namespace

absl::Status CheckNftIfname(absl::string_view ifname) {
  if (ifname.empty() || ifname.size() > kMaxIfnameLength) {
    return absl::InvalidArgumentError(absl::StrCat("interface name \"", ifname, "\" must have 1..",
                                                   kMaxIfnameLength, " characters"));
  }
  for (char c : ifname) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
      return absl::InvalidArgumentError(absl::StrCat(
          "interface name \"", ifname,
          "\": nslab's nftables tables need a name of letters, digits, '_', '.' and '-'"));
    }
  }
  return absl::OkStatus();
}

namespace {

// Deleting a table that does not exist is an error in nft 1.0.6 (there is no `destroy` yet),
// so the table is added first: within one transaction that makes the delete always valid.
std::string DropTableCommands(const std::string& table) {
  return absl::StrCat("add table netdev ", table, "\ndelete table netdev ", table, "\n");
}

}  // namespace

std::string IngressLossTableName(absl::string_view ifname) {
  return absl::StrCat("nslab_impair_", ifname);
}

absl::StatusOr<std::string> RenderIngressLossRuleset(absl::string_view ifname,
                                                     double loss_percent) {
  if (absl::Status status = CheckNftIfname(ifname); !status.ok()) {
    return status;
  }
  if (!(loss_percent > 0 && loss_percent <= 100)) {  // also NaN
    return absl::InvalidArgumentError(absl::StrCat(
        "loss must be in (0..100] (percent) for the nftables drop, got ", loss_percent));
  }
  const int64_t threshold = std::llround(loss_percent / 100.0 * kModulus);
  if (threshold == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "loss ", loss_percent, "% is below the nftables drop's resolution of 0.0001%"));
  }
  const std::string table = IngressLossTableName(ifname);
  return absl::StrCat(DropTableCommands(table),  //
                      "table netdev ", table, " {\n", "\tchain ingress_loss {\n",
                      "\t\ttype filter hook ingress device \"", ifname,
                      "\" priority -500; policy accept;\n", "\t\tnumgen random mod ", kModulus,
                      " < ", threshold, " counter drop comment \"nslab: loss ", loss_percent,
                      "%\"\n", "\t}\n", "}\n");
}

absl::StatusOr<std::string> RenderIngressLossRemoval(absl::string_view ifname) {
  if (absl::Status status = CheckNftIfname(ifname); !status.ok()) {
    return status;
  }
  return DropTableCommands(IngressLossTableName(ifname));
}

}  // namespace nslab::impair::kernel
