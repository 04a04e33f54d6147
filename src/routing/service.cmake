# Routing service (issue #4, part E): the routing engine on the ledger — commands, projections,
# restore at start, the timer/dispatch thread, live statistics. See service.hpp.
target_sources(opsbox_routing PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/service.cpp
  ${CMAKE_CURRENT_LIST_DIR}/service_bridge.cpp
  ${CMAKE_CURRENT_LIST_DIR}/service_commands.cpp
  ${CMAKE_CURRENT_LIST_DIR}/service_decide.cpp
  ${CMAKE_CURRENT_LIST_DIR}/service_projection.cpp
  ${CMAKE_CURRENT_LIST_DIR}/service_reads.cpp)
target_link_libraries(opsbox_routing PUBLIC opsbox_ledger opsbox_store PRIVATE spdlog::spdlog)
if(TARGET opsbox_identity)
  target_link_libraries(opsbox_routing PUBLIC opsbox_identity)
endif()
if(TARGET opsbox_live)
  target_link_libraries(opsbox_routing PUBLIC opsbox_live)
  target_compile_definitions(opsbox_routing PRIVATE OPSBOX_ROUTING_WITH_LIVE=1)
endif()

opsbox_dbtest(routing_service_dbtest SOURCES ${CMAKE_CURRENT_LIST_DIR}/service_dbtest.cpp
  LIBS opsbox_routing)
opsbox_test(routing_service_decide_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/service_decide_test.cpp
  LIBS opsbox_routing)
