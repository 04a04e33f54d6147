# KPI benchmarks (issue #13): the KPI read over N routing events beside SQL over the raw events,
# and the writer's throughput with and without the KPI aggregator. Run by bench/kpis/kpis.sh.
add_executable(kpis_bench ${CMAKE_CURRENT_LIST_DIR}/kpis_bench.cpp)
target_link_libraries(kpis_bench PRIVATE opsbox_kpis opsbox_ledger opsbox_store opsbox_core)
opsbox_warnings(kpis_bench)
