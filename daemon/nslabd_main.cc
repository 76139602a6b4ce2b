// nslabd: the nslab daemon. Builds network-namespace labs and serves the nslab.v1 API.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "daemon/common/log.h"
#include "daemon/common/version.h"
#include "daemon/lab/lab_fit.h"
#include "daemon/server/daemon_server.h"

namespace {

// nslab-ustack next to nslabd (an installed pair), else the one this build made.
std::string DefaultUstackBinary() {
  std::error_code error;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error) {
    const auto sibling = self.parent_path() / "nslab-ustack";
    if (std::filesystem::exists(sibling, error)) {
      return sibling.string();
    }
  }
  return NSLAB_USTACK_BINARY;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"nslabd — builds network-namespace labs and serves the nslab.v1 gRPC API"};
  nslab::server::DaemonOptions options;
  options.ustack_binary = DefaultUstackBinary();
  bool verbose = false;
  app.add_option("--socket", options.socket_path, "Unix socket to listen on")
      ->capture_default_str()
      ->envname("NSLAB_SOCKET");
  app.add_option("--state-dir", options.state_dir, "Where each lab's state file is kept")
      ->capture_default_str();
  app.add_option("--socket-group", options.socket_group,
                 "Group that may use the socket (mode 0660); its members are root-equivalent");
  app.add_option("--listen", options.tcp_address,
                 "Also listen on TCP host:port, with mutual TLS (needs --tls-cert, --tls-key, "
                 "--tls-ca)");
  app.add_option("--tls-cert", options.tls_cert_file, "PEM certificate (chain) for --listen");
  app.add_option("--tls-key", options.tls_key_file, "PEM private key of --tls-cert");
  app.add_option(
      "--tls-ca", options.tls_ca_file,
      "PEM CA certificate(s): --listen serves only clients with a certificate it signed");
  app.add_option("--ustack-binary", options.ustack_binary,
                 "nslab-ustack executable for ustack nodes")
      ->capture_default_str();
  app.add_option("--progress-after", options.progress_after_ms,
                 "Milliseconds a lab's build or removal runs before its PROGRESS events start "
                 "(0: one at each phase's end, however quick)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_flag("-v,--verbose", verbose, "Debug logging");
  app.set_version_flag("--version", nslab::kVersion);
  CLI11_PARSE(app, argc, argv);
  if (verbose) {
    nslab::SetMinLogLevel(nslab::LogLevel::kDebug);
  }

  // Signals are taken by one thread with sigwait, so no handler runs inside gRPC code.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // A lab holds a namespace and a netlink socket per node while it is built and a
  // link-watch socket per node while it is up: the soft limit systemd and shells start us
  // with (1,024) would stop a lab at about 500 nodes. The hard limit is what we may have.
  if (auto limits = nslab::lab::RaiseOpenFilesLimit(); limits.ok()) {
    NSLAB_LOG(Info) << "open-files limit: soft " << limits->soft << " (was " << limits->soft_before
                    << "), hard " << limits->hard;
  } else {
    NSLAB_LOG(Warning) << "open-files limit left as it was: " << limits.status().message();
  }

  nslab::server::DaemonServer server(options);
  if (auto status = server.Start(); !status.ok()) {
    NSLAB_LOG(Error) << "nslabd: " << status.ToString();
    return 1;
  }
  std::thread([&] {
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    NSLAB_LOG(Info) << "signal " << signal_number << ": stopping (labs stay up)";
    server.Shutdown();
  }).detach();
  server.Wait();
  NSLAB_LOG(Info) << "nslabd stopped";
  return 0;
}
