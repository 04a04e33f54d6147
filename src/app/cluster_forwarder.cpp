#include "app/cluster_forwarder.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <iterator>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "core/crypto.hpp"
#include "core/time.hpp"
#include "ledger/writer.hpp"

namespace opsbox::app {

std::string SignForwardedBody(std::string_view secret, std::string_view body) {
  return HexEncode(HmacSha256(secret, body));
}

namespace {

using Steady = std::chrono::steady_clock;
using Done = std::function<void(Result<ledger::CommandOutcome>)>;

struct Item {
  int shard = 0;
  ledger::Command command;
  Done done;
  Steady::time_point deadline;
  Steady::time_point not_before;
};

bool Retryable(const Error& e) {
  return e.code == ErrorCode::kUnavailable &&
         (e.rule == "not_shard_owner" || e.rule == "unavailable");
}

}  // namespace

struct ClusterForwarder::State {
  store::Database& db;
  integrations::HttpClient& http;
  std::string secret;
  ForwarderOptions options;
  ledger::Writer* writer = nullptr;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Item> queue;
  bool stop = false;
  std::map<int, std::string> owners;  // shard -> advertise_url; guarded by mu
  std::vector<std::thread> threads;

  State(store::Database& d, integrations::HttpClient& h, std::string s, ForwarderOptions o)
      : db(d), http(h), secret(std::move(s)), options(o) {}

  void Run();
  std::vector<Item> Take();
  Result<std::string> Owner(std::unique_ptr<store::Connection>& conn, int shard);
  void Send(std::unique_ptr<store::Connection>& conn, std::vector<Item> items);
  void Retry(Item item, const Error& why);
};

std::vector<Item> ClusterForwarder::State::Take() {
  std::unique_lock lock(mu);
  for (;;) {
    if (stop) return {};
    const auto now = Steady::now();
    auto earliest = Steady::time_point::max();
    for (const Item& i : queue) earliest = std::min(earliest, i.not_before);
    if (!queue.empty() && earliest <= now) break;
    if (queue.empty()) {
      cv.wait(lock);
    } else {
      cv.wait_until(lock, earliest);
    }
  }
  // Every ready command of the first ready command's shard, up to one request's worth.
  const auto now = Steady::now();
  std::vector<Item> out;
  int shard = -1;
  for (auto it = queue.begin(); it != queue.end() && out.size() < ledger::kForwardCommandsMax;) {
    if (it->not_before <= now && (shard < 0 || it->shard == shard)) {
      shard = it->shard;
      out.push_back(std::move(*it));
      it = queue.erase(it);
    } else {
      ++it;
    }
  }
  if (!queue.empty()) cv.notify_one();  // what is left may be another shard's
  return out;
}

Result<std::string> ClusterForwarder::State::Owner(std::unique_ptr<store::Connection>& conn,
                                                   int shard) {
  {
    std::lock_guard lock(mu);
    if (auto it = owners.find(shard); it != owners.end()) return it->second;
  }
  if (!conn) {
    OPSBOX_ASSIGN_OR_RETURN(conn, db.Connect());
  }
  auto url = ledger::ShardOwnerUrl(*conn, shard);
  if (!url.ok()) {
    conn.reset();
    return std::move(url).error();
  }
  if (url->empty()) return Error::Unavailable("no node owns shard " + std::to_string(shard));
  std::lock_guard lock(mu);
  owners[shard] = *url;
  return *url;
}

void ClusterForwarder::State::Retry(Item item, const Error& why) {
  {
    std::lock_guard lock(mu);
    owners.erase(item.shard);  // look the owner up again
  }
  if (Steady::now() >= item.deadline) {
    item.done(Error::Unavailable("forwarding to the node that writes ledger shard " +
                                 std::to_string(item.shard) + " failed: " + why.message));
    return;
  }
  if (writer != nullptr && writer->OwnsShard(item.shard)) {
    writer->Submit(std::move(item.command), std::move(item.done));
    return;
  }
  item.not_before = Steady::now() + std::chrono::milliseconds(options.retry_delay_ms);
  {
    std::lock_guard lock(mu);
    if (!stop) {
      queue.push_back(std::move(item));
      cv.notify_one();
      return;
    }
  }
  item.done(Error::Unavailable("shutting down"));
}

void ClusterForwarder::State::Send(std::unique_ptr<store::Connection>& conn,
                                   std::vector<Item> items) {
  const int shard = items.front().shard;
  auto url = Owner(conn, shard);
  if (!url.ok()) {
    for (auto& i : items) Retry(std::move(i), url.error());
    return;
  }
  Json commands = Json::array();
  for (const auto& i : items) commands.push_back(ledger::CommandToWire(i.command));
  integrations::OutboundRequest req;
  req.url = *url + std::string(ledger::kForwardPath);
  req.body = Json{{"commands", std::move(commands)}}.dump();
  req.headers = {{"Content-Type", "application/json"},
                 {std::string(ledger::kForwardSignatureHeader), SignForwardedBody(secret, req.body)}};
  req.timeout_ms = static_cast<int>(options.forward_timeout_ms);
  auto resp = http.Send(req);
  if (resp.ok() && resp->status == 413 && items.size() > 1) {
    // Over the owner's body limit: half the commands per request.
    std::vector<Item> second(std::make_move_iterator(items.begin() + items.size() / 2),
                             std::make_move_iterator(items.end()));
    items.resize(items.size() / 2);
    Send(conn, std::move(items));
    Send(conn, std::move(second));
    return;
  }
  Json body;
  if (resp.ok() && resp->status == 200) body = Json::parse(resp->body, nullptr, false);
  const Json* outcomes = body.is_object() && body.contains("outcomes") ? &body["outcomes"] : nullptr;
  if (outcomes == nullptr || !outcomes->is_array() || outcomes->size() != items.size()) {
    const Error why = resp.ok() ? Error::Unavailable("owner answered HTTP " +
                                                     std::to_string(resp->status))
                                : resp.error();
    for (auto& i : items) Retry(std::move(i), why);
    return;
  }
  for (size_t k = 0; k < items.size(); ++k) {
    auto outcome = ledger::OutcomeFromWire((*outcomes)[k]);
    if (!outcome.ok() && Retryable(outcome.error())) {
      Retry(std::move(items[k]), outcome.error());
      continue;
    }
    items[k].done(std::move(outcome));
  }
}

void ClusterForwarder::State::Run() {
  std::unique_ptr<store::Connection> conn;
  for (;;) {
    auto items = Take();
    if (items.empty()) return;  // stopping
    Send(conn, std::move(items));
  }
}

ClusterForwarder::ClusterForwarder(store::Database& db, integrations::HttpClient& http, Clock&,
                                   std::string secret, ForwarderOptions options)
    : s_(std::make_unique<State>(db, http, std::move(secret), options)) {}

ClusterForwarder::~ClusterForwarder() { Stop(); }

void ClusterForwarder::SetWriter(ledger::Writer* writer) { s_->writer = writer; }

void ClusterForwarder::Start() {
  for (int i = 0; i < s_->options.threads; ++i) {
    s_->threads.emplace_back([s = s_.get()] { s->Run(); });
  }
}

void ClusterForwarder::Stop() {
  std::deque<Item> left;
  {
    std::lock_guard lock(s_->mu);
    s_->stop = true;
    left.swap(s_->queue);
  }
  s_->cv.notify_all();
  for (auto& t : s_->threads) {
    if (t.joinable()) t.join();
  }
  s_->threads.clear();
  for (auto& i : left) i.done(Error::Unavailable("shutting down"));
}

void ClusterForwarder::Forward(int shard, ledger::Command command, Done done) {
  const auto now = Steady::now();
  Item item{shard, std::move(command), std::move(done),
            now + std::chrono::milliseconds(s_->options.forward_timeout_ms), now};
  {
    std::lock_guard lock(s_->mu);
    if (!s_->stop && s_->queue.size() < s_->options.queue_depth_max) {
      s_->queue.push_back(std::move(item));
      s_->cv.notify_one();
      return;
    }
  }
  item.done(Error::Unavailable("the cluster forwarder is stopped or its queue is full"));
}

}  // namespace opsbox::app
