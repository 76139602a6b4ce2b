// Every file in topologies/ is deployed and checked for what it promises.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "client/topology_file.h"
#include "tests/integration/support/daemon_suite.h"
#include "tests/integration/support/host_snapshot.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

using ::testing::HasSubstr;

struct Check {
  std::string node;
  std::vector<std::string> argv;
  std::string expect_in_output;  // empty: only the exit code matters
  int expect_code = 0;
};

struct Example {
  std::string file;
  std::vector<Check> checks;
};

std::vector<Example> Examples() {
  return {
      {"quickstart.yaml", {{"client", {"ping", "-c1", "-W2", "10.0.0.2"}, "1 received"}}},
      {"routed-chain.yaml",
       {{"left", {"ping", "-c1", "-W2", "10.0.4.2"}, "ttl=61"},
        {"right", {"ping", "-c1", "-W2", "10.0.1.2"}, "1 received"},
        {"r2", {"ip", "route", "show", "10.0.4.0/24"}, "via 10.0.3.2"}}},
      {"star-switch.yaml",
       {{"h1", {"ping", "-c1", "-W2", "192.168.50.4"}, "1 received"},
        {"h3", {"ping", "-c1", "-W2", "192.168.50.2"}, "1 received"},
        {"sw", {"ip", "-d", "link", "show", "br0"}, "stp_state 0"},
        {"h4", {"ip", "link", "show", "eth0"}, "02:00:00:00:50:04"},
        {"h4", {"ip", "link", "show", "eth0"}, "mtu 9000"}}},
      {"two-site-policy.yaml",
       {{"a1", {"ping", "-c1", "-W2", "10.2.0.10"}, "1 received"},
        {"a2", {"ping", "-c1", "-W2", "10.3.0.10"}, "1 received"},
        {"edge", {"ip", "route", "get", "10.9.9.9", "from", "10.1.1.10", "iif", "lan1"}, "wan1"},
        {"edge", {"ip", "route", "get", "10.9.9.9", "from", "10.1.2.10", "iif", "lan2"}, "wan2"},
        {"edge", {"ip", "route", "get", "10.9.9.9", "mark", "2"}, "wan2"},
        {"edge", {"ip", "rule", "show"}, "from 10.1.1.0/24 lookup 101"},
        {"edge", {"ip", "route", "get", "198.51.100.7"}, "", 2}}},
      {"nat-gateway.yaml",
       {// MASQUERADE: outside has no route to 10.0.0.0/24, so only a NATed ping returns.
        {"client", {"ping", "-c1", "-W2", "198.51.100.20"}, "1 received"},
        // DNAT port forward, seen from the outside: one fetch, web listens (its ready: tcp).
        {"outside",
         {"python3", "-c",
          "import urllib.request\n"
          "print(urllib.request.urlopen('http://198.51.100.1:80/', timeout=5).status)"},
         "200"},
        // The blocked source times out, and the DROP rule counted it.
        {"blocked",
         {"python3", "-c",
          "import socket\ns=socket.socket(); s.settimeout(1)\n"
          "try: s.connect(('198.51.100.1', 80)); print('connected')\n"
          "except OSError as e: print(type(e).__name__)"},
         "TimeoutError"},
        {"gw", {"nft", "list", "chain", "inet", "filter", "forward"}, "counter packets"}}},
      {"rate-limited.yaml",
       {{"home", {"tc", "qdisc", "show", "dev", "eth0"}, "rate 5Mbit"},
        {"isp", {"tc", "qdisc", "show", "dev", "eth0"}, "rate 20Mbit"},
        {"home", {"nft", "list", "table", "netdev", "nslab_impair_eth0"}, "loss 1%"},
        {"home", {"ping", "-c3", "-i0.2", "-W2", "10.20.0.1"}, "received"}}},
      {"lossy-wire.yaml",
       {{"phone", {"ip", "-d", "link", "show", "wlan0"}, "tun type tap"},
        // At least one of five echoes survives 2% loss each way; each takes >= 70 ms.
        {"phone",
         {"sh", "-c",
          "ping -n -c5 -i0.1 -W2 10.41.0.2 | awk -F/ '/^rtt/ { print ($4 >= 70) ? \"slow\" : "
          "\"fast\" }'"},
         "slow"}}},
      {"flows.yaml",
       {{"app", {"ip", "-d", "link", "show", "eth0"}, "tun type tap"},
        // The SYN to 5432 waits 100 ms on the wire, the one to 6379 does not.
        {"app",
         {"python3", "-c",
          "import socket, time\n"
          "def ms(port):\n"
          "    s = socket.socket(); start = time.monotonic()\n"
          "    try: s.connect(('10.7.1.2', port))\n"
          "    except OSError: pass\n"
          "    return (time.monotonic() - start) * 1000\n"
          "ms(1)\n"
          "print('db slow' if ms(5432) >= 100 else 'db fast', "
          "'cache fast' if ms(6379) < 50 else 'cache slow')"},
         "db slow cache fast"}}},
      {"firewall-file.yaml",
       // The ruleset came from firewall-file.nft, sent by the client as text.
       {{"server", {"nft", "list", "chain", "inet", "server_filter", "input"}, "reject with tcp"},
        {"client", {"ping", "-c1", "-W2", "10.7.0.2"}, "1 received"},
        {"client",
         {"python3", "-c",
          "import socket\ns=socket.socket(); s.settimeout(2)\n"
          "try: s.connect(('10.7.0.2', 22)); print('connected')\n"
          "except OSError as e: print(type(e).__name__)"},
         "ConnectionRefusedError"}}},
      {"participant.yaml",
       // The ustack node answers ping and serves HTTP to the kernel's curl.
       {{"client", {"ping", "-c1", "-W2", "10.8.0.2"}, "1 received"},
        {"client",
         {"sh", "-c", "curl -s --max-time 10 http://10.8.0.2/bytes/1000 | wc -c"},
         "1000"}}},
      {"participant-faults.yaml",
       // Port 80 serves; 81 refuses at once (curl exit 7); 82 drops SYNs (curl times out, 28).
       {{"client",
         {"sh", "-c", "curl -s --max-time 10 http://10.7.0.2/bytes/1000 | wc -c"},
         "1000"},
        {"client", {"curl", "-s", "--max-time", "5", "http://10.7.0.2:81/"}, "", 7},
        {"client", {"curl", "-s", "--max-time", "1", "http://10.7.0.2:82/"}, "", 28}}},
      {"web-pair.yaml",
       // The client reaches both web servers across the wan wire and the edge router.
       {{"client",
         {"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
          "http://10.60.0.11:8080/"},
         "200"},
        {"client",
         {"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
          "http://10.60.0.12:8080/"},
         "200"}}},
      {"dual-stack.yaml",
       // One echo, answered within 2 s: CreateLab returns only once every veth transmits.
       {{"client", {"ping", "-4", "-c1", "-W2", "10.6.2.2"}, "1 received"},
        {"client", {"ping", "-6", "-c1", "-W2", "fd00:6:2::2"}, "1 received"},
        {"client", {"sysctl", "-n", "net.ipv6.conf.all.accept_ra"}, "0"},
        {"r", {"sysctl", "-n", "net.ipv6.conf.all.forwarding"}, "1"}}},
  };
}

class TopologiesTest : public DaemonSuite<::testing::TestWithParam<Example>> {};

TEST_P(TopologiesTest, DeploysAndWorks) {
  const std::string name = UniqueLabName("topo");
  const HostSnapshot before = HostSnapshot::Take(name);
  {
    LabGuard guard(daemon_, name);
    // As the CLI does: the files a topology names travel with it, read beside it.
    const std::string yaml = ReadSourceFile("topologies/" + GetParam().file);
    std::map<std::string, std::string> files;
    for (const std::string& file : client::FilesNamedBy(yaml)) {
      files[file] = ReadSourceFile("topologies/" + file);
    }
    nslab::v1::CreateLabRequest request;
    request.set_topology_yaml(yaml);
    request.set_name(name);
    request.mutable_files()->insert(files.begin(), files.end());
    nslab::v1::CreateLabResponse lab;
    grpc::ClientContext context;
    auto status = daemon_->labs().CreateLab(&context, request, &lab);
    ASSERT_TRUE(status.ok()) << status.error_message();
    for (const Check& check : GetParam().checks) {
      auto result = daemon_->Exec(name, check.node, check.argv);
      ASSERT_TRUE(result.status.ok()) << result.status.error_message();
      EXPECT_EQ(result.code, check.expect_code)
          << check.node << ": " << check.argv[0] << " " << result.out << result.err;
      EXPECT_THAT(result.out + result.err, HasSubstr(check.expect_in_output)) << check.node;
    }
  }
  EXPECT_EQ(HostSnapshot::Take(name).DiffFrom(before), "");
}

INSTANTIATE_TEST_SUITE_P(Files, TopologiesTest, ::testing::ValuesIn(Examples()),
                         [](const ::testing::TestParamInfo<Example>& info) {
                           std::string name = info.param.file.substr(0, info.param.file.find('.'));
                           std::erase(name, '-');
                           return name;
                         });

TEST(TopologiesCoverage, EveryExampleFileIsDeployedByATest) {
  std::set<std::string> tested;
  for (const auto& example : Examples()) {
    tested.insert(example.file);
  }
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(NSLAB_SOURCE_DIR) + "/topologies")) {
    if (entry.path().extension() == ".yaml") {
      EXPECT_TRUE(tested.count(entry.path().filename().string()))
          << entry.path() << " is not deployed by any test";
    }
  }
}

}  // namespace
}  // namespace nslab::testing
