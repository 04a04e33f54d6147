# Backup and restore (issue #18): time and size beside sqlite3 .backup and pg_dump, and the
# writer's commands/s while a backup runs; run by backup.sh.
add_executable(backup_bench ${CMAKE_CURRENT_LIST_DIR}/backup_bench.cpp)
target_link_libraries(backup_bench PRIVATE opsbox_backup opsbox_integrations opsbox_identity
  opsbox_ledger opsbox_store opsbox_core)
opsbox_warnings(backup_bench)
