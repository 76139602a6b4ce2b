# Every dependency comes from Debian's packages (scripts/setup.sh installs them).
find_package(Threads REQUIRED)
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(absl CONFIG REQUIRED)
# nslabd checks its TLS files itself (certificate, key, that they match) to name the bad one.
find_package(OpenSSL REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(GTest REQUIRED)
if(NSLAB_BENCH AND NOT NSLAB_SANITIZE)
  find_package(benchmark REQUIRED)
endif()
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBNL REQUIRED IMPORTED_TARGET libnl-3.0 libnl-route-3.0)
# ctnetlink (conntrack -L) for diag.
pkg_check_modules(LIBNL_NF REQUIRED IMPORTED_TARGET libnl-nf-3.0)
pkg_check_modules(LIBNFTABLES REQUIRED IMPORTED_TARGET libnftables)
pkg_check_modules(LIBPCAP REQUIRED IMPORTED_TARGET libpcap)
find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
