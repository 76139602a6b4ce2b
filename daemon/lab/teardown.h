#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "daemon/events/progress.h"
#include "daemon/netns/netns.h"
#include "nslab/v1/labs.pb.h"

namespace nslab::lab {

// Deletes the named namespaces that exist (a namespace that is already gone is fine);
// every link inside one goes with it. Only names the daemon knows to be its own may be
// passed here: those it has just made, or those OwnNamespaces returned.
absl::Status DeleteNamespaces(const std::vector<std::string>& namespaces);

// DeleteNamespaces of `own` (what OwnNamespaces found of `lab`), counted in `progress`: a
// node when its namespace is gone (those already gone or not the lab's at once, as nothing
// is left to do for them), a link when the first of its ends is.
absl::Status DeleteLabNamespaces(const nslab::v1::Lab& lab, const std::vector<std::string>& own,
                                 events::ProgressReporter& progress);

// The identity of the namespace a node of a lab got, in the form its state records.
nslab::v1::NamespaceIdentity ToProto(const netns::Identity& identity);

// A lab's recorded namespaces, sorted by whether they are still the ones it made.
struct NamespaceOwnership {
  std::vector<std::string> own;  // exist and are the lab's: safe to empty and delete
  // Exist but are someone else's now, one line each for the log.
  std::vector<std::string> foreign;
};

// A namespace whose recorded identity (NodeStatus.netns_identity) it still has is the lab's.
// Without a recorded identity (a state file of an older nslabd, or a daemon killed before it
// recorded them) one is taken for the lab's only if its name starts with "<lab>-", as
// nslabd names them; anything else a state file lists is left alone. Names that do not
// exist are in neither list.
NamespaceOwnership OwnNamespaces(const nslab::v1::Lab& lab);

}  // namespace nslab::lab
