# privacy-keys (issue #3, part B): per-subject data keys, sealing, erasure and legal holds.
target_sources(opsbox_privacy PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/keyring.cpp
  ${CMAKE_CURRENT_LIST_DIR}/keyring_providers.cpp
  ${CMAKE_CURRENT_LIST_DIR}/erasure.cpp)
target_link_libraries(opsbox_privacy PUBLIC PkgConfig::SODIUM)

opsbox_test(privacy_keys_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/keys_test.cpp LIBS opsbox_privacy)
opsbox_dbtest(privacy_keys_erasure_dbtest
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/keys_erasure_dbtest.cpp LIBS opsbox_privacy)
