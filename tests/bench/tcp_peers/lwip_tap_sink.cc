// The benchmark's peer implementation: lwIP (Debian's liblwip, as packaged) on a TAP device,
// serving TCP discard (9) and echo (7), the same services the ustack node offers. The TAP is
// created in the namespace this runs in; the kernel on the other side of it is the client.
// With --source it also connects out, as the ustack's `source` client does, and sends until the
// server shuts its side down (the benchmark's send direction).
//
//   lwip_tap_sink --tap lw0 --addr 10.93.0.2 --prefix 24 [--source 10.93.0.1:5001]
//
// One thread reads frames from the TAP into lwIP's tcpip thread (tcpip_input); lwIP writes
// frames back from that thread. Runs until SIGTERM or SIGINT.
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <future>
#include <string>
#include <thread>
#include <vector>

// Debian's port header (arch/sys_arch.h, pulled in by tcpip.h) declares the core lock without
// C linkage guards.
extern "C" {
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/tcpip.h"
#include "netif/ethernet.h"
}

namespace {

constexpr size_t kMaxFrame = 1514 + 4;
constexpr std::array<uint8_t, 6> kMac = {0x02, 0x00, 0x00, 0x93, 0x00, 0x02};

int tap_fd = -1;
std::atomic<bool> stopping{false};

err_t LinkOutput(struct netif*, struct pbuf* p) {
  std::array<char, kMaxFrame> frame;
  if (p->tot_len > frame.size()) {
    return ERR_BUF;
  }
  pbuf_copy_partial(p, frame.data(), p->tot_len, 0);
  // A full TAP queue drops the frame, as a NIC would; TCP recovers.
  (void)::write(tap_fd, frame.data(), p->tot_len);
  return ERR_OK;
}

err_t TapNetifInit(struct netif* netif) {
  netif->name[0] = 't';
  netif->name[1] = 'p';
  netif->output = etharp_output;
  netif->linkoutput = LinkOutput;
  netif->mtu = 1500;
  netif->hwaddr_len = ETH_HWADDR_LEN;
  std::memcpy(netif->hwaddr, kMac.data(), kMac.size());
  netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
  return ERR_OK;
}

// Discard: acknowledge and free everything; close when the client does.
err_t DiscardRecv(void*, struct tcp_pcb* pcb, struct pbuf* p, err_t) {
  if (p == nullptr) {
    tcp_close(pcb);
    return ERR_OK;
  }
  tcp_recved(pcb, p->tot_len);
  pbuf_free(p);
  return ERR_OK;
}

// Echo: send back what came, at once (Nagle off: a 1-byte request gets its answer now).
err_t EchoRecv(void*, struct tcp_pcb* pcb, struct pbuf* p, err_t) {
  if (p == nullptr) {
    tcp_close(pcb);
    return ERR_OK;
  }
  if (p->tot_len > tcp_sndbuf(pcb)) {
    return ERR_MEM;  // lwIP keeps the pbuf and offers it again later
  }
  for (struct pbuf* q = p; q != nullptr; q = q->next) {
    tcp_write(pcb, q->payload, q->len, TCP_WRITE_FLAG_COPY);
  }
  tcp_output(pcb);
  tcp_recved(pcb, p->tot_len);
  pbuf_free(p);
  return ERR_OK;
}

err_t Accept(void* arg, struct tcp_pcb* pcb, err_t err) {
  if (err != ERR_OK || pcb == nullptr) {
    return ERR_VAL;
  }
  tcp_nagle_disable(pcb);
  tcp_recv(pcb, reinterpret_cast<tcp_recv_fn>(arg));
  return ERR_OK;
}

bool Listen(uint16_t port, tcp_recv_fn on_receive) {
  struct tcp_pcb* pcb = tcp_new();
  if (pcb == nullptr || tcp_bind(pcb, IP_ADDR_ANY, port) != ERR_OK) {
    return false;
  }
  pcb = tcp_listen(pcb);
  if (pcb == nullptr) {
    return false;
  }
  tcp_arg(pcb, reinterpret_cast<void*>(on_receive));
  tcp_accept(pcb, Accept);
  return true;
}

// The source: writes from one static block (lwIP keeps pointers into it until acknowledged,
// so no copy) whenever the send buffer has room; closes once the server shuts down.
const std::vector<char>& SourceBlock() {
  static const std::vector<char> block = [] {
    std::vector<char> bytes(251 * 256);
    for (size_t i = 0; i < bytes.size(); ++i) {
      bytes[i] = static_cast<char>(i % 251);
    }
    return bytes;
  }();
  return block;
}

void SourceFill(struct tcp_pcb* pcb) {
  const std::vector<char>& block = SourceBlock();
  for (;;) {
    const u16_t room = tcp_sndbuf(pcb);
    if (room == 0 || tcp_sndqueuelen(pcb) >= TCP_SND_QUEUELEN) {
      break;
    }
    const u16_t len = static_cast<u16_t>(std::min<size_t>(room, 16 * 1024));
    if (tcp_write(pcb, block.data(), len, 0) != ERR_OK) {
      break;
    }
  }
  tcp_output(pcb);
}

err_t SourceSent(void*, struct tcp_pcb* pcb, u16_t) {
  SourceFill(pcb);
  return ERR_OK;
}

err_t SourceRecv(void*, struct tcp_pcb* pcb, struct pbuf* p, err_t) {
  if (p == nullptr) {
    tcp_sent(pcb, nullptr);
    tcp_close(pcb);
    return ERR_OK;
  }
  tcp_recved(pcb, p->tot_len);
  pbuf_free(p);
  return ERR_OK;
}

err_t SourceConnected(void*, struct tcp_pcb* pcb, err_t err) {
  if (err != ERR_OK) {
    return err;
  }
  tcp_sent(pcb, SourceSent);
  tcp_recv(pcb, SourceRecv);
  SourceFill(pcb);
  return ERR_OK;
}

bool Connect(const ip4_addr_t& server, uint16_t port) {
  struct tcp_pcb* pcb = tcp_new();
  if (pcb == nullptr) {
    return false;
  }
  tcp_err(pcb, [](void*, err_t err) { std::fprintf(stderr, "lwip source: error %d\n", err); });
  ip_addr_t address;
  ip_addr_copy_from_ip4(address, server);
  return tcp_connect(pcb, &address, port, SourceConnected) == ERR_OK;
}

int OpenTap(const std::string& name) {
  const int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    std::perror("open /dev/net/tun");
    return -1;
  }
  ifreq request{};
  std::snprintf(request.ifr_name, IFNAMSIZ, "%s", name.c_str());
  request.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (::ioctl(fd, TUNSETIFF, &request) != 0) {
    std::perror("TUNSETIFF");
    ::close(fd);
    return -1;
  }
  const int control = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (control < 0 || ::ioctl(control, SIOCGIFFLAGS, &request) != 0) {
    std::perror("SIOCGIFFLAGS");
    ::close(fd);
    return -1;
  }
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
  const bool up = ::ioctl(control, SIOCSIFFLAGS, &request) == 0;
  ::close(control);
  if (!up) {
    std::perror("SIOCSIFFLAGS");
    ::close(fd);
    return -1;
  }
  return fd;
}

void OnSignal(int) { stopping = true; }

}  // namespace

int main(int argc, char** argv) {
  std::string tap;
  std::string addr;
  int prefix = 24;
  std::string source;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--tap") {
      tap = argv[i + 1];
    } else if (flag == "--addr") {
      addr = argv[i + 1];
    } else if (flag == "--prefix") {
      prefix = std::atoi(argv[i + 1]);
    } else if (flag == "--source") {
      source = argv[i + 1];
    }
  }
  ip4_addr_t ip;
  ip4_addr_t source_ip;
  const size_t colon = source.find(':');
  const int source_port = colon == std::string::npos ? 0 : std::atoi(source.c_str() + colon + 1);
  if (tap.empty() || !ip4addr_aton(addr.c_str(), &ip) || prefix < 1 || prefix > 30 ||
      (!source.empty() && (!ip4addr_aton(source.substr(0, colon).c_str(), &source_ip) ||
                           source_port < 1 || source_port > 65535))) {
    std::fprintf(stderr,
                 "usage: lwip_tap_sink --tap NAME --addr A.B.C.D [--prefix LEN] "
                 "[--source A.B.C.D:PORT]\n");
    return 2;
  }
  tap_fd = OpenTap(tap);
  if (tap_fd < 0) {
    return 1;
  }
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);

  std::promise<void> started;
  tcpip_init([](void* done) { static_cast<std::promise<void>*>(done)->set_value(); }, &started);
  started.get_future().wait();

  static struct netif netif;
  ip4_addr_t mask;
  ip4_addr_set_u32(&mask, lwip_htonl(~0u << (32 - prefix)));
  ip4_addr_t gateway;
  ip4_addr_set_zero(&gateway);
  LOCK_TCPIP_CORE();
  netif_add(&netif, &ip, &mask, &gateway, nullptr, TapNetifInit, tcpip_input);
  netif_set_default(&netif);
  netif_set_up(&netif);
  netif_set_link_up(&netif);
  const bool listening = Listen(9, DiscardRecv) && Listen(7, EchoRecv);
  UNLOCK_TCPIP_CORE();
  if (!listening) {
    std::fprintf(stderr, "lwip_tap_sink: cannot listen on 7 and 9\n");
    return 1;
  }
  std::printf("lwip_tap_sink: lwIP %s on %s, %s/%d, discard 9, echo 7\n", LWIP_VERSION_STRING,
              tap.c_str(), addr.c_str(), prefix);
  std::fflush(stdout);
  if (!source.empty()) {
    // Connects once the reader below runs and the script has addressed the kernel's side.
    std::thread([source_ip, source_port] {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      LOCK_TCPIP_CORE();
      const bool connecting = Connect(source_ip, static_cast<uint16_t>(source_port));
      UNLOCK_TCPIP_CORE();
      if (!connecting) {
        std::fprintf(stderr, "lwip_tap_sink: cannot connect\n");
      }
    }).detach();
  }

  // Frames into lwIP: tcpip_input queues each to the tcpip thread; heap pbufs (Debian's
  // build has MEM_LIBC_MALLOC), so the small default pbuf pool is not the limit.
  std::vector<char> frame(kMaxFrame + 1);
  while (!stopping) {
    const ssize_t n = ::read(tap_fd, frame.data(), frame.size());
    if (n <= 0) {
      continue;  // EINTR from the stop signal, or a transient error
    }
    struct pbuf* p = pbuf_alloc(PBUF_RAW, static_cast<u16_t>(n), PBUF_RAM);
    if (p == nullptr) {
      continue;
    }
    pbuf_take(p, frame.data(), static_cast<u16_t>(n));
    if (netif.input(p, &netif) != ERR_OK) {
      pbuf_free(p);
    }
  }
  ::close(tap_fd);
  return 0;
}
