// OPSBOX_ASSERT: invariants of the ledger, money and state machines. Stays on in release builds:
// crashing beats writing a wrong event (STYLE.md "Errors" 2).
#pragma once

namespace opsbox::detail {
[[noreturn]] void AssertFail(const char* expr, const char* file, int line, const char* msg);
}

#define OPSBOX_ASSERT(cond)                                                      \
  do {                                                                           \
    if (!(cond)) ::opsbox::detail::AssertFail(#cond, __FILE__, __LINE__, "");    \
  } while (0)
#define OPSBOX_ASSERT_MSG(cond, msg)                                             \
  do {                                                                           \
    if (!(cond)) ::opsbox::detail::AssertFail(#cond, __FILE__, __LINE__, (msg)); \
  } while (0)
