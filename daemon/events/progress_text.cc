#include "daemon/events/progress_text.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace nslab::events {
namespace {

using nslab::v1::LabPhase;
using nslab::v1::LabProgress;

// The phase's name where the counts of nodes and links do not already say what moves.
const char* PhaseWords(LabPhase phase) {
  switch (phase) {
    case nslab::v1::LAB_PHASE_ROUTES:
      return "routes";
    case nslab::v1::LAB_PHASE_LINKS_RUNNING:
      return "links running";
    case nslab::v1::LAB_PHASE_PROCESSES:
      return "processes";
    case nslab::v1::LAB_PHASE_STOPPING:
      return "stopping processes";
    default:
      return nullptr;
  }
}

}  // namespace

std::string ProgressText(const LabProgress& progress, bool finished) {
  const bool build = progress.operation() != nslab::v1::LAB_OPERATION_REMOVE;
  std::string text = finished ? (build ? "built" : "removed") : (build ? "building" : "removing");
  if (const char* words = PhaseWords(progress.phase()); words != nullptr && !finished) {
    absl::StrAppend(&text, ", ", words);
    if (progress.phase_total() != 0) {
      absl::StrAppend(&text, " ", progress.phase_done(), "/", progress.phase_total());
    }
  }
  absl::StrAppend(&text, ": nodes ", progress.nodes_done(), "/", progress.nodes_total());
  if (progress.links_total() != 0) {
    absl::StrAppend(&text, ", links ", progress.links_done(), "/", progress.links_total());
  }
  absl::StrAppend(&text, absl::StrFormat(", %.1f s", progress.elapsed_ms() / 1000.0));
  return text;
}

}  // namespace nslab::events
