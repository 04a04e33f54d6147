# PII scanning benchmark (issue #3): throughput on one core over a ~50 MB chat/e-mail corpus and
# precision/recall per type on tests/data/pii/labelled.jsonl; run by bench/pii/run.sh beside
# the npm peer (bench/pii/peer.js).
if(TARGET opsbox_pii)
  add_executable(pii_bench ${CMAKE_CURRENT_LIST_DIR}/pii_bench.cpp)
  target_link_libraries(pii_bench PRIVATE opsbox_pii opsbox_core)
  opsbox_warnings(pii_bench)
endif()
