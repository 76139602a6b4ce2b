#include "daemon/exec/supervisor.h"

#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/common/errno_status.h"
#include "daemon/events/event_bus.h"
#include "daemon/exec/spawn.h"

namespace nslab::exec {

// One supervised process. Shared by the supervisor's table and whoever is signalling or
// restarting it, so that StopLab may drop it meanwhile.
struct Supervisor::Entry {
  ProcessSpec spec;
  std::string label;  // spec.name, else argv[0]'s base name: in events and messages
  events::EventBus* events = nullptr;
  // Serializes Signal, Restart and StopLab's join of `thread` on this entry.
  absl::Mutex control;
  std::thread thread ABSL_GUARDED_BY(control);

  mutable absl::Mutex mutex;
  bool stopping ABSL_GUARDED_BY(mutex) = false;  // StopLab: kill, no restart, no event
  ProcessReport report ABSL_GUARDED_BY(mutex);
  // The current (or last) run: its number from 1, whether it is ready (printed spec.ready_line
  // or answered spec.ready_probe; always true without either), whether it ended, and its
  // output until it was ready.
  int run ABSL_GUARDED_BY(mutex) = 1;
  bool run_ready ABSL_GUARDED_BY(mutex) = false;
  bool run_ended ABSL_GUARDED_BY(mutex) = false;
  std::string run_output ABSL_GUARDED_BY(mutex);
  bool restart_requested ABSL_GUARDED_BY(mutex) = false;
  // The loop returned (policy said no more, or a restart failed): nothing restarts it now.
  bool loop_ended ABSL_GUARDED_BY(mutex) = false;
  std::string restart_error ABSL_GUARDED_BY(mutex);

  bool Stopping() const {
    absl::MutexLock lock(&mutex);
    return stopping;
  }

  void Append(const char* data, size_t size) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex) {
    report.output.append(data, size);
    if (report.output.size() > kLogLimit) {
      report.output.erase(0, report.output.size() - kLogLimit);
      report.truncated = true;
    }
    if (!run_ready) {
      run_output.append(data, size);
      if (!spec.ready_line.empty() && run_output.find(spec.ready_line) != std::string::npos) {
        run_ready = true;
        run_output.clear();
      } else if (run_output.size() > kLogLimit) {
        run_output.erase(0, run_output.size() - kLogLimit);
      }
    }
  }

  // A new run begins (the caller spawned it).
  void Began(pid_t pid) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex) {
    report.running = true;
    report.pid = pid;
    run_ready = spec.ready_line.empty() && !spec.ready_probe;
    run_ended = false;
    run_output.clear();
  }

  void Announce(nslab::v1::LabEventKind kind, const std::string& message) const {
    if (events != nullptr) {
      events->Publish(spec.lab, kind, spec.node, label, message);
    }
  }
};

namespace {

std::string LastLines(const std::string& output) {
  constexpr size_t kShown = 2000;
  std::string tail = output.size() > kShown ? output.substr(output.size() - kShown) : output;
  while (!tail.empty() && tail.back() == '\n') {
    tail.pop_back();
  }
  return tail.empty() ? "(it printed nothing)" : "it printed: " + tail;
}

SpawnSpec SpawnSpecOf(const ProcessSpec& spec) {
  return SpawnSpec{
      spec.netns, spec.argv, {"NSLAB_LAB=" + spec.lab, "NSLAB_NODE=" + spec.node}, false};
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string SignalName(int signal) {
  const char* abbreviation = ::sigabbrev_np(signal);
  return abbreviation == nullptr ? absl::StrCat("signal ", signal)
                                 : absl::StrCat("SIG", abbreviation);
}

bool HasReadyCondition(const ProcessSpec& spec) {
  return !spec.ready_line.empty() || static_cast<bool>(spec.ready_probe);
}

// "did not say it was ready (\"Serving\")" / "did not become ready (tcp port 80 listening)".
std::string NotReadyText(const ProcessSpec& spec) {
  if (!spec.ready_line.empty()) {
    return absl::StrCat("did not say it was ready (\"", spec.ready_line, "\")");
  }
  return absl::StrCat("did not become ready (", spec.ready_description, ")");
}

std::string ExitDescription(const std::string& label, int status) {
  if (WIFSIGNALED(status)) {
    return absl::StrCat(label, " was killed by ", SignalName(WTERMSIG(status)));
  }
  return absl::StrCat(label, " exited with ", WEXITSTATUS(status));
}

}  // namespace

Supervisor::Supervisor(events::EventBus* events) : events_(events) {}

Supervisor::~Supervisor() {
  std::vector<std::string> labs;
  {
    absl::MutexLock lock(&mutex_);
    for (const auto& [lab, entry] : entries_) {
      labs.push_back(lab);
    }
  }
  for (const auto& lab : labs) {
    StopLab(lab);
  }
}

void Supervisor::Supervise(Entry* entry, SpawnedProcess current) {
  while (true) {
    // Collect output until the process ends or the lab is stopped.
    pollfd fds[2] = {{current.stdout_fd.get(), POLLIN, 0}, {current.stderr_fd.get(), POLLIN, 0}};
    int open_pipes = 2;
    while (open_pipes > 0 && !entry->Stopping()) {
      if (::poll(fds, 2, 200) <= 0) {
        continue;
      }
      for (auto& fd : fds) {
        if (fd.fd >= 0 && fd.revents != 0) {
          char buf[8192];
          const ssize_t n = ::read(fd.fd, buf, sizeof(buf));
          if (n > 0) {
            absl::MutexLock lock(&entry->mutex);
            entry->Append(buf, n);
          } else {
            fd.fd = -1;  // closed; the UniqueFd in `current` still owns it
            --open_pipes;
          }
        }
      }
    }
    if (entry->Stopping()) {
      ::kill(-current.pid, SIGKILL);
    }
    // Waited for without reaping first: until `running` is false under the mutex the pid
    // stays taken (a zombie at worst), so Signal never hits a process that reused it.
    siginfo_t info{};
    ::waitid(P_PID, current.pid, &info, WEXITED | WNOWAIT);
    int status = 0;
    bool restart_now = false;
    bool stopping = false;
    int restarts = 0;
    {
      absl::MutexLock lock(&entry->mutex);
      ::waitpid(current.pid, &status, 0);
      entry->report.running = false;
      entry->report.last_exit_code =
          WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
      entry->run_ended = true;
      restarts = entry->report.restarts;
      restart_now = entry->restart_requested;
      entry->restart_requested = false;
      stopping = entry->stopping;
    }
    if (stopping) {
      return;
    }
    entry->Announce(nslab::v1::LAB_EVENT_KIND_PROCESS_EXITED,
                    ExitDescription(entry->label, status));
    const auto policy = entry->spec.restart;
    const int code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
    const bool again = restart_now || policy == RestartPolicy::kAlways ||
                       (policy == RestartPolicy::kOnFailure && code != 0);
    if (!again) {
      absl::MutexLock lock(&entry->mutex);
      entry->loop_ended = true;
      return;
    }
    if (!restart_now) {
      // A crash loop backs off: 0.2 s doubling to 10 s between starts. Restart cuts it short.
      const auto pause = absl::Milliseconds(std::min(200 << std::min(restarts, 6), 10'000));
      absl::MutexLock lock(&entry->mutex);
      auto woken = [entry]() ABSL_SHARED_LOCKS_REQUIRED(entry->mutex) {
        return entry->stopping || entry->restart_requested;
      };
      entry->mutex.AwaitWithTimeout(absl::Condition(&woken), pause);
      if (entry->stopping) {
        return;
      }
      entry->restart_requested = false;
    }
    auto next = Spawn(SpawnSpecOf(entry->spec));
    {
      absl::MutexLock lock(&entry->mutex);
      if (!next.ok()) {
        const std::string line = absl::StrCat("nslab: restart failed: ", next.status().message());
        entry->Append(line.data(), line.size());
        entry->Append("\n", 1);
        entry->restart_error = std::string(next.status().message());
        entry->loop_ended = true;
        return;
      }
      current = std::move(*next);
      ++entry->run;
      ++entry->report.restarts;
      entry->Began(current.pid);
      restarts = entry->report.restarts;
    }
    entry->Announce(nslab::v1::LAB_EVENT_KIND_PROCESS_RESTARTED,
                    absl::StrCat(entry->label, " restarted (restart ", restarts, ")"));
  }
}

bool Supervisor::AwaitRunSettled(Entry* entry, absl::Duration timeout) {
  auto settled = [entry]() ABSL_SHARED_LOCKS_REQUIRED(entry->mutex) {
    return entry->stopping || entry->loop_ended || entry->run_ready || entry->run_ended;
  };
  if (!entry->spec.ready_probe) {
    return entry->mutex.AwaitWithTimeout(absl::Condition(&settled), timeout);
  }
  constexpr absl::Duration kProbeInterval = absl::Milliseconds(20);
  const absl::Time deadline = absl::Now() + timeout;
  while (!settled()) {
    const int run = entry->run;
    entry->mutex.Unlock();
    const absl::StatusOr<bool> answer = entry->spec.ready_probe();
    entry->mutex.Lock();
    if (answer.ok() && *answer && entry->run == run && !entry->run_ended) {
      entry->run_ready = true;
      entry->run_output.clear();
      break;
    }
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return settled();
    }
    entry->mutex.AwaitWithTimeout(absl::Condition(&settled), std::min(left, kProbeInterval));
  }
  return true;
}

absl::Status Supervisor::Start(const ProcessSpec& spec) {
  if (spec.argv.empty()) {
    return absl::InvalidArgumentError("a supervised process needs a command (argv is empty)");
  }
  auto entry = std::make_shared<Entry>();
  entry->spec = spec;
  entry->label = spec.name.empty() ? BaseName(spec.argv[0]) : spec.name;
  entry->events = events_;
  entry->report.argv = spec.argv;
  // The first start happens here so a bad command fails the caller at once.
  auto first = Spawn(SpawnSpecOf(spec));
  if (!first.ok()) {
    return first.status();
  }
  Entry* raw = entry.get();
  {
    absl::MutexLock lock(&raw->mutex);
    raw->Began(first->pid);
  }
  {
    absl::MutexLock control(&raw->control);
    raw->thread = std::thread(&Supervisor::Supervise, raw, std::move(*first));
  }
  if (HasReadyCondition(spec)) {
    absl::MutexLock lock(&raw->mutex);
    AwaitRunSettled(raw, spec.ready_timeout);
    if (!raw->run_ready) {
      const bool ended = raw->run_ended;
      const int code = raw->report.last_exit_code;
      const std::string output = raw->report.output;
      raw->stopping = true;  // no restart: the caller hears why the first run failed
      raw->mutex.Unlock();
      {
        absl::MutexLock control(&raw->control);
        raw->thread.join();
      }
      raw->mutex.Lock();
      if (!ended) {
        return absl::DeadlineExceededError(
            absl::StrCat(spec.argv[0], " ", NotReadyText(spec), " within ",
                         absl::FormatDuration(spec.ready_timeout), "; ", LastLines(output)));
      }
      return absl::FailedPreconditionError(absl::StrCat(
          spec.argv[0], " exited (code ", code, ") before it was ready; ", LastLines(output)));
    }
  }
  absl::MutexLock lock(&mutex_);
  entries_.emplace(spec.lab, std::move(entry));
  return absl::OkStatus();
}

void Supervisor::StopLab(const std::string& lab) {
  StopWhere(lab, [](const ProcessSpec&) { return true; });
}

void Supervisor::StopWhere(const std::string& lab,
                           const std::function<bool(const ProcessSpec&)>& which) {
  std::vector<std::shared_ptr<Entry>> stopping;
  {
    absl::MutexLock lock(&mutex_);
    auto [begin, end] = entries_.equal_range(lab);
    for (auto it = begin; it != end;) {
      if (which(it->second->spec)) {
        stopping.push_back(std::move(it->second));
        it = entries_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& entry : stopping) {
    absl::MutexLock lock(&entry->mutex);
    entry->stopping = true;
  }
  for (auto& entry : stopping) {
    absl::MutexLock control(&entry->control);
    if (entry->thread.joinable()) {
      entry->thread.join();
    }
  }
}

std::vector<ProcessReport> Supervisor::Report(const std::string& lab,
                                              const std::string& node) const {
  std::vector<ProcessReport> result;
  absl::MutexLock lock(&mutex_);
  auto [begin, end] = entries_.equal_range(lab);
  for (auto it = begin; it != end; ++it) {
    if (it->second->spec.node == node) {
      absl::MutexLock entry_lock(&it->second->mutex);
      result.push_back(it->second->report);
    }
  }
  return result;
}

absl::StatusOr<std::shared_ptr<Supervisor::Entry>> Supervisor::Select(
    const std::string& lab, const std::string& node, const std::string& process) const {
  std::vector<std::shared_ptr<Entry>> of_node;
  {
    absl::MutexLock lock(&mutex_);
    auto [begin, end] = entries_.equal_range(lab);
    for (auto it = begin; it != end; ++it) {
      if (it->second->spec.node == node) {
        of_node.push_back(it->second);
      }
    }
  }
  const std::string where = absl::StrCat(lab, ":", node);
  if (of_node.empty()) {
    return absl::NotFoundError(
        absl::StrCat(where,
                     " has no supervised process (check the lab and node names; run: in the "
                     "topology starts processes)"));
  }
  auto labels = [&of_node] {
    std::vector<std::string> names;
    for (const auto& entry : of_node) {
      names.push_back(entry->label);
    }
    return absl::StrJoin(names, ", ");
  };
  if (process.empty()) {
    if (of_node.size() > 1) {
      return absl::FailedPreconditionError(absl::StrCat(
          where, " runs ", of_node.size(), " processes (", labels(), "); name the one you mean"));
    }
    return of_node.front();
  }
  std::vector<std::shared_ptr<Entry>> matches;
  for (const auto& entry : of_node) {
    const std::string& program = entry->spec.argv[0];
    if (entry->label == process || program == process || BaseName(program) == process) {
      matches.push_back(entry);
    }
  }
  if (matches.empty()) {
    return absl::NotFoundError(
        absl::StrCat(where, " has no process \"", process, "\"; its processes: ", labels()));
  }
  if (matches.size() > 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("\"", process, "\" names ", matches.size(), " processes of ", where,
                     ", which run the same program; give it as written in the topology if "
                     "their paths differ, else it cannot be told apart"));
  }
  return matches.front();
}

absl::Status Supervisor::Signal(const std::string& lab, const std::string& node,
                                const std::string& process, int signal) {
  auto entry = Select(lab, node, process);
  if (!entry.ok()) {
    return entry.status();
  }
  Entry& target = **entry;
  absl::MutexLock control(&target.control);
  absl::MutexLock lock(&target.mutex);
  if (target.stopping) {
    return absl::FailedPreconditionError(absl::StrCat("lab ", lab, " is being deleted"));
  }
  if (!target.report.running) {
    return absl::FailedPreconditionError(absl::StrCat(
        target.label, " of ", lab, ":", node, " is not running (last exit code ",
        target.report.last_exit_code, target.loop_ended ? "; its restart policy ended it" : "",
        "); restart it instead"));
  }
  if (::kill(-target.report.pid, signal) != 0) {
    return ErrnoStatus(absl::StrCat("signal ", signal, " to ", target.label, " of ", lab, ":", node,
                                    " (process group ", target.report.pid, ")"),
                       errno);
  }
  return absl::OkStatus();
}

absl::Status Supervisor::Restart(const std::string& lab, const std::string& node,
                                 const std::string& process, int signal) {
  auto selected = Select(lab, node, process);
  if (!selected.ok()) {
    return selected.status();
  }
  std::shared_ptr<Entry> entry = *selected;
  const std::string what = absl::StrCat(entry->label, " of ", lab, ":", node);
  absl::MutexLock control(&entry->control);
  entry->mutex.Lock();
  if (entry->stopping) {
    entry->mutex.Unlock();
    return absl::FailedPreconditionError(absl::StrCat("lab ", lab, " is being deleted"));
  }
  const int old_run = entry->run;
  // Twice at most: a process that exits by itself just as it is signalled may end its loop
  // (policy) instead of restarting; then it is started like one that had ended before.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (entry->loop_ended) {
      // Nothing supervises it any more: start it and a new loop here.
      entry->mutex.Unlock();
      if (entry->thread.joinable()) {
        entry->thread.join();
      }
      auto next = Spawn(SpawnSpecOf(entry->spec));
      if (!next.ok()) {
        return next.status();
      }
      entry->mutex.Lock();
      entry->loop_ended = false;
      entry->restart_error.clear();
      ++entry->run;
      const int restarts = ++entry->report.restarts;
      entry->Began(next->pid);
      entry->mutex.Unlock();
      entry->thread = std::thread(&Supervisor::Supervise, entry.get(), std::move(*next));
      entry->Announce(nslab::v1::LAB_EVENT_KIND_PROCESS_RESTARTED,
                      absl::StrCat(entry->label, " restarted (restart ", restarts, ")"));
      entry->mutex.Lock();
      break;
    }
    entry->restart_requested = true;
    // Not running: it waits out its pause between runs, which restart_requested cuts short.
    if (entry->report.running && ::kill(-entry->report.pid, signal) != 0) {
      const int error = errno;
      entry->restart_requested = false;
      entry->mutex.Unlock();
      return ErrnoStatus(absl::StrCat("signal ", signal, " to ", what), error);
    }
    auto replaced = [&]() ABSL_SHARED_LOCKS_REQUIRED(entry->mutex) {
      return entry->stopping || entry->loop_ended || entry->run > old_run;
    };
    if (!entry->mutex.AwaitWithTimeout(absl::Condition(&replaced), absl::Seconds(10))) {
      entry->restart_requested = false;
      entry->mutex.Unlock();
      return absl::DeadlineExceededError(
          absl::StrCat(what, " still runs 10s after ", SignalName(signal),
                       "; restart it with a signal it cannot ignore (KILL)"));
    }
    entry->restart_requested = false;
    if (!(entry->loop_ended && entry->run == old_run && entry->restart_error.empty())) {
      break;
    }
  }
  const bool in_time = AwaitRunSettled(entry.get(), entry->spec.ready_timeout);
  absl::Status result;
  if (entry->stopping) {
    result = absl::FailedPreconditionError(absl::StrCat("lab ", lab, " is being deleted"));
  } else if (entry->run == old_run) {
    result = absl::FailedPreconditionError(
        absl::StrCat(what, " could not be started again: ", entry->restart_error));
  } else if (!in_time) {
    result = absl::DeadlineExceededError(absl::StrCat(
        what, " restarted but ", NotReadyText(entry->spec), " within ",
        absl::FormatDuration(entry->spec.ready_timeout), "; ", LastLines(entry->run_output)));
  } else if (!entry->run_ready) {
    result = absl::FailedPreconditionError(
        absl::StrCat(what, " restarted but exited (code ", entry->report.last_exit_code,
                     ") before it was ready; ", LastLines(entry->run_output)));
  }
  entry->mutex.Unlock();
  return result;
}

}  // namespace nslab::exec
