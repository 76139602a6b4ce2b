#pragma once

#include <sys/types.h>

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace nslab::exec {

enum class RestartPolicy { kNever, kOnFailure, kAlways };

struct ProcessSpec {
  std::string lab;
  std::string node;
  std::string netns;
  std::vector<std::string> argv;
  RestartPolicy restart = RestartPolicy::kNever;
  // When set, Start returns only after the first run printed a line containing this text
  // (on stdout or stderr): the program's own word that it is ready to be used.
  std::string ready_line;
  absl::Duration ready_timeout = absl::Seconds(10);
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

// Long-running processes of labs (`run:` in topologies): started inside their node,
// restarted by policy with a growing pause, output kept in a bounded buffer, stopped
// with their lab. One thread per process.
class Supervisor {
 public:
  static constexpr size_t kLogLimit = 256 * 1024;

  Supervisor();
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Starts the process; an error (e.g. NOT_FOUND for a missing program; FAILED_PRECONDITION
  // when it exits, DEADLINE_EXCEEDED when it stays silent, before printing `ready_line`) if
  // its first start fails, and then nothing is left running.
  absl::Status Start(const ProcessSpec& spec);
  // Stops every process of `lab` (SIGKILL to each process group) and forgets them.
  void StopLab(const std::string& lab);
  std::vector<ProcessReport> Report(const std::string& lab, const std::string& node) const;

 private:
  struct Entry;
  void Supervise(Entry* entry);

  mutable absl::Mutex mutex_;
  std::multimap<std::string, std::unique_ptr<Entry>> entries_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace nslab::exec
