// The SLA timer service (case_ledger.hpp): deadlines in memory, ordered by instant; a thread that
// sleeps until the earliest and submits record_case_sla as a system command.
#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <tuple>

#include "cases/case_ledger.hpp"
#include "ledger/writer.hpp"

namespace opsbox::cases {
namespace {

// (tenant, case, target, kind)
using Key = std::tuple<std::string, std::string, std::string, std::string>;

std::string CommandId(const Key& k) {
  return "case_sla:" + std::get<1>(k) + ":" + std::get<2>(k) + ":" + std::get<3>(k);
}

bool IsCaseEvent(std::string_view type) {
  return type == kCaseOpened || type == kCaseTransitioned || type == kCaseNoteAdded ||
         type == kCaseSlaAtRisk || type == kCaseSlaBreached;
}

}  // namespace

struct SlaTimer::State {
  State(store::Database& d, Clock& c, SlaTimerOptions o) : db(d), clock(c), options(o) {}
  store::Database& db;
  Clock& clock;
  SlaTimerOptions options;
  ledger::Writer* writer = nullptr;

  mutable std::mutex mu;
  std::condition_variable cv;
  std::map<Key, int64_t> at_of;              // the current deadline of each key
  std::set<std::pair<int64_t, Key>> queue;  // ordered by instant
  std::set<Key> fired;                      // recorded since start: never again
  bool wake = false, stop = false;
  std::thread thread;

  std::mutex wait_mu;
  std::condition_variable wait_cv;
  size_t in_flight = 0;

  // Sets (at_us > 0) or clears a key's deadline. Caller holds mu.
  void Set(const Key& k, int64_t at_us) {
    auto it = at_of.find(k);
    if (it != at_of.end()) {
      queue.erase({it->second, k});
      at_of.erase(it);
    }
    if (at_us <= 0 || fired.contains(k) || at_of.size() >= options.deadlines_max) return;
    at_of.emplace(k, at_us);
    queue.insert({at_us, k});
  }

  void OnCommitted(const std::vector<ledger::Event>& events) {
    bool any = false;
    std::lock_guard lock(mu);
    for (const auto& e : events) {
      if (!IsCaseEvent(e.type)) continue;
      const Json p = Json::parse(e.payload, nullptr, false);
      if (!p.is_object()) continue;
      const std::string id = p.value("case_id", "");
      any = true;
      if (e.type == kCaseSlaAtRisk || e.type == kCaseSlaBreached) {
        const Key k{e.tenant_id, id, p.value("target", ""),
                    e.type == kCaseSlaBreached ? "breached" : "at_risk"};
        Set(k, 0);
        fired.insert(k);
        continue;
      }
      const Json sla = p.value("sla", Json::object());
      const int64_t fr_due = sla.value("fr_due_at_us", int64_t{0});
      const int64_t res_due = sla.value("res_due_at_us", int64_t{0});
      Set({e.tenant_id, id, "first_response", "breached"}, fr_due);
      Set({e.tenant_id, id, "first_response", "at_risk"},
          fr_due > 0 ? sla.value("fr_at_risk_at_us", int64_t{0}) : 0);
      Set({e.tenant_id, id, "resolution", "breached"}, res_due);
      Set({e.tenant_id, id, "resolution", "at_risk"},
          res_due > 0 ? sla.value("res_at_risk_at_us", int64_t{0}) : 0);
    }
    if (any) {
      wake = true;
      cv.notify_all();
    }
  }

  // Takes the deadlines due at `now` off the queue, as commands.
  std::vector<ledger::Command> Collect(Instant now) {
    std::vector<ledger::Command> out;
    std::lock_guard lock(mu);
    wake = false;
    while (!queue.empty() && queue.begin()->first <= now.us &&
           out.size() < options.fires_per_round_max) {
      const Key k = queue.begin()->second;
      Set(k, 0);
      if (writer != nullptr && !writer->OwnsTenant(std::get<0>(k))) continue;
      out.push_back(ledger::Command{std::get<0>(k), CommandId(k), std::string(kRecordCaseSla),
                                    "system",
                                    Json{{"case_id", std::get<1>(k)},
                                         {"target", std::get<2>(k)},
                                         {"kind", std::get<3>(k)}}});
    }
    return out;
  }

  void Submit(std::vector<ledger::Command> commands, bool track) {
    if (track) {
      std::lock_guard lock(wait_mu);
      in_flight += commands.size();
    }
    for (auto& cmd : commands) {
      Key k{cmd.tenant_id, cmd.payload.value("case_id", ""), cmd.payload.value("target", ""),
            cmd.payload.value("kind", "")};
      writer->Submit(std::move(cmd), [this, k = std::move(k),
                                      track](Result<ledger::CommandOutcome> r) {
        if (!r.ok()) {
          spdlog::warn("cases: SLA timer for {} {}: {}", std::get<1>(k), std::get<2>(k),
                       r.error().ToString());
        }
        if (!r.ok() && r.error().code == ErrorCode::kInternal) {
          // A database fault: retried a second later.
          std::lock_guard lock(mu);
          Set(k, clock.Now().us + 1'000'000);
        }
        if (!track) return;
        std::lock_guard lock(wait_mu);
        if (--in_flight == 0) wait_cv.notify_all();
      });
    }
  }

  Status Load() {
    OPSBOX_ASSIGN_OR_RETURN(auto conn, db.Connect());
    OPSBOX_ASSIGN_OR_RETURN(auto deadlines, PendingDeadlines(*conn, options.deadlines_max));
    std::lock_guard lock(mu);
    for (const auto& d : deadlines) Set({d.tenant, d.case_id, d.target, d.kind}, d.at.us);
    wake = true;
    return Ok();
  }

  void Run() {
    for (;;) {
      Submit(Collect(clock.Now()), false);
      std::unique_lock lock(mu);
      int64_t sleep_ms = options.sleep_ms_max;
      if (!queue.empty()) {
        const int64_t until_ms = (queue.begin()->first - clock.Now().us) / 1000 + 1;
        sleep_ms = std::clamp<int64_t>(until_ms, 0, sleep_ms);
      }
      cv.wait_for(lock, std::chrono::milliseconds(sleep_ms), [&] { return stop || wake; });
      if (stop) return;
    }
  }
};

SlaTimer::SlaTimer(store::Database& db, Clock& clock, SlaTimerOptions options)
    : s_(std::make_unique<State>(db, clock, options)) {}

SlaTimer::~SlaTimer() { Stop(); }

void SlaTimer::Register(ledger::Registry& registry) {
  registry.AddCommittedListener(
      [s = s_.get()](const std::vector<ledger::Event>& events) { s->OnCommitted(events); });
}

Status SlaTimer::Start(ledger::Writer& writer) {
  s_->writer = &writer;
  OPSBOX_TRY(s_->Load());
  if (s_->options.run_threads) s_->thread = std::thread([s = s_.get()] { s->Run(); });
  return Ok();
}

void SlaTimer::Stop() {
  {
    std::lock_guard lock(s_->mu);
    if (s_->stop) return;
    s_->stop = true;
  }
  s_->cv.notify_all();
  if (s_->thread.joinable()) s_->thread.join();
}

size_t SlaTimer::RunPending() {
  size_t total = 0;
  for (int round = 0; round < 16; ++round) {
    auto commands = s_->Collect(s_->clock.Now());
    if (commands.empty()) break;
    total += commands.size();
    s_->Submit(std::move(commands), true);
    std::unique_lock lock(s_->wait_mu);
    s_->wait_cv.wait(lock, [&] { return s_->in_flight == 0; });
  }
  return total;
}

size_t SlaTimer::PendingCount() const {
  std::lock_guard lock(s_->mu);
  return s_->at_of.size();
}

}  // namespace opsbox::cases
