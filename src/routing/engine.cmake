# Routing engine and expression language (issue #4, part D): pure, in-memory, links only core.
# Its own library so that its tests, benchmark and fuzz target build without the service;
# opsbox_routing links it (users include routing/engine.hpp and routing/expression.hpp).
add_library(opsbox_routing_engine STATIC ${CMAKE_CURRENT_LIST_DIR}/expression.cpp
  ${CMAKE_CURRENT_LIST_DIR}/engine.cpp)
target_link_libraries(opsbox_routing_engine PUBLIC opsbox_core)
opsbox_warnings(opsbox_routing_engine)
target_link_libraries(opsbox_routing PUBLIC opsbox_routing_engine)
opsbox_test(routing_expression_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/expression_test.cpp
  LIBS opsbox_routing_engine)
opsbox_test(routing_engine_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/engine_test.cpp
  LIBS opsbox_routing_engine)
