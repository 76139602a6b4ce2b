# The CLI starts once for every step of a CI job, so its start-up time is part of every lab's
# cost: the dynamic loader needs ~15 ms to map and relocate gRPC, protobuf and Debian's ~50
# separate abseil libraries, against ~1 ms for one static executable. Debian ships the .a
# files of all of them, so the CLI links them statically (glibc and libstdc++ stay shared).
# Without them (another distribution), it links dynamically like every other target.

find_library(NSLAB_GRPCPP_ARCHIVE NAMES libgrpc++.a)
find_library(NSLAB_PROTOBUF_ARCHIVE NAMES libprotobuf.a)
find_library(NSLAB_YAML_CPP_ARCHIVE NAMES libyaml-cpp.a)
pkg_check_modules(NSLAB_STATIC_GRPC QUIET grpc++ protobuf)

# nslab_static_executable(NAME SOURCES main.cc LIBS our_lib1 our_lib2 ...)
# LIBS are this project's static libraries, dependents before their dependencies; their
# third-party dependencies are linked from the archives above.
function(nslab_static_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  if(NOT NSLAB_GRPCPP_ARCHIVE OR NOT NSLAB_PROTOBUF_ARCHIVE OR NOT NSLAB_YAML_CPP_ARCHIVE
     OR NOT NSLAB_STATIC_GRPC_FOUND OR NSLAB_SANITIZE)
    nslab_executable(${name} SOURCES ${ARG_SOURCES} DEPS ${ARG_LIBS})
    return()
  endif()
  # Compiled against the libraries' usage requirements (include paths, definitions)...
  add_library(${name}_objects OBJECT ${ARG_SOURCES})
  target_include_directories(${name}_objects PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_options(${name}_objects PRIVATE ${NSLAB_WARNINGS})
  target_link_libraries(${name}_objects PRIVATE ${ARG_LIBS})
  # ...but linked by hand, so that no shared library comes in through an imported target.
  add_executable(${name} $<TARGET_OBJECTS:${name}_objects>)
  set(system_libs -ldl -lrt -lm -pthread -latomic -Wl,--push-state,--as-needed -Wl,--pop-state)
  set(archives)
  foreach(flag IN LISTS NSLAB_STATIC_GRPC_STATIC_LDFLAGS)
    if(NOT flag IN_LIST system_libs)
      list(APPEND archives ${flag})
    endif()
  endforeach()
  set(ours)
  foreach(lib IN LISTS ARG_LIBS)
    list(APPEND ours $<TARGET_FILE:${lib}>)
    add_dependencies(${name} ${lib})
  endforeach()
  target_link_libraries(${name} PRIVATE ${ours} -Wl,-Bstatic -lyaml-cpp ${archives} -Wl,-Bdynamic
                                        -pthread -ldl -lrt -lm)
endfunction()
