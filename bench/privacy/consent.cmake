# Consent look-up micro-benchmark (issue #3): median ns per ConsentAllows over 1M customers x
# purposes x channels, beside a plain hash map and an indexed SQLite query; run by consent.sh.
add_executable(privacy_consent_bench ${CMAKE_CURRENT_LIST_DIR}/consent_bench.cpp)
target_link_libraries(privacy_consent_bench PRIVATE opsbox_privacy SQLite::SQLite3)
opsbox_warnings(privacy_consent_bench)
