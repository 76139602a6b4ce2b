// Topology files come from repositories and API callers: arbitrary bytes must give a
// topology or an error, never a crash, a hang or undefined behaviour.
#include <cstddef>
#include <cstdint>

#include "daemon/topology/auto_routes.h"
#include "daemon/topology/graph.h"
#include "daemon/topology/yaml_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto topology = nslab::topology::ReadTopologyYaml({reinterpret_cast<const char*>(data), size});
  if (topology.ok()) {
    // A valid topology must also survive everything done with it before building.
    nslab::topology::AddAutoRoutes(&*topology);
    (void)nslab::topology::ToDot(*topology);
    (void)nslab::topology::ToMermaid(*topology);
  }
  return 0;
}
