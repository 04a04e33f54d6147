# Verifiability half of the ledger: Merkle tree, signed checkpoints, reader and verifier.
# Included by src/ledger/CMakeLists.txt after the opsbox_ledger target exists.
target_sources(opsbox_ledger PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/merkle.cpp
  ${CMAKE_CURRENT_LIST_DIR}/checkpoint.cpp
  ${CMAKE_CURRENT_LIST_DIR}/reader.cpp
  ${CMAKE_CURRENT_LIST_DIR}/verify.cpp)

opsbox_test(ledger_merkle_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/merkle_test.cpp
  LIBS opsbox_ledger)

opsbox_dbtest(ledger_proofs_dbtest
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/checkpoint_dbtest.cpp
          ${CMAKE_CURRENT_LIST_DIR}/reader_dbtest.cpp
          ${CMAKE_CURRENT_LIST_DIR}/verify_dbtest.cpp
  LIBS opsbox_ledger)
