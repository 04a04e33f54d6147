// `opsbox simulate` (see simulate_cli.hpp). Only the public HTTP API: one thread for arrivals,
// one per agent, and the calling thread for summaries. Every call is a synchronous HTTP/1.1
// exchange through server::BeastHttpClient (loopback connections are cheap; no reuse needed).
#include "app/simulate_cli.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "core/result.hpp"
#include "server/beast_http_client.hpp"

namespace opsbox::app {
namespace {

using Json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

constexpr int kHttpTimeoutMs = 10000;
// Bytes of one API answer read at most (pages of lists; longer answers are truncated).
constexpr size_t kApiResponseBodyBytesMax = 1 << 20;
constexpr size_t kApiKeysScannedMax = 5000;
constexpr size_t kWorkersScannedMax = 5000;
constexpr size_t kSeenReservationsMax = 10000;
constexpr int kErrorLinesPerIntervalMax = 20;
constexpr double kHandleSigma = 0.6;  // spread of the lognormal handle time
constexpr auto kArrivalBacklogMax = std::chrono::seconds(5);
constexpr const char* kQueueId = "sim";
constexpr const char* kAgentKeyPrefix = "sim-agent-";
constexpr const char* kIntakeKeyName = "sim-intake";

// Ends the run: wakes every thread waiting on it.
class Stopper {
 public:
  void Stop() {
    std::lock_guard lock(mu_);
    stopped_ = true;
    cv_.notify_all();
  }
  // Waits until `at` or the stop; true when stopped.
  bool WaitUntil(SteadyClock::time_point at) {
    std::unique_lock lock(mu_);
    return cv_.wait_until(lock, at, [&] { return stopped_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
};

struct Counters {
  std::atomic<uint64_t> arrivals{0}, accepted{0}, rejected{0}, completed{0}, replies{0},
      errors{0};
};

// Serialised log lines; error lines are counted and at most kErrorLinesPerIntervalMax are
// written per summary interval, so a failing server does not flood the log.
class Log {
 public:
  Log(std::ostream& out, Counters& counters) : out_(out), counters_(counters) {}
  void Line(const std::string& text) {
    std::lock_guard lock(mu_);
    out_ << text << std::endl;
  }
  void Error(const std::string& text) {
    counters_.errors++;
    std::lock_guard lock(mu_);
    if (++error_lines_ <= kErrorLinesPerIntervalMax) out_ << "sim error: " << text << std::endl;
  }
  void NewInterval() {
    std::lock_guard lock(mu_);
    if (error_lines_ > kErrorLinesPerIntervalMax) {
      out_ << "sim: " << (error_lines_ - kErrorLinesPerIntervalMax)
           << " more errors not shown" << std::endl;
    }
    error_lines_ = 0;
  }

 private:
  std::mutex mu_;
  std::ostream& out_;
  Counters& counters_;
  int error_lines_ = 0;
};

// The tenant's API under base_url; Call answers the JSON body of a 2xx response, or an Error
// whose message names the method, path, status and the problem's detail.
class Api {
 public:
  Api(std::string base_url, const std::string& tenant)
      : prefix_(std::move(base_url) + "/api/v1/tenants/" + tenant) {
    while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
  }

  Result<Json> Call(const std::string& method, const std::string& path, const std::string& key,
                    const Json* body = nullptr) {
    integrations::OutboundRequest req;
    req.method = method;
    req.url = prefix_ + path;
    req.timeout_ms = kHttpTimeoutMs;
    req.headers = {{"Authorization", "Bearer " + key}, {"Accept", "application/json"}};
    if (body != nullptr) {
      req.headers.emplace_back("Content-Type", "application/json");
      req.body = body->dump();
    }
    auto resp = client_.Send(req);
    if (!resp.ok()) return resp.error();
    Json parsed = Json::parse(resp->body, nullptr, false);
    if (resp->status >= 200 && resp->status < 300) {
      return parsed.is_discarded() ? Json::object() : parsed;
    }
    std::string detail = resp->body.substr(0, 300);
    if (parsed.is_object()) {
      detail = parsed.value("detail", parsed.value("title", detail));
      if (parsed.contains("rule")) detail += " (rule " + parsed["rule"].dump() + ")";
    }
    return Error::Unavailable(method + " " + path + ": HTTP " + std::to_string(resp->status) +
                              ": " + detail);
  }

 private:
  // The target is opsbox's own API at the URL the operator gives on the command line (not a
  // tenant-supplied URL), usually plain http on loopback: the operator's policy allows it.
  static integrations::OutboundPolicy OperatorTarget() {
    integrations::OutboundPolicyOptions o;
    o.allow_http = true;
    o.allow_loopback = true;
    for (const char* any : {"0.0.0.0/0", "::/0"}) {
      o.allow_networks.push_back(*integrations::ParseIpNetwork(any, "url"));
    }
    return integrations::OutboundPolicy(std::move(o));
  }

  std::string prefix_;
  server::BeastHttpClient client_{OperatorTarget(), nullptr, kApiResponseBodyBytesMax};
};

struct Agent {
  int index = 0;
  std::string key_id;
  std::string key;
  std::string worker_id;
};

struct Sim {
  const SimulateOptions& options;
  Api api;
  Counters counters;
  Log log;
  Stopper stopper;
  std::string intake_key;
  std::vector<Agent> agents;
  std::string run_tag;

  Sim(const SimulateOptions& o, std::ostream& out)
      : options(o), api(o.url, o.tenant), log(out, counters) {}
};

double RawDayCurve(double h) {
  auto bump = [h](double centre, double width) {
    const double z = (h - centre) / width;
    return std::exp(-0.5 * z * z);
  };
  return 0.12 + 1.0 * bump(11.0, 2.2) + 0.75 * bump(15.5, 2.0);
}

double LocalHour() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  return local.tm_hour + local.tm_min / 60.0 + local.tm_sec / 3600.0;
}

std::string NowHhMmSs() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  std::ostringstream s;
  s << std::put_time(&local, "%H:%M:%S");
  return s.str();
}

// ---- setup (errors are fatal) ----

// Revokes the keys an earlier run left active under the simulator's names (it was killed, or the
// server stopped first).
Status RevokeEarlierKeys(Sim& sim) {
  std::string after;
  size_t scanned = 0, revoked = 0;
  while (scanned < kApiKeysScannedMax) {
    std::string path = "/api-keys?limit=200";
    if (!after.empty()) path += "&after=" + after;
    OPSBOX_ASSIGN_OR_RETURN(Json page, sim.api.Call("GET", path, sim.options.api_key));
    for (const auto& k : page.value("items", Json::array())) {
      ++scanned;
      const std::string name = k.value("name", "");
      if (k.value("revoked", true)) continue;
      if (name.rfind(kAgentKeyPrefix, 0) != 0 && name != kIntakeKeyName) continue;
      const std::string id = k.value("key_id", "");
      if (auto r = sim.api.Call("DELETE", "/api-keys/" + id, sim.options.api_key); !r.ok()) {
        sim.log.Error(r.error().message);
      } else {
        ++revoked;
      }
    }
    if (!page.contains("next_cursor") || !page["next_cursor"].is_string()) break;
    after = page["next_cursor"].get<std::string>();
  }
  if (revoked > 0) {
    sim.log.Line("sim: revoked " + std::to_string(revoked) + " keys of an earlier run");
  }
  return Ok();
}

// Retires the workers of earlier runs (team "sim"): out of the queue, no capacity, so no work
// is offered to agents nobody plays (an admin may not set another worker's activity).
Status RetireEarlierWorkers(Sim& sim) {
  std::string after;
  size_t scanned = 0, retired = 0;
  while (scanned < kWorkersScannedMax) {
    std::string path = "/routing/workers?limit=200";
    if (!after.empty()) path += "&after=" + after;
    OPSBOX_ASSIGN_OR_RETURN(Json page, sim.api.Call("GET", path, sim.options.api_key));
    for (const auto& w : page.value("items", Json::array())) {
      ++scanned;
      const Json attributes = w.value("attributes", Json::object());
      if (!attributes.is_object() || attributes.value("team", "") != "sim") continue;
      const Json body{{"name", w.value("name", "") + " (ended)"},
                      {"attributes", {{"team", "sim-ended"}}},
                      {"capacity", Json::object()}};
      const std::string id = w.value("worker_id", "");
      if (auto r = sim.api.Call("PUT", "/routing/workers/" + id, sim.options.api_key, &body);
          !r.ok()) {
        sim.log.Error(r.error().message);
      } else {
        ++retired;
      }
    }
    if (!page.contains("next_after") || !page["next_after"].is_string()) break;
    after = page["next_after"].get<std::string>();
  }
  if (retired > 0) {
    sim.log.Line("sim: retired " + std::to_string(retired) + " workers of an earlier run");
  }
  return Ok();
}

Result<Agent> CreateKey(Sim& sim, const std::string& name, const std::string& role) {
  const Json body{{"name", name}, {"roles", {role}}};
  OPSBOX_ASSIGN_OR_RETURN(Json created, sim.api.Call("POST", "/api-keys", sim.options.api_key,
                                                      &body));
  Agent a;
  a.key_id = created.value("key_id", "");
  a.key = created.value("key", "");
  if (a.key.empty()) return Error::Unavailable("POST /api-keys answered no key");
  if (role != "agent") return a;  // only agents are workers (and may read /me)
  OPSBOX_ASSIGN_OR_RETURN(Json me, sim.api.Call("GET", "/me", a.key));
  a.worker_id = me.value("actor_id", "");
  return a;
}

Json WorkerBody(const SimulateOptions& o, int index) {
  Json capacity = Json::object();
  for (const auto& c : o.channels) capacity[c] = (c == "chat" || c == "email") ? 2 : 1;
  return Json{{"name", "Sim Agent " + std::to_string(index)},
              {"attributes",
               {{"team", "sim"}, {"skills", {{"general", 3}}}, {"languages", {"en"}}}},
              {"capacity", capacity}};
}

Status ConfigureRouting(Sim& sim) {
  const auto& o = sim.options;
  const int wrap_up_limit_s = static_cast<int>(std::ceil(o.wrap_up_s)) + 30;
  const Json queue{{"name", "Simulated traffic"},
                   {"target_expression", "worker.team == \"sim\""},
                   {"worker_selection", "longest_idle"},
                   {"wrap_up_s", wrap_up_limit_s}};
  OPSBOX_TRY(sim.api.Call("PUT", std::string("/routing/queues/") + kQueueId, o.api_key, &queue)
                 );
  const Json workflow{{"filters", Json::array()},
                      {"default_filter", {{"targets", {{{"queue_id", kQueueId}}}}}}};
  OPSBOX_TRY(sim.api.Call("PUT", "/routing/workflows/default", o.api_key, &workflow));
  return Ok();
}

Status Setup(Sim& sim) {
  const auto& o = sim.options;
  OPSBOX_ASSIGN_OR_RETURN(Json me, sim.api.Call("GET", "/me", o.api_key));
  sim.log.Line("sim: connected to " + o.url + " as " + me.value("name", "?") + " (tenant " +
               o.tenant + ")");
  OPSBOX_TRY(RevokeEarlierKeys(sim));
  OPSBOX_TRY(RetireEarlierWorkers(sim));
  OPSBOX_TRY(ConfigureRouting(sim));
  OPSBOX_ASSIGN_OR_RETURN(Agent intake, CreateKey(sim, kIntakeKeyName, "integration"));
  sim.intake_key = intake.key;
  sim.agents.push_back(intake);  // revoked with the agents at the end
  for (int i = 1; i <= o.agents; ++i) {
    OPSBOX_ASSIGN_OR_RETURN(Agent a, CreateKey(sim, kAgentKeyPrefix + std::to_string(i), "agent"));
    a.index = i;
    const Json worker = WorkerBody(o, i);
    OPSBOX_TRY(
        sim.api.Call("PUT", "/routing/workers/" + a.worker_id, o.api_key, &worker));
    sim.agents.push_back(std::move(a));
  }
  sim.log.Line("sim: queue \"" + std::string(kQueueId) + "\", default workflow, " +
               std::to_string(o.agents) + " agents ready");
  return Ok();
}

void Teardown(Sim& sim) {
  for (const auto& a : sim.agents) {
    if (auto r = sim.api.Call("DELETE", "/api-keys/" + a.key_id, sim.options.api_key); !r.ok()) {
      sim.log.Error(r.error().message);
    }
  }
}

// ---- arrivals ----

const std::vector<std::string>& SampleTexts() {
  static const std::vector<std::string> texts = {
      "Hi, my card payment did not go through this morning.",
      "I would like to know the status of my loan application.",
      "Can you help me reset my net banking password?",
      "There is a charge on my statement I do not recognise.",
      "When will my new debit card arrive?",
      "I want to raise my credit card limit.",
  };
  return texts;
}

void Arrive(Sim& sim, std::mt19937_64& rng, uint64_t n) {
  const auto& channels = sim.options.channels;
  const std::string& channel = channels[rng() % channels.size()];
  const std::string& text = SampleTexts()[rng() % SampleTexts().size()];
  const std::string id = "sim-" + sim.run_tag + "-" + std::to_string(n);
  Result<Json> r = Json::object();
  if (channel == "chat") {
    const Json body{{"provider_message_id", id},
                    {"from", {{"external_id", id}, {"name", "Sim Customer " + std::to_string(n)}}},
                    {"text", text},
                    {"language", "en"}};
    r = sim.api.Call("POST", "/channels/chat/messages", sim.intake_key, &body);
  } else {
    const Json body{{"channel", channel},
                    {"attributes", {{"type", "simulated"}, {"language", "en"}, {"summary", text}}}};
    r = sim.api.Call("POST", "/routing/tasks", sim.intake_key, &body);
  }
  if (r.ok()) {
    sim.counters.arrivals++;
  } else {
    sim.log.Error(r.error().message);
  }
}

void RunArrivals(Sim& sim) {
  const auto& o = sim.options;
  std::mt19937_64 rng(o.seed * 7919 + 17);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  auto next = SteadyClock::now();
  for (uint64_t n = 1;; ++n) {
    const double per_s = o.rate_per_min / 60.0 * (o.intraday ? IntradayFactor(LocalHour()) : 1.0);
    const double gap_s = -std::log(1.0 - unit(rng)) / per_s;
    next += std::chrono::duration_cast<SteadyClock::duration>(
        std::chrono::duration<double>(gap_s));
    const auto now = SteadyClock::now();
    if (next < now - kArrivalBacklogMax) next = now;  // after a stall, do not burst
    if (sim.stopper.WaitUntil(next)) return;
    Arrive(sim, rng, n);
  }
}

// ---- agents ----

struct Work {
  std::string task_id;
  std::string conversation_id;
  SteadyClock::time_point due;
};

class AgentRun {
 public:
  AgentRun(Sim& sim, const Agent& agent)
      : sim_(sim), agent_(agent), rng_(sim.options.seed * 1000003 + agent.index) {}

  void Run() {
    SetActivity("available");
    auto next_poll = SteadyClock::now();
    for (;;) {
      const auto now = SteadyClock::now();
      if (now >= next_poll) {
        Poll();
        next_poll = now + std::chrono::milliseconds(sim_.options.poll_ms);
      }
      FinishDue(SteadyClock::now());
      auto wake = next_poll;
      for (const auto& w : handling_) wake = std::min(wake, w.due);
      for (const auto& w : wrapping_) wake = std::min(wake, w.due);
      if (sim_.stopper.WaitUntil(wake)) break;
    }
    Drain();
  }

 private:
  Result<Json> Call(const std::string& method, const std::string& path,
                    const Json* body = nullptr) {
    auto r = sim_.api.Call(method, path, agent_.key, body);
    if (!r.ok()) sim_.log.Error("agent " + std::to_string(agent_.index) + ": " + r.error().message);
    return r;
  }

  void SetActivity(const std::string& activity) {
    const Json body{{"activity", activity}};
    (void)Call("POST", "/routing/workers/me/activity", &body);
  }

  double SampleHandleS() {
    const double mean = sim_.options.handle_s_mean;
    std::lognormal_distribution<double> d(std::log(mean) - kHandleSigma * kHandleSigma / 2,
                                          kHandleSigma);
    return std::clamp(d(rng_), 0.01, kSimulateHandleSMax);
  }

  void Poll() {
    auto me = Call("GET", "/routing/me");
    if (!me.ok()) return;
    for (const auto& r : me->value("reservations", Json::array())) {
      const std::string id = r.value("reservation_id", "");
      if (r.value("status", "") != "pending" || !seen_.insert(id).second) continue;
      Offer(id, r.contains("task") ? r["task"] : Json::object());
    }
    if (seen_.size() > kSeenReservationsMax) seen_.clear();
  }

  void Offer(const std::string& reservation_id, const Json& task) {
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    if (unit(rng_) < sim_.options.reject_probability) {
      if (Call("POST", "/routing/reservations/" + reservation_id + "/reject").ok()) {
        sim_.counters.rejected++;
      }
      return;
    }
    if (!Call("POST", "/routing/reservations/" + reservation_id + "/accept").ok()) return;
    sim_.counters.accepted++;
    Work w;
    w.task_id = task.value("task_id", "");
    if (task.contains("conversation_id") && task["conversation_id"].is_string()) {
      w.conversation_id = task["conversation_id"].get<std::string>();
    }
    w.due = SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                                     std::chrono::duration<double>(SampleHandleS()));
    if (!w.task_id.empty()) handling_.push_back(std::move(w));
  }

  // Replies (sometimes), completes the task and closes its conversation; wrap-up follows.
  void Complete(Work w, bool reply) {
    const std::string conv = "/conversations/" + w.conversation_id;
    if (reply && !w.conversation_id.empty()) {
      const Json msg{{"text", "Thank you, this is sorted now. Anything else I can help with?"}};
      if (Call("POST", conv + "/messages", &msg).ok()) sim_.counters.replies++;
    }
    if (!Call("POST", "/routing/tasks/" + w.task_id + "/complete").ok()) return;
    sim_.counters.completed++;
    if (!w.conversation_id.empty()) (void)Call("POST", conv + "/close");
    w.due = SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                                     std::chrono::duration<double>(sim_.options.wrap_up_s));
    wrapping_.push_back(std::move(w));
  }

  void FinishDue(SteadyClock::time_point now) {
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    auto due = [now](const Work& w) { return w.due <= now; };
    for (auto it = wrapping_.begin(); it != wrapping_.end();) {
      if (!due(*it)) { ++it; continue; }
      (void)Call("POST", "/routing/tasks/" + it->task_id + "/wrap-up");
      it = wrapping_.erase(it);
    }
    for (auto it = handling_.begin(); it != handling_.end();) {
      if (!due(*it)) { ++it; continue; }
      Work w = std::move(*it);
      it = handling_.erase(it);
      Complete(std::move(w), unit(rng_) < sim_.options.reply_probability);
    }
  }

  // At the end: open tasks are completed and wrapped up at once, then the agent goes offline.
  void Drain() {
    for (auto& w : handling_) Complete(std::move(w), false);
    handling_.clear();
    for (const auto& w : wrapping_) (void)Call("POST", "/routing/tasks/" + w.task_id + "/wrap-up");
    wrapping_.clear();
    SetActivity("offline");
  }

  Sim& sim_;
  const Agent& agent_;
  std::mt19937_64 rng_;
  std::set<std::string> seen_;
  std::vector<Work> handling_;
  std::vector<Work> wrapping_;
};

// ---- summaries ----

std::string Totals(const Counters& c) {
  return "arrivals=" + std::to_string(c.arrivals.load()) +
         " accepted=" + std::to_string(c.accepted.load()) +
         " rejected=" + std::to_string(c.rejected.load()) +
         " completed=" + std::to_string(c.completed.load()) +
         " replies=" + std::to_string(c.replies.load()) +
         " errors=" + std::to_string(c.errors.load());
}

// Summaries every summary_s until the duration passes or a stop is asked for.
void RunClock(Sim& sim) {
  const auto& o = sim.options;
  const auto start = SteadyClock::now();
  const auto end = start + std::chrono::duration_cast<SteadyClock::duration>(
                               std::chrono::duration<double>(o.duration_s));
  const auto interval = std::chrono::duration_cast<SteadyClock::duration>(
      std::chrono::duration<double>(o.summary_s));
  auto next_summary = start + interval;
  const auto tick = std::chrono::milliseconds(100);
  for (;;) {
    const auto now = SteadyClock::now();
    if ((o.duration_s > 0 && now >= end) || (o.stop != nullptr && o.stop->load())) break;
    if (now >= next_summary) {
      sim.log.NewInterval();
      sim.log.Line("sim " + NowHhMmSs() + ": " + Totals(sim.counters));
      next_summary += interval;
    }
    auto wake = std::min(now + tick, next_summary);
    if (o.duration_s > 0) wake = std::min(wake, end);
    std::this_thread::sleep_until(wake);
  }
  sim.stopper.Stop();
}

}  // namespace

double IntradayFactor(double local_hour) {
  static const double mean = [] {
    double sum = 0;
    for (int m = 0; m < 24 * 60; ++m) sum += RawDayCurve(m / 60.0);
    return sum / (24 * 60);
  }();
  return RawDayCurve(local_hour) / mean;
}

std::string ValidateSimulateOptions(const SimulateOptions& o) {
  if (o.url.rfind("http://", 0) != 0 && o.url.rfind("https://", 0) != 0) {
    return "--url must start with http:// or https://";
  }
  if (o.tenant.empty()) return "--tenant is required";
  if (o.api_key.empty()) return "--api-key is required";
  if (o.agents < 1 || o.agents > kSimulateAgentsMax) {
    return "--agents must be 1.." + std::to_string(kSimulateAgentsMax);
  }
  if (!(o.rate_per_min > 0 && o.rate_per_min <= kSimulateRatePerMinMax)) {
    return "--rate-per-min must be > 0 and <= " + std::to_string(int(kSimulateRatePerMinMax));
  }
  if (!(o.duration_s >= 0)) return "--duration-s must be >= 0";
  if (o.channels.empty()) return "--channels must name at least one channel";
  for (const auto& c : o.channels) {
    if (c.empty() || c.size() > 32 ||
        c.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") != std::string::npos) {
      return "--channels: \"" + c + "\" is not a channel name (lower-case letters)";
    }
  }
  if (!(o.handle_s_mean > 0 && o.handle_s_mean <= kSimulateHandleSMax)) {
    return "--handle-s-mean must be > 0 and <= 86400";
  }
  if (!(o.wrap_up_s >= 0 && o.wrap_up_s <= 3600)) return "--wrap-up-s must be 0..3600";
  if (!(o.reject_probability >= 0 && o.reject_probability <= 1)) return "--reject must be 0..1";
  if (!(o.reply_probability >= 0 && o.reply_probability <= 1)) return "--reply must be 0..1";
  if (o.poll_ms < 50 || o.poll_ms > 60000) return "--poll-ms must be 50..60000";
  if (!(o.summary_s >= 1 && o.summary_s <= 3600)) return "--summary-s must be 1..3600";
  return "";
}

int RunSimulate(const SimulateOptions& options, std::ostream& out) {
  if (auto bad = ValidateSimulateOptions(options); !bad.empty()) {
    out << "opsbox simulate: " << bad << std::endl;
    return 2;
  }
  Sim sim(options, out);
  std::random_device rd;
  std::ostringstream tag;
  tag << std::hex << (static_cast<uint64_t>(std::time(nullptr)) ^ (uint64_t{rd()} << 20));
  sim.run_tag = tag.str();
  if (auto st = Setup(sim); !st.ok()) {
    out << "opsbox simulate: setup failed: " << st.error().message << std::endl;
    Teardown(sim);
    return 1;
  }
  {
    std::vector<std::unique_ptr<AgentRun>> runs;
    std::vector<std::thread> threads;
    for (const auto& a : sim.agents) {
      if (a.index == 0) continue;  // the intake key
      runs.push_back(std::make_unique<AgentRun>(sim, a));
    }
    for (auto& r : runs) threads.emplace_back([p = r.get()] { p->Run(); });
    threads.emplace_back([&sim] { RunArrivals(sim); });
    RunClock(sim);
    for (auto& t : threads) t.join();
  }
  Teardown(sim);
  sim.log.Line("sim total: " + Totals(sim.counters));
  return 0;
}

CLI::App* AddSimulateCommand(CLI::App& app) {
  auto* sim = app.add_subcommand(
      "simulate", "Drive a running server with simulated traffic: arrivals per channel with an "
                  "intraday pattern, agents who accept, handle, complete and wrap up");
  auto o = std::make_shared<SimulateOptions>();
  auto flat = std::make_shared<bool>(false);
  sim->add_option("--url", o->url, "the server's base URL")->capture_default_str();
  sim->add_option("--tenant", o->tenant, "tenant id")->required();
  sim->add_option("--api-key", o->api_key, "an admin API key (or env OPSBOX_API_KEY)")
      ->envname("OPSBOX_API_KEY")
      ->required();
  sim->add_option("--agents", o->agents, "simulated agents")->capture_default_str();
  sim->add_option("--rate-per-min", o->rate_per_min,
                  "mean arrivals per minute over a day; multiplied by a day curve by local "
                  "hour (about 0.25 at night, 2.3 at the late-morning peak; mean 1)")
      ->capture_default_str();
  sim->add_flag("--flat", *flat, "a constant rate: no intraday pattern");
  sim->add_option("--duration-s", o->duration_s, "seconds to run; 0: until SIGINT/SIGTERM")
      ->capture_default_str();
  sim->add_option("--seed", o->seed, "random seed")->capture_default_str();
  sim->add_option("--channels", o->channels,
                  "channels, picked uniformly (repeat to weight): chat goes through the chat "
                  "intake API, others through POST /routing/tasks")
      ->delimiter(',')
      ->capture_default_str();
  sim->add_option("--handle-s-mean", o->handle_s_mean, "mean handle time (lognormal), seconds")
      ->capture_default_str();
  sim->add_option("--wrap-up-s", o->wrap_up_s, "wrap-up time, seconds")->capture_default_str();
  sim->add_option("--reject", o->reject_probability, "probability an agent rejects an offer")
      ->capture_default_str();
  sim->add_option("--reply", o->reply_probability,
                  "probability an agent replies to the task's conversation")
      ->capture_default_str();
  sim->add_option("--poll-ms", o->poll_ms, "agents' GET /routing/me interval")
      ->capture_default_str();
  sim->add_option("--summary-s", o->summary_s, "seconds between summary lines")
      ->capture_default_str();
  sim->callback([o, flat] {
    o->intraday = !*flat;
    // Signals are blocked in every thread the run starts; this thread waits for them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::atomic<bool> stop{false};
    std::atomic<bool> done{false};
    std::thread watcher([&] {
      const timespec wait{0, 200 * 1000 * 1000};
      while (!done.load()) {
        if (sigtimedwait(&signals, nullptr, &wait) > 0) stop = true;
      }
    });
    o->stop = &stop;
    const int rc = RunSimulate(*o, std::cout);
    done = true;
    watcher.join();
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
  return sim;
}

}  // namespace opsbox::app
