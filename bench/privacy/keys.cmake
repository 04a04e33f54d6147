# Encrypt-on-append overhead (issue #3): the ledger writer appending events with personal fields,
# sealed per data subject versus the same events in clear, in one run; run by keys.sh.
add_executable(privacy_keys_bench ${CMAKE_CURRENT_LIST_DIR}/keys_bench.cpp)
target_link_libraries(privacy_keys_bench PRIVATE opsbox_privacy opsbox_ledger opsbox_store
  opsbox_core)
opsbox_warnings(privacy_keys_bench)
