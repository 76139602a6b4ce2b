#include "daemon/topology/graph.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace nslab::topology {
namespace {

using nslab::v1::Endpoint;

std::string EndLabel(const Endpoint& end) {
  std::string label = end.interface();
  if (!end.addresses().empty()) {
    absl::StrAppend(&label, " ", absl::StrJoin(end.addresses(), " "));
  }
  return label;
}

const char* DotShape(nslab::v1::NodeKind kind) {
  switch (kind) {
    case nslab::v1::NODE_KIND_ROUTER:
      return "octagon";
    case nslab::v1::NODE_KIND_SWITCH:
      return "box3d";
    case nslab::v1::NODE_KIND_USTACK:
      return "component";
    default:
      return "box";
  }
}

std::string KindName(nslab::v1::NodeKind kind) {
  switch (kind) {
    case nslab::v1::NODE_KIND_ROUTER:
      return "router";
    case nslab::v1::NODE_KIND_SWITCH:
      return "switch";
    case nslab::v1::NODE_KIND_USTACK:
      return "ustack";
    default:
      return "host";
  }
}

// Node names may hold '-', which Mermaid ids may not.
std::string MermaidId(const std::string& name) { return absl::StrReplaceAll(name, {{"-", "_"}}); }

}  // namespace

std::string ToDot(const nslab::v1::Topology& topology) {
  std::string out =
      absl::StrCat("graph \"", topology.name(), "\" {\n  node [fontname=\"monospace\"];\n");
  for (const auto& node : topology.nodes()) {
    absl::StrAppend(&out, "  \"", node.name(), "\" [shape=", DotShape(node.kind()), ", label=\"",
                    node.name(), "\\n", KindName(node.kind()), "\"];\n");
  }
  for (const auto& link : topology.links()) {
    absl::StrAppend(&out, "  \"", link.a().node(), "\" -- \"", link.b().node(), "\" [taillabel=\"",
                    EndLabel(link.a()), "\", headlabel=\"", EndLabel(link.b()), "\"",
                    link.name().empty() ? "" : absl::StrCat(", label=\"", link.name(), "\""),
                    "];\n");
  }
  absl::StrAppend(&out, "}\n");
  return out;
}

std::string ToMermaid(const nslab::v1::Topology& topology) {
  std::string out = "flowchart LR\n";
  for (const auto& node : topology.nodes()) {
    const std::string id = MermaidId(node.name());
    const std::string text = absl::StrCat(node.name(), "<br/>", KindName(node.kind()));
    switch (node.kind()) {
      case nslab::v1::NODE_KIND_ROUTER:
        absl::StrAppend(&out, "  ", id, "{{\"", text, "\"}}\n");
        break;
      case nslab::v1::NODE_KIND_SWITCH:
        absl::StrAppend(&out, "  ", id, "[[\"", text, "\"]]\n");
        break;
      default:
        absl::StrAppend(&out, "  ", id, "[\"", text, "\"]\n");
    }
  }
  for (const auto& link : topology.links()) {
    absl::StrAppend(&out, "  ", MermaidId(link.a().node()), " ---|\"", EndLabel(link.a()), " — ",
                    EndLabel(link.b()), "\"| ", MermaidId(link.b().node()), "\n");
  }
  return out;
}

}  // namespace nslab::topology
