# Routing engine benchmark (issue #4): 10,000 workers, 500 queues, 100,000 waiting tasks;
# targets >= 200,000 decisions/s and p99 <= 50 us on one core. Run by bench/routing/engine.sh.
add_executable(routing_engine_bench ${CMAKE_CURRENT_LIST_DIR}/engine_bench.cpp)
target_link_libraries(routing_engine_bench PRIVATE opsbox_routing_engine)
opsbox_warnings(routing_engine_bench)
