// Contact policy checks over N accounts with attempt history (issue #11 benchmark): every
// account gets CanContact on one channel at "now", as a worklist rebuild does. Prints JSON lines:
//   {"figure":"sequential",...}  accounts in storage order (the worklist sweep)
//   {"figure":"random",...}      accounts in a shuffled order (single look-ups)
//   {"figure":"reference",...}   the same sweep reading every attempt the check could read
//                                (account record and its history), summing timestamps: the cost
//                                of touching the data, without any rule
// Each figure is the median of --rounds sweeps on one thread. Seed printed; data synthetic.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "collections/contact_policy.hpp"

using namespace opsbox;
using namespace opsbox::collections;

namespace {

double Seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  size_t accounts_n = 1'000'000;
  int rounds = 5;
  uint64_t seed = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--accounts")) accounts_n = std::strtoull(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--rounds")) rounds = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--seed")) seed = std::strtoull(argv[i + 1], nullptr, 10);
  }
  std::fprintf(stderr, "collections_policy_bench: %zu accounts, %d rounds, seed %llu\n", accounts_n,
               rounds, static_cast<unsigned long long>(seed));
  auto loaded = ZoneCatalog::Load();
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s\n", loaded.error().ToString().c_str());
    return 1;
  }
  ZoneCatalog zones = std::move(loaded).value();
  std::vector<uint32_t> sets;
  for (const char* z : {"America/New_York", "America/Chicago", "America/Denver",
                        "America/Los_Angeles", "America/Phoenix", "Pacific/Honolulu",
                        "Asia/Kolkata", "Europe/London"}) {
    sets.push_back(*zones.ResolveZone(z));
  }
  const uint32_t us_set = *zones.ResolveCountry("US");  // accounts without a zone
  const uint32_t in_set = *zones.ResolveCountry("IN");

  ContactPolicy policy = *PresetPolicy("reg_f");
  policy.frequency_caps = {{Channel::kSms, 3, Duration::Hours(168)},
                           {Channel::kWhatsapp, 3, Duration::Hours(168)},
                           {Channel::kEmail, 5, Duration::Hours(168)}};
  for (int d = 0; d < 12; ++d) policy.holidays.push_back(DaysFromCivil(2026, 1 + d, 1));

  // "Now" is a weekday afternoon on the US east coast; history spans the 30 days before.
  const Instant now = *ParseRfc3339("2026-03-04T19:00:00Z", "now");
  std::mt19937_64 rng(seed);
  std::vector<Attempt> arena;
  arena.reserve(accounts_n * 9);
  std::vector<ContactAccount> accounts(accounts_n);
  std::vector<std::pair<size_t, size_t>> spans(accounts_n);
  std::vector<Channel> channels(accounts_n);
  for (size_t i = 0; i < accounts_n; ++i) {
    ContactAccount& a = accounts[i];
    const uint64_t r = rng();
    const unsigned pick = r % 100;
    a.zone_set = pick < 8 ? us_set : pick < 10 ? in_set : sets[(r >> 8) % sets.size()];
    a.flags = ((r >> 16) % 100) < 5 ? static_cast<uint8_t>(1u << ((r >> 24) % 7)) : 0;
    a.consent_given = static_cast<uint8_t>((r >> 32) & 0x0e);
    a.consent_refused = ((r >> 40) % 100) < 3 ? 1 << static_cast<int>(Channel::kEmail) : 0;
    channels[i] = static_cast<Channel>((r >> 48) % 4);
    const size_t begin = arena.size();
    const size_t n = (r >> 52) % 17;  // 0..16 attempts, 8 on average
    std::vector<Attempt> h;
    for (size_t k = 0; k < n; ++k) {
      const uint64_t q = rng();
      Attempt at;
      at.at = now - Duration::Seconds(static_cast<int64_t>(q % (30 * 86400)));
      at.channel = static_cast<Channel>((q >> 32) % 4 == 3 ? (q >> 34) % 4 : 0);
      at.direction = ((q >> 40) % 10) == 0 ? Direction::kInbound : Direction::kOutbound;
      at.outcome = static_cast<Outcome>((q >> 44) % 9);
      h.push_back(at);
    }
    std::sort(h.begin(), h.end(), [](const Attempt& x, const Attempt& y) { return x.at < y.at; });
    arena.insert(arena.end(), h.begin(), h.end());
    spans[i] = {begin, arena.size() - begin};
  }
  for (size_t i = 0; i < accounts_n; ++i) {
    accounts[i].history = std::span<const Attempt>(arena.data() + spans[i].first, spans[i].second);
  }
  std::vector<uint32_t> order(accounts_n);
  std::iota(order.begin(), order.end(), 0u);
  std::shuffle(order.begin(), order.end(), rng);

  size_t allowed = 0, with_next = 0;
  std::array<size_t, kRuleCount> by_rule{};
  auto sweep = [&](bool shuffled, bool count) {
    const auto t0 = std::chrono::steady_clock::now();
    size_t ok = 0;
    for (size_t k = 0; k < accounts_n; ++k) {
      const size_t i = shuffled ? order[k] : k;
      const ContactDecision d =
          CanContact(policy, zones, accounts[i], channels[i], Purpose::kCollection,
                     now + Duration::Micros(static_cast<int64_t>(k)));
      ok += d.allowed;
      if (count) {
        with_next += !d.allowed && d.next_allowed_at.has_value();
        for (const Reason& r : d.Reasons()) ++by_rule[static_cast<size_t>(r.rule)];
      }
    }
    const auto t1 = std::chrono::steady_clock::now();
    if (count) allowed = ok;
    return Seconds(t0, t1);
  };
  auto reference = [&] {
    const auto t0 = std::chrono::steady_clock::now();
    int64_t sum = 0;
    for (size_t i = 0; i < accounts_n; ++i) {
      const ContactAccount& a = accounts[i];
      sum += a.zone_set + a.flags;
      for (const Attempt& at : a.history) sum += at.at.us + static_cast<int64_t>(at.outcome);
    }
    const auto t1 = std::chrono::steady_clock::now();
    if (sum == 42) std::fprintf(stderr, "!");  // keeps the loop
    return Seconds(t0, t1);
  };

  sweep(false, true);  // warm-up, and the decision mix
  std::vector<double> seq, rnd, ref;
  for (int r = 0; r < rounds; ++r) {
    seq.push_back(sweep(false, false));
    rnd.push_back(sweep(true, false));
    ref.push_back(reference());
  }
  const double n = static_cast<double>(accounts_n);
  std::printf("{\"figure\":\"sequential\",\"accounts\":%zu,\"attempts\":%zu,\"checks_per_s\":%.0f,"
              "\"ns_per_check\":%.1f,\"allowed\":%zu,\"refused_with_next\":%zu",
              accounts_n, arena.size(), n / Median(seq), Median(seq) / n * 1e9, allowed, with_next);
  for (size_t r = 0; r < kRuleCount; ++r) {
    std::printf(",\"%s\":%zu", std::string(RuleName(static_cast<Rule>(r))).c_str(), by_rule[r]);
  }
  std::printf("}\n");
  std::printf("{\"figure\":\"random\",\"checks_per_s\":%.0f,\"ns_per_check\":%.1f}\n",
              n / Median(rnd), Median(rnd) / n * 1e9);
  std::printf("{\"figure\":\"reference\",\"accounts_per_s\":%.0f,\"ns_per_account\":%.1f}\n",
              n / Median(ref), Median(ref) / n * 1e9);
  return 0;
}
