#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace nslab::events {
class EventBus;
}  // namespace nslab::events

namespace nslab::exec {

struct SpawnedProcess;

enum class RestartPolicy { kNever, kOnFailure, kAlways };

struct ProcessSpec {
  std::string lab;
  std::string node;
  std::string netns;
  std::vector<std::string> argv;
  RestartPolicy restart = RestartPolicy::kNever;
  // When set, Start returns only after the first run printed a line containing this text
  // (on stdout or stderr): the program's own word that it is ready to be used. Restart waits
  // for it too.
  std::string ready_line;
  // Or, when set, Start (and Restart) returns only once this answers true for the current run:
  // asked every 20 ms from the waiting thread, never while the supervisor's locks are held.
  // An error answer counts as "not yet". `ready_description` names it in messages
  // ("tcp port 8080 listening").
  std::function<absl::StatusOr<bool>()> ready_probe;
  std::string ready_description;
  absl::Duration ready_timeout = absl::Seconds(10);
  // What selectors and events call the process besides argv[0] (a ustack node's stack is
  // "stack"); empty: the base name of argv[0].
  std::string name;
};

// What `nslab logs` shows for one supervised process.
struct ProcessReport {
  std::vector<std::string> argv;
  bool running = false;
  pid_t pid = 0;
  int restarts = 0;
  int last_exit_code = 0;  // 128 + signal when killed
  std::string output;      // the last kLogLimit bytes of stdout and stderr, interleaved
  bool truncated = false;
};

// Long-running processes of labs (`run:` in topologies, ustack nodes' stacks): started
// inside their node, restarted by policy with a growing pause, output kept in a bounded
// buffer, stopped with their lab. One thread per process. Exits and restarts are announced
// on the event bus when there is one (not those of a lab being stopped).
class Supervisor {
 public:
  static constexpr size_t kLogLimit = 256 * 1024;

  // `events` may be null (nothing is announced); else it must outlive the supervisor.
  explicit Supervisor(events::EventBus* events = nullptr);
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Starts the process; an error (e.g. NOT_FOUND for a missing program; FAILED_PRECONDITION
  // when it exits, DEADLINE_EXCEEDED when it stays silent, before printing `ready_line`) if
  // its first start fails, and then nothing is left running.
  absl::Status Start(const ProcessSpec& spec);
  // Stops every process of `lab` (SIGKILL to each process group) and forgets them.
  void StopLab(const std::string& lab);
  // Stops and forgets the processes of `lab` whose spec `which` picks (an apply stops a
  // removed node's, or one whose definition changed, and leaves the rest running).
  void StopWhere(const std::string& lab, const std::function<bool(const ProcessSpec&)>& which);
  std::vector<ProcessReport> Report(const std::string& lab, const std::string& node) const;

  // Sends `signal` to the process group of the node's supervised process selected by
  // `process` (argv[0] as written, its base name, or the spec's name such as "stack"; empty =
  // the node's only process). The supervisor then restarts it or not by its policy.
  // NOT_FOUND (no such process) / FAILED_PRECONDITION (ambiguous, not running) with messages
  // that say what to fix.
  absl::Status Signal(const std::string& lab, const std::string& node, const std::string& process,
                      int signal);
  // Stops it with `signal` and starts it again at once (counted as a restart), whatever the
  // policy, also when it had exited; returns when the new run is started (and printed its
  // ready line if it has one). DEADLINE_EXCEEDED if it outlives `signal` (10 s) or stays
  // silent past its ready timeout.
  absl::Status Restart(const std::string& lab, const std::string& node, const std::string& process,
                       int signal);

 private:
  struct Entry;
  absl::StatusOr<std::shared_ptr<Entry>> Select(const std::string& lab, const std::string& node,
                                                const std::string& process) const;
  // The supervising loop of one entry, from its run `current` on; runs on entry->thread.
  static void Supervise(Entry* entry, SpawnedProcess current);
  // With entry->mutex held: waits until the current run is ready or ended, or the lab is
  // being stopped, asking the spec's ready_probe meanwhile. False when `timeout` passed first.
  static bool AwaitRunSettled(Entry* entry, absl::Duration timeout);

  events::EventBus* const events_;
  mutable absl::Mutex mutex_;
  std::multimap<std::string, std::shared_ptr<Entry>> entries_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace nslab::exec
