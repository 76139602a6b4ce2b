// How a trace recognises the probe after NAT: its forms, the translations a connection table
// records, and the ones only a header shows.
#include "daemon/diag/trace_nat.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>

#include "daemon/diag/trace_packet.h"

namespace nslab::diag {
namespace {

Probe TcpProbe() { return Probe{"tcp", "198.51.100.1", 80, 40000}; }

Packet Tcp(const std::string& src, uint16_t sport, const std::string& dst, uint16_t dport) {
  Packet p;
  p.ok = true;
  p.protocol = IPPROTO_TCP;
  p.src = src;
  p.dst = dst;
  p.sport = sport;
  p.dport = dport;
  return p;
}

nslab::v1::ConntrackEntry Entry(const std::string& protocol, FlowForm original, FlowForm reply) {
  nslab::v1::ConntrackEntry entry;
  entry.set_protocol(protocol);
  auto fill = [](const FlowForm& form, nslab::v1::ConntrackTuple* tuple) {
    tuple->set_source(form.src);
    tuple->set_destination(form.dst);
    tuple->set_source_port(form.sport);
    tuple->set_destination_port(form.dport);
  };
  fill(original, entry.mutable_original());
  fill(reply, entry.mutable_reply());
  return entry;
}

TEST(TraceNatTest, ConntrackShowsAPortForward) {
  nslab::v1::ConntrackResponse table;
  // Another connection first: only the probe's own entry counts.
  *table.add_entries() = Entry("tcp", {"198.51.100.20", "198.51.100.1", 40001, 80},
                               {"10.0.0.10", "198.51.100.20", 8080, 40001});
  *table.add_entries() = Entry("tcp", {"198.51.100.20", "198.51.100.1", 40000, 80},
                               {"10.0.0.10", "198.51.100.20", 8080, 40000});
  const FlowForm arriving{"198.51.100.20", "198.51.100.1", 40000, 80};
  auto found = TranslationsInConntrack(table, "tcp", arriving);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].kind, "dnat");
  EXPECT_EQ(found[0].after, (FlowForm{"198.51.100.20", "10.0.0.10", 40000, 8080}));
  EXPECT_EQ(TranslationText(found[0], "tcp"), "dnat 198.51.100.1:80 -> 10.0.0.10:8080");
}

TEST(TraceNatTest, ConntrackShowsMasqueradeAndNothingForAPlainFlow) {
  nslab::v1::ConntrackResponse table;
  *table.add_entries() = Entry("udp", {"10.0.0.20", "198.51.100.20", 5000, 53},
                               {"198.51.100.20", "198.51.100.1", 53, 5000});
  *table.add_entries() = Entry("udp", {"10.0.0.21", "198.51.100.20", 5000, 53},
                               {"198.51.100.20", "10.0.0.21", 53, 5000});
  auto masqueraded =
      TranslationsInConntrack(table, "udp", FlowForm{"10.0.0.20", "198.51.100.20", 5000, 53});
  ASSERT_EQ(masqueraded.size(), 1u);
  EXPECT_EQ(masqueraded[0].kind, "snat");
  EXPECT_EQ(TranslationText(masqueraded[0], "udp"), "snat 10.0.0.20:5000 -> 198.51.100.1:5000");
  EXPECT_TRUE(
      TranslationsInConntrack(table, "udp", FlowForm{"10.0.0.21", "198.51.100.20", 5000, 53})
          .empty());
  EXPECT_TRUE(
      TranslationsInConntrack(table, "tcp", FlowForm{"10.0.0.20", "198.51.100.20", 5000, 53})
          .empty());
}

TEST(TraceNatTest, HeadersShowADnatTheTableNeverConfirmed) {
  const FlowForm arriving{"198.51.100.66", "198.51.100.1", 40000, 80};
  auto dnat =
      TranslationInHeader(TcpProbe(), arriving, Tcp("198.51.100.66", 40000, "10.0.0.10", 8080));
  ASSERT_TRUE(dnat.has_value());
  EXPECT_EQ(dnat->kind, "dnat");
  EXPECT_EQ(dnat->after, (FlowForm{"198.51.100.66", "10.0.0.10", 40000, 8080}));
  // The probe unchanged, or another flow: nothing.
  EXPECT_FALSE(
      TranslationInHeader(TcpProbe(), arriving, Tcp("198.51.100.66", 40000, "198.51.100.1", 80))
          .has_value());
  EXPECT_FALSE(
      TranslationInHeader(TcpProbe(), arriving, Tcp("198.51.100.67", 40000, "10.0.0.10", 8080))
          .has_value());
}

TEST(TraceNatTest, AnAnswerToTheRewrittenSourceShowsMasquerade) {
  const FlowForm arriving{"10.0.0.20", "198.51.100.20", 40000, 80};
  auto snat =
      TranslationInHeader(TcpProbe(), arriving, Tcp("198.51.100.20", 80, "198.51.100.1", 40000));
  ASSERT_TRUE(snat.has_value());
  EXPECT_EQ(snat->kind, "snat");
  EXPECT_EQ(TranslationText(*snat, "tcp"), "snat 10.0.0.20:40000 -> 198.51.100.1:40000");
  // The answer as the source sees it (already translated back): nothing.
  EXPECT_FALSE(
      TranslationInHeader(TcpProbe(), arriving, Tcp("198.51.100.20", 80, "10.0.0.20", 40000))
          .has_value());
}

TEST(TraceNatTest, DirectionFollowsEveryFormOfTheProbe) {
  const std::vector<FlowForm> forms = {{"198.51.100.20", "198.51.100.1", 40000, 80},
                                       {"198.51.100.20", "10.0.0.10", 40000, 8080}};
  const Probe probe = TcpProbe();
  EXPECT_EQ(DirectionOf(probe, forms, Tcp("198.51.100.20", 40000, "198.51.100.1", 80)),
            PacketDirection::kProbe);
  EXPECT_EQ(DirectionOf(probe, forms, Tcp("198.51.100.20", 40000, "10.0.0.10", 8080)),
            PacketDirection::kProbe);
  EXPECT_EQ(DirectionOf(probe, forms, Tcp("10.0.0.10", 8080, "198.51.100.20", 40000)),
            PacketDirection::kAnswer);
  EXPECT_EQ(DirectionOf(probe, forms, Tcp("198.51.100.1", 80, "198.51.100.20", 40000)),
            PacketDirection::kAnswer);
  // The same source port in another conversation.
  EXPECT_EQ(DirectionOf(probe, forms, Tcp("10.0.0.20", 40000, "10.0.0.10", 8080)),
            PacketDirection::kUnrelated);
  Packet unreachable;
  unreachable.ok = true;
  unreachable.protocol = IPPROTO_ICMP;
  unreachable.icmp_type = ICMP_DEST_UNREACH;
  unreachable.src = "10.0.0.1";
  unreachable.dst = "198.51.100.20";
  EXPECT_EQ(DirectionOf(probe, forms, unreachable), PacketDirection::kAnswer);
}

}  // namespace
}  // namespace nslab::diag
