// Consent look-up micro-benchmark (issue #3): Governance::ConsentAllows answers from memory.
// Fills the consent index with N customers (default 1,000,000) x 3 purposes x 5 channels of
// changes (grants, some later withdrawn), then times random look-ups in batches and prints the
// median nanoseconds per look-up. References measured in the same run on the same keys: a plain
// std::unordered_map<std::string, bool> over "customer/purpose/channel" strings (the naive
// in-memory design) and an indexed SQLite point query on the consents table layout (the
// database the projection lives in), the latter over the first 100,000 customers. Times are
// this thread's CPU time per batch of 1,000 look-ups.
// Prints one JSON object on stdout.
#include <sqlite3.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "privacy/consent.hpp"
#include "privacy/governance.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using opsbox::Instant;
using opsbox::privacy::kConsentChannels;
using opsbox::privacy::kConsentPurposes;

constexpr int kPurposes = 3;
constexpr int kChannels = 5;
constexpr size_t kBatch = 1000;

std::string CustomerId(size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "cus_%020zu", i);
  return buf;
}

struct Key {
  size_t customer;
  int purpose;
  int channel;
};

// CPU time of this thread: the machine may be shared, and wall time would count other
// processes' slices; cache pollution by them still counts.
double ThreadNs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

template <class F>
double MedianNsPerLookup(const std::vector<Key>& keys, F&& lookup, size_t& allowed) {
  std::vector<double> per_batch;
  for (size_t start = 0; start + kBatch <= keys.size(); start += kBatch) {
    const double t0 = ThreadNs();
    for (size_t i = start; i < start + kBatch; ++i) allowed += lookup(keys[i]) ? 1 : 0;
    const double ns = ThreadNs() - t0;
    per_batch.push_back(ns / kBatch);
  }
  std::nth_element(per_batch.begin(), per_batch.begin() + per_batch.size() / 2, per_batch.end());
  return per_batch[per_batch.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const size_t customers = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const size_t lookups = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000000;
  const size_t sql_customers = std::min<size_t>(customers, 100000);
  std::mt19937_64 rng(20260301);
  const Instant t0{1767225600000000};  // 2026-01-01
  const Instant now{t0.us + 86400000000LL * 30};

  opsbox::privacy::detail::ConsentIndex index;
  std::unordered_map<std::string, bool> naive;
  sqlite3* db = nullptr;
  sqlite3_open(":memory:", &db);
  sqlite3_exec(db,
               "CREATE TABLE consents (tenant_id TEXT, customer_id TEXT, purpose TEXT, "
               "channel TEXT, granted BIGINT, at_us BIGINT, PRIMARY KEY (tenant_id, customer_id, "
               "purpose, channel)); BEGIN",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO consents VALUES ('acme', ?, ?, ?, ?, ?)", -1, &ins,
                     nullptr);
  const auto fill0 = Clock::now();
  size_t changes = 0;
  for (size_t c = 0; c < customers; ++c) {
    const std::string id = CustomerId(c);
    for (int p = 0; p < kPurposes; ++p) {
      for (int ch = 0; ch < kChannels; ++ch) {
        const uint64_t r = rng();
        if (r % 3 == 0) continue;  // never asked
        bool granted = true;
        Instant at{t0.us + static_cast<int64_t>(r % 86400000000ULL)};
        index.Apply("acme", id, p, ch, true, at);
        ++changes;
        if ((r >> 20) % 4 == 0) {  // withdrawn a day later
          at = at + opsbox::Duration::Hours(24);
          index.Apply("acme", id, p, ch, false, at);
          granted = false;
          ++changes;
        }
        const std::string key =
            id + "/" + std::string(kConsentPurposes[p]) + "/" + std::string(kConsentChannels[ch]);
        naive[key] = granted;
        if (c < sql_customers) {
          sqlite3_bind_text(ins, 1, id.c_str(), -1, SQLITE_TRANSIENT);
          sqlite3_bind_text(ins, 2, kConsentPurposes[p].data(), -1, SQLITE_STATIC);
          sqlite3_bind_text(ins, 3, kConsentChannels[ch].data(), -1, SQLITE_STATIC);
          sqlite3_bind_int64(ins, 4, granted ? 1 : 0);
          sqlite3_bind_int64(ins, 5, at.us);
          sqlite3_step(ins);
          sqlite3_reset(ins);
        }
      }
    }
  }
  sqlite3_finalize(ins);
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  const double fill_s = std::chrono::duration<double>(Clock::now() - fill0).count();

  std::vector<Key> keys(lookups), sql_keys(std::min<size_t>(lookups, 200000));
  for (auto& k : keys) {
    k = {static_cast<size_t>(rng() % customers), static_cast<int>(rng() % kPurposes),
         static_cast<int>(rng() % kChannels)};
  }
  for (auto& k : sql_keys) {
    k = {static_cast<size_t>(rng() % sql_customers), static_cast<int>(rng() % kPurposes),
         static_cast<int>(rng() % kChannels)};
  }
  std::vector<std::string> ids(customers);
  for (size_t c = 0; c < customers; ++c) ids[c] = CustomerId(c);

  size_t allowed_index = 0, allowed_naive = 0, allowed_sql = 0;
  const double index_ns = MedianNsPerLookup(
      keys,
      [&](const Key& k) {
        return index.Allows("acme", ids[k.customer], kConsentPurposes[k.purpose],
                            kConsentChannels[k.channel], now);
      },
      allowed_index);
  std::string key_buf;
  const double naive_ns = MedianNsPerLookup(
      keys,
      [&](const Key& k) {
        key_buf.assign(ids[k.customer])
            .append("/")
            .append(kConsentPurposes[k.purpose])
            .append("/")
            .append(kConsentChannels[k.channel]);
        auto it = naive.find(key_buf);
        return it != naive.end() && it->second;
      },
      allowed_naive);
  sqlite3_stmt* sel = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT granted FROM consents WHERE tenant_id = 'acme' AND "
                     "customer_id = ? AND purpose = ? AND channel = ? AND at_us <= ?",
                     -1, &sel, nullptr);
  const double sql_ns = MedianNsPerLookup(
      sql_keys,
      [&](const Key& k) {
        sqlite3_bind_text(sel, 1, ids[k.customer].c_str(), -1, SQLITE_STATIC);
        sqlite3_bind_text(sel, 2, kConsentPurposes[k.purpose].data(), -1, SQLITE_STATIC);
        sqlite3_bind_text(sel, 3, kConsentChannels[k.channel].data(), -1, SQLITE_STATIC);
        sqlite3_bind_int64(sel, 4, now.us);
        const bool ok = sqlite3_step(sel) == SQLITE_ROW && sqlite3_column_int64(sel, 0) == 1;
        sqlite3_reset(sel);
        return ok;
      },
      allowed_sql);
  sqlite3_finalize(sel);
  sqlite3_close(db);

  std::printf(
      "{\"customers\": %zu, \"changes\": %zu, \"fill_s\": %.2f, \"lookups\": %zu, "
      "\"index_median_ns\": %.1f, \"index_allowed\": %zu, \"naive_map_median_ns\": %.1f, "
      "\"naive_allowed\": %zu, \"sqlite_customers\": %zu, \"sqlite_lookups\": %zu, "
      "\"sqlite_median_ns\": %.1f}\n",
      customers, changes, fill_s, keys.size(), index_ns, allowed_index, naive_ns, allowed_naive,
      sql_customers, sql_keys.size(), sql_ns);
  return allowed_index == allowed_naive ? 0 : 1;
}
