# Contact policy benchmark (issue #11): checks over 1,000,000 accounts with attempt history;
# target >= 5,000,000 checks/s on one core. Run by bench/collections/policy.sh.
add_executable(collections_policy_bench ${CMAKE_CURRENT_LIST_DIR}/policy_bench.cpp)
target_link_libraries(collections_policy_bench PRIVATE opsbox_collections_policy)
opsbox_warnings(collections_policy_bench)
