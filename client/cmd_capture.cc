// nslab capture: tcpdump on a node's interface, written as a pcap file (or to stdout).
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <thread>

#include "client/commands.h"
#include "client/duration.h"
#include "nslab/v1/diag.grpc.pb.h"

namespace nslab::client {
namespace {

int interrupt_pipe[2] = {-1, -1};

void OnInterrupt(int) {
  const char byte = 1;
  (void)!::write(interrupt_pipe[1], &byte, 1);
}

// The classic pcap format (microsecond timestamps), which every tool reads.
void WriteGlobalHeader(FILE* out, uint32_t snaplen, uint32_t link_type) {
  const uint32_t magic = 0xa1b2c3d4;
  const uint16_t major = 2, minor = 4;
  const int32_t zone = 0;
  const uint32_t sigfigs = 0;
  std::fwrite(&magic, 4, 1, out);
  std::fwrite(&major, 2, 1, out);
  std::fwrite(&minor, 2, 1, out);
  std::fwrite(&zone, 4, 1, out);
  std::fwrite(&sigfigs, 4, 1, out);
  std::fwrite(&snaplen, 4, 1, out);
  std::fwrite(&link_type, 4, 1, out);
}

void WriteRecord(FILE* out, const nslab::v1::CapturedPacket& packet) {
  const uint32_t header[4] = {static_cast<uint32_t>(packet.ts_sec()), packet.ts_usec(),
                              static_cast<uint32_t>(packet.data().size()),
                              packet.original_length()};
  std::fwrite(header, sizeof(header), 1, out);
  std::fwrite(packet.data().data(), 1, packet.data().size(), out);
}

}  // namespace

void AddCaptureCommand(CLI::App& app, const GlobalOptions& options, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "capture", "Capture packets on a node's interface into a pcap file (tcpdump -w)");
  static std::string lab, node, interface, filter, duration, file;
  static uint32_t count = 0, snaplen = 0;
  cmd->add_option("lab", lab, "Lab name")->required();
  cmd->add_option("node", node, "Node name")->required();
  cmd->add_option("interface", interface, "Interface of the node, or \"any\"")->required();
  cmd->add_option("-f,--filter", filter, "BPF filter in tcpdump syntax, e.g. 'tcp port 443'");
  cmd->add_option("-c,--count", count, "Stop after this many packets");
  cmd->add_option("--duration", duration, "Stop after this long: 500ms, 5s, 1m");
  cmd->add_option("-s,--snaplen", snaplen, "Bytes kept of each packet (default 262144)");
  cmd->add_option("-w,--write", file, "pcap file to write, or - for stdout")->required();
  cmd->footer("Example: nslab capture mylab client eth0 -c 20 -w - | tshark -r -");
  cmd->callback([&options, &exit_code] {
    nslab::v1::CaptureRequest request;
    request.set_lab(lab);
    request.set_node(node);
    request.set_interface(interface);
    request.set_filter(filter);
    request.set_count(count);
    request.set_snaplen(snaplen);
    if (!duration.empty()) {
      auto ms = ParseMilliseconds(duration);
      if (!ms) {
        std::cerr << "nslab: --duration " << duration << ": use e.g. 500ms, 5s, 1m\n";
        exit_code = 2;
        return;
      }
      request.set_duration_ms(*ms);
    }
    FILE* out = file == "-" ? stdout : std::fopen(file.c_str(), "wb");
    if (out == nullptr) {
      std::cerr << "nslab: cannot write " << file << ": " << std::strerror(errno) << "\n";
      exit_code = 2;
      return;
    }
    // Ctrl-C ends the capture cleanly: the daemon stops, the file is complete.
    grpc::ClientContext context;
    if (::pipe(interrupt_pipe) != 0) {
      exit_code = 2;
      return;
    }
    struct sigaction action {};
    action.sa_handler = OnInterrupt;
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);
    std::thread canceller([&context] {
      char byte = 0;
      if (::read(interrupt_pipe[0], &byte, 1) == 1 && byte == 1) {
        context.TryCancel();
      }
    });
    auto stub = nslab::v1::DiagnosticsService::NewStub(Connect(options));
    auto reader = stub->Capture(&context, request);
    nslab::v1::CaptureResponse message;
    uint64_t written = 0;
    bool interrupted = false;
    nslab::v1::CaptureEnd end;
    while (reader->Read(&message)) {
      if (message.has_started()) {
        WriteGlobalHeader(out, message.started().snaplen(), message.started().link_type());
        std::fflush(out);
        std::cerr << "nslab: capturing on " << node << ":"
                  << interface << (filter.empty() ? "" : " (" + filter + ")") << "\n";
      } else if (message.has_packets()) {
        for (const auto& packet : message.packets().packets()) {
          WriteRecord(out, packet);
          ++written;
        }
        std::fflush(out);
      } else if (message.has_end()) {
        end = message.end();
      }
    }
    auto status = reader->Finish();
    const char stop = 0;
    (void)!::write(interrupt_pipe[1], &stop, 1);
    canceller.join();
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::close(interrupt_pipe[0]);
    ::close(interrupt_pipe[1]);
    interrupted = status.error_code() == grpc::StatusCode::CANCELLED;
    if (out != stdout) {
      std::fclose(out);
    } else {
      std::fflush(out);
    }
    if (!status.ok() && !interrupted) {
      exit_code = ReportError(status, options);
      return;
    }
    std::cerr << "nslab: " << written << " packets captured";
    if (end.kernel_dropped() != 0 || end.interface_dropped() != 0) {
      std::cerr << ", " << end.kernel_dropped() << " dropped by kernel, " << end.interface_dropped()
                << " by interface";
    }
    std::cerr << "\n";
  });
}

}  // namespace nslab::client
