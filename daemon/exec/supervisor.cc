#include "daemon/exec/supervisor.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "daemon/exec/spawn.h"

namespace nslab::exec {

struct Supervisor::Entry {
  ProcessSpec spec;
  absl::Notification stop;
  std::thread thread;
  mutable absl::Mutex mutex;
  ProcessReport report ABSL_GUARDED_BY(mutex);
  // Settled once: the first run printed spec.ready_line (ready), or ended before it did.
  absl::Notification first_run_settled;
  bool ready ABSL_GUARDED_BY(mutex) = false;

  void Append(const char* data, size_t size) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex) {
    report.output.append(data, size);
    if (report.output.size() > kLogLimit) {
      report.output.erase(0, report.output.size() - kLogLimit);
      report.truncated = true;
    }
    if (!first_run_settled.HasBeenNotified() &&
        report.output.find(spec.ready_line) != std::string::npos) {
      ready = true;
      first_run_settled.Notify();
    }
  }

  void FirstRunEnded() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex) {
    if (!first_run_settled.HasBeenNotified()) {
      first_run_settled.Notify();
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

}  // namespace

Supervisor::Supervisor() = default;

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

absl::Status Supervisor::Start(const ProcessSpec& spec) {
  auto entry = std::make_unique<Entry>();
  entry->spec = spec;
  entry->report.argv = spec.argv;
  // The first start happens here so a bad command fails the caller at once.
  SpawnSpec spawn{
      spec.netns, spec.argv, {"NSLAB_LAB=" + spec.lab, "NSLAB_NODE=" + spec.node}, false};
  auto first = Spawn(spawn);
  if (!first.ok()) {
    return first.status();
  }
  Entry* raw = entry.get();
  {
    absl::MutexLock lock(&raw->mutex);
    raw->report.running = true;
    raw->report.pid = first->pid;
  }
  raw->thread = std::thread([raw, child = std::move(*first)]() mutable {
    SpawnedProcess current = std::move(child);
    while (true) {
      // Collect output until the process ends or the lab is stopped.
      pollfd fds[2] = {{current.stdout_fd.get(), POLLIN, 0}, {current.stderr_fd.get(), POLLIN, 0}};
      int open_pipes = 2;
      while (open_pipes > 0 && !raw->stop.HasBeenNotified()) {
        if (::poll(fds, 2, 200) <= 0) {
          continue;
        }
        for (auto& fd : fds) {
          if (fd.fd >= 0 && fd.revents != 0) {
            char buf[8192];
            const ssize_t n = ::read(fd.fd, buf, sizeof(buf));
            if (n > 0) {
              absl::MutexLock lock(&raw->mutex);
              raw->Append(buf, n);
            } else {
              fd.fd = -1;  // closed; the UniqueFd in `current` still owns it
              --open_pipes;
            }
          }
        }
      }
      if (raw->stop.HasBeenNotified()) {
        ::kill(-current.pid, SIGKILL);
      }
      int status = 0;
      ::waitpid(current.pid, &status, 0);
      const int code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
      int restarts = 0;
      {
        absl::MutexLock lock(&raw->mutex);
        raw->report.running = false;
        raw->report.last_exit_code = code;
        restarts = raw->report.restarts;
        raw->FirstRunEnded();
      }
      const auto policy = raw->spec.restart;
      const bool again =
          policy == RestartPolicy::kAlways || (policy == RestartPolicy::kOnFailure && code != 0);
      // A crash loop backs off: 0.2 s doubling to 10 s between starts.
      const auto pause = absl::Milliseconds(std::min(200 << std::min(restarts, 6), 10'000));
      if (!again || raw->stop.WaitForNotificationWithTimeout(pause)) {
        return;
      }
      SpawnSpec respawn{raw->spec.netns,
                        raw->spec.argv,
                        {"NSLAB_LAB=" + raw->spec.lab, "NSLAB_NODE=" + raw->spec.node},
                        false};
      auto next = Spawn(respawn);
      absl::MutexLock lock(&raw->mutex);
      if (!next.ok()) {
        raw->Append("nslab: restart failed\n", 22);
        return;
      }
      current = std::move(*next);
      raw->report.running = true;
      raw->report.pid = current.pid;
      ++raw->report.restarts;
    }
  });
  if (!spec.ready_line.empty()) {
    const bool settled = raw->first_run_settled.WaitForNotificationWithTimeout(spec.ready_timeout);
    bool ready = false;
    int code = 0;
    std::string output;
    {
      absl::MutexLock lock(&raw->mutex);
      ready = raw->ready;
      code = raw->report.last_exit_code;
      output = raw->report.output;
    }
    if (!ready) {
      raw->stop.Notify();  // no restart: the caller hears why the first run failed
      raw->thread.join();
      if (!settled) {
        return absl::DeadlineExceededError(absl::StrCat(
            spec.argv[0], " did not say it was ready (\"", spec.ready_line, "\") within ",
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
  std::vector<std::unique_ptr<Entry>> stopping;
  {
    absl::MutexLock lock(&mutex_);
    auto [begin, end] = entries_.equal_range(lab);
    for (auto it = begin; it != end; ++it) {
      stopping.push_back(std::move(it->second));
    }
    entries_.erase(begin, end);
  }
  for (auto& entry : stopping) {
    entry->stop.Notify();
  }
  for (auto& entry : stopping) {
    entry->thread.join();
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

}  // namespace nslab::exec
