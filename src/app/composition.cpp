#include "app/composition.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <mutex>
#include <set>
#include <thread>

#include "api/api.hpp"
#include "app/cluster_forwarder.hpp"
#include "core/crypto.hpp"
#include "core/ids.hpp"
#include "core/random.hpp"
#include "core/time.hpp"
#include "core/worker_pool.hpp"
#include "identity/identity.hpp"
#include "integrations/integrations.hpp"
#include "integrations/outbox_worker.hpp"
#include "ledger/checkpoint.hpp"
#include "ledger/cluster.hpp"
#include "ledger/registry.hpp"
#include "ledger/writer.hpp"
#include "server/beast_http_client.hpp"
#include "server/http_server.hpp"
#include "server/metrics.hpp"
#include "store/cluster.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "wfm/planning.hpp"
// [pii:includes] begin
#include "pii/pii.hpp"
// [pii:includes] end
// [privacy-keys:includes] begin
#include "privacy/erasure.hpp"
#include "privacy/keyring.hpp"
// [privacy-keys:includes] end
// [privacy-governance:includes] begin
#include "privacy/governance.hpp"
#include "privacy/retention.hpp"
// [privacy-governance:includes] end
// [live:includes] begin
#include "live/hub.hpp"
// [live:includes] end
// [routing:includes] begin
#include "routing/service.hpp"
// [routing:includes] end
// [intake:includes] begin
#include "intake/bridge.hpp"
#include "intake/outbound.hpp"
// [intake:includes] end

namespace opsbox::app {

Result<std::unique_ptr<store::Database>> OpenDatabase(const std::string& url,
                                                      const Config& config) {
  if (url.rfind("sqlite:", 0) == 0) {
    store::SqliteOptions o;
    o.path = url.substr(7);
    if (o.path.empty()) return Error::Invalid("--db", "format", "sqlite: needs a file path");
    o.synchronous = config.database_sqlite_synchronous;
    return store::OpenSqlite(o);
  }
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    store::PostgresOptions o;
    o.url = url;
    o.writer_shards = static_cast<int>(config.database_writer_shards);
    return store::OpenPostgres(o);
  }
  return Error::Invalid("--db", "format",
                        "database URL must be sqlite:PATH or postgresql://USER@HOST:PORT/DB");
}

namespace {

identity::IdentityOptions IdentityOptionsFrom(const Config& c) {
  identity::IdentityOptions o;
  o.login_failures_max = c.login_failures_max;
  o.lockout_s = c.login_lockout_s;
  o.address_failures_max = c.login_address_failures_max;
  o.address_window_s = c.login_address_window_s;
  o.session_ttl_s = c.login_session_ttl_s;
  return o;
}

// Clustering (ledger/cluster.hpp) is on when the node has an advertise URL; it then needs
// PostgreSQL and the shared secret.
Result<std::string> LoadClusterSecret(const Config& c) {
  if (c.cluster_advertise_url.empty()) return std::string();
  if (c.cluster_advertise_url.rfind("http://", 0) != 0 &&
      c.cluster_advertise_url.rfind("https://", 0) != 0) {
    return Error::Invalid("cluster.advertise_url", "format", "http://HOST:PORT");
  }
  if (c.cluster_secret_file.empty()) {
    return Error::Invalid("cluster.secret_file", "required",
                          "several nodes need a shared secret file (cluster.advertise_url is set)");
  }
  std::ifstream in(c.cluster_secret_file, std::ios::binary);
  if (!in) {
    return Error::Invalid("cluster.secret_file", "readable",
                          "cannot read " + c.cluster_secret_file);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string secret = ss.str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (secret.size() < 32) {
    return Error::Invalid("cluster.secret_file", "length", "the secret needs at least 32 bytes");
  }
  return secret;
}

ledger::WriterOptions WriterOptionsFrom(const Config& c) {
  ledger::WriterOptions o;
  o.shards = static_cast<int>(c.database_writer_shards);
  o.batch_max = static_cast<size_t>(c.ledger_batch_max);
  o.queue_depth_max = static_cast<size_t>(c.ledger_queue_depth_max);
  return o;
}

// Signs checkpoints for tenants the writer touched, every interval and once more at shutdown,
// off the writer thread.
class CheckpointScheduler {
 public:
  CheckpointScheduler(ledger::Checkpointer& cp, store::Database& db, Duration interval)
      : cp_(cp), db_(db), interval_(interval) {}
  ~CheckpointScheduler() { Stop(); }

  void Start() { thread_ = std::thread([this] { Run(); }); }
  // `owns(tenant)`: whether this node writes the tenant (with several nodes, the owner signs).
  void Touched(const std::vector<ledger::Event>& events,
               const std::function<bool(std::string_view)>& owns) {
    std::lock_guard lock(mu_);
    for (const auto& e : events) {
      if (!owns || owns(e.tenant_id)) dirty_.insert(e.tenant_id);
    }
  }
  void Stop() {
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    Flush();
  }

 private:
  void Run() {
    std::unique_lock lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, std::chrono::microseconds(interval_.us), [&] { return stop_; });
      if (stop_) break;
      lock.unlock();
      Flush();
      lock.lock();
    }
  }
  void Flush() {
    std::set<std::string> tenants;
    {
      std::lock_guard lock(mu_);
      tenants.swap(dirty_);
    }
    if (tenants.empty()) return;
    auto conn = db_.Connect();
    if (!conn.ok()) {
      spdlog::error("checkpoint: {}", conn.error().ToString());
      return;
    }
    for (const auto& t : tenants) {
      auto r = cp_.CheckpointTenant(**conn, t, /*force=*/true);
      if (!r.ok()) spdlog::error("checkpoint of tenant {}: {}", t, r.error().ToString());
    }
  }

  ledger::Checkpointer& cp_;
  store::Database& db_;
  Duration interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> dirty_;
  bool stop_ = false;
  std::thread thread_;
};

// Copies the writer's cumulative statistics into Prometheus counters (by the increase since
// the previous scrape) and its queue depth into a gauge. Hooks run one at a time.
class WriterStatsExporter {
 public:
  void Export(server::Metrics& m, const ledger::WriterStats& s) {
    Add(m, "opsbox_ledger_commands_total", "Commands answered by the ledger writer", {},
        s.commands.load(), last_.commands);
    Add(m, "opsbox_ledger_events_total", "Events appended to the ledger", {}, s.events.load(),
        last_.events);
    Add(m, "opsbox_ledger_commits_total", "Ledger transactions committed (group commits)", {},
        s.commits.load(), last_.commits);
    Add(m, "opsbox_ledger_commands_rejected_total", "Commands rejected", {}, s.rejected.load(),
        last_.rejected);
    Add(m, "opsbox_ledger_commands_replayed_total", "Idempotent retries answered", {},
        s.replayed.load(), last_.replayed);
    Add(m, "opsbox_ledger_batch_size_sum", "Sum of group commit batch sizes", {},
        s.batch_size_sum.load(), last_.batch_size_sum);
    // Batch sizes as cumulative buckets (le = upper bound), the histogram layout.
    uint64_t cumulative = 0;
    for (int i = 0; i < 14; ++i) {
      cumulative += s.batch_size_buckets[i].load();
      std::string le = i < 13 ? std::to_string(1 << i) : "+Inf";
      Add(m, "opsbox_ledger_batch_size_bucket", "Group commit batch sizes, cumulative buckets",
          {{"le", le}}, cumulative, last_.buckets[i]);
    }
    m.SetGauge("opsbox_ledger_queue_depth", "Commands waiting for the writer", {},
               static_cast<double>(s.queue_depth.load()));
    Add(m, "opsbox_ledger_batches_failed_total",
        "Group commits rolled back as a whole (their commands then retried one by one)", {},
        s.batches_failed.load(), last_.batches_failed);
    Add(m, "opsbox_ledger_commands_forwarded_total",
        "Commands forwarded to the node that writes their shard", {}, s.forwarded.load(),
        last_.forwarded);
    Add(m, "opsbox_ledger_shard_takeovers_total", "Writer shards this node took over", {},
        s.shards_acquired.load(), last_.shards_acquired);
    m.SetGauge("opsbox_ledger_shards_owned", "Writer shards this node writes", {},
               static_cast<double>(s.shards_owned.load()));
  }

 private:
  static void Add(server::Metrics& m, std::string_view name, std::string_view help,
                  const server::Metrics::Labels& labels, uint64_t now, uint64_t& last) {
    m.AddCounter(name, help, labels, static_cast<double>(now - last));
    last = now;
  }
  struct Last {
    uint64_t commands = 0, events = 0, commits = 0, rejected = 0, replayed = 0,
             batch_size_sum = 0, batches_failed = 0, forwarded = 0, shards_acquired = 0;
    uint64_t buckets[14] = {};
  } last_;
};

}  // namespace

struct Server::Parts {
  SystemClock clock;
  SystemRandom random;
  std::unique_ptr<store::Database> db;
  std::unique_ptr<store::Pool> pool;
  ledger::Registry registry;
  std::unique_ptr<integrations::SubscriptionCache> subscriptions;
  std::unique_ptr<ledger::Writer> writer;
  std::unique_ptr<ledger::Checkpointer> checkpointer;
  std::unique_ptr<CheckpointScheduler> scheduler;
  std::unique_ptr<identity::Authenticator> auth;
  std::unique_ptr<identity::LoginService> login;
  std::unique_ptr<server::BeastHttpClient> http_client;
  std::unique_ptr<integrations::OutboxWorker> outbox;
  std::unique_ptr<WorkerPool> blocking;
  // Several nodes on one PostgreSQL (null when clustering is off).
  std::unique_ptr<ClusterForwarder> forwarder;
  std::unique_ptr<ledger::Follower> follower;
  server::Metrics metrics;
  api::ApiDeps deps;
  api::Router router;
  std::unique_ptr<server::HttpServer> http;
  std::atomic<bool> ready{false};
  bool stopped = false;
  // Issues #3 and #4: each module's parts (declared after the parts they use).
  // [pii:parts] begin
  std::unique_ptr<pii::Scanner> pii;
  // [pii:parts] end
  // [privacy-keys:parts] begin
  std::unique_ptr<privacy::Keyring> keyring;  // before the modules that seal or scrub with it
  // [privacy-keys:parts] end
  // [privacy-governance:parts] begin
  std::unique_ptr<privacy::Governance> governance;
  std::unique_ptr<privacy::RetentionScheduler> retention;
  // [privacy-governance:parts] end
  // [live:parts] begin
  std::unique_ptr<live::Hub> hub;  // before routing and intake, which publish to it
  // [live:parts] end
  // [routing:parts] begin
  std::unique_ptr<routing::Service> routing;
  // [routing:parts] end
  // [intake:parts] begin
  std::unique_ptr<intake::Intake> intake;
  std::unique_ptr<intake::OutboundWorker> intake_outbound;
  // [intake:parts] end
};

Server::Server(Config config) : config_(std::move(config)), parts_(std::make_unique<Parts>()) {}

Server::~Server() { Stop(); }

uint16_t Server::port() const { return parts_->http ? parts_->http->port() : 0; }

Status Server::Start() {
  auto& p = *parts_;
  InitCrypto();
  std::error_code ec;
  std::filesystem::create_directories(config_.data_dir, ec);
  OPSBOX_ASSIGN_OR_RETURN(p.db, OpenDatabase(config_.database_url, config_));
  OPSBOX_TRY(p.db->Migrate());
  p.pool = std::make_unique<store::Pool>(*p.db,
                                         static_cast<size_t>(config_.database_pool_connections_max));
  OPSBOX_ASSIGN_OR_RETURN(auto key, ledger::LoadOrCreateSigningKey(config_.SigningKeyPath()));
  p.checkpointer = std::make_unique<ledger::Checkpointer>(
      *p.db, key, p.clock, config_.ledger_checkpoint_interval_events);
  p.scheduler = std::make_unique<CheckpointScheduler>(
      *p.checkpointer, *p.db, Duration::Millis(config_.ledger_checkpoint_interval_ms));
  const auto identity_options = IdentityOptionsFrom(config_);
  identity::RegisterIdentity(p.registry, identity_options);
  p.subscriptions = std::make_unique<integrations::SubscriptionCache>();
  p.auth = std::make_unique<identity::Authenticator>(*p.pool, identity_options);
  p.login = std::make_unique<identity::LoginService>(identity_options, p.random);
  p.http_client = std::make_unique<server::BeastHttpClient>();
  integrations::OutboxOptions oo;
  oo.threads = static_cast<int>(config_.webhooks_threads);
  oo.retry_max = static_cast<int>(config_.webhooks_retry_max);
  oo.retry_delay_ms_initial = static_cast<int>(config_.webhooks_retry_delay_ms_initial);
  oo.retry_delay_ms_max = static_cast<int>(config_.webhooks_retry_delay_ms_max);
  oo.timeout_ms = static_cast<int>(config_.webhooks_timeout_ms);
  oo.poll_interval_ms = static_cast<int>(config_.webhooks_poll_interval_ms);
  p.outbox = std::make_unique<integrations::OutboxWorker>(*p.db, *p.http_client, p.clock,
                                                          p.random, oo);
  integrations::RegisterIntegrations(p.registry, *p.subscriptions, p.outbox.get());
  wfm::RegisterWfm(p.registry);
  // [pii:register] begin
  OPSBOX_ASSIGN_OR_RETURN(p.pii, pii::Scanner::Create());
  // [pii:register] end
  // [privacy-keys:register] begin
  {
    OPSBOX_ASSIGN_OR_RETURN(auto key_provider,
                            privacy::OpenKeyFile(config_.data_dir + "/privacy-keys.json"));
    OPSBOX_ASSIGN_OR_RETURN(p.keyring, privacy::Keyring::Create(std::move(key_provider), p.clock));
  }
  p.keyring->Register(p.registry);
  privacy::RegisterErasure(p.registry, *p.keyring);
  // [privacy-keys:register] end
  // [privacy-governance:register] begin
  p.governance = std::make_unique<privacy::Governance>();
  p.governance->Register(p.registry);
  {
    OPSBOX_ASSIGN_OR_RETURN(auto governance_conn, p.db->Connect());
    OPSBOX_TRY(p.governance->Load(*governance_conn, p.clock.Now()));
  }
  // [privacy-governance:register] end
  // [live:register] begin
  p.hub = std::make_unique<live::Hub>();
  // [live:register] end
  // [routing:register] begin
  p.routing = std::make_unique<routing::Service>(*p.db, p.clock, p.hub.get());
  p.routing->Register(p.registry);
  // [routing:register] end
  // [intake:register] begin
  p.intake = std::make_unique<intake::Intake>(intake::MakeHooks(*p.pii, *p.keyring),
                                              intake::IntakeOptions{});
  p.intake->Register(p.registry);
  intake::RegisterWithPrivacy(*p.intake, *p.keyring, *p.governance);
  p.intake_outbound = std::make_unique<intake::OutboundWorker>(
      *p.db, *p.http_client, p.clock, p.random, *p.intake, intake::OutboundOptions{});
  p.registry.AddCommittedListener([&p](const std::vector<ledger::Event>& events) {
    for (const auto& e : events) {
      if (e.type == intake::kMessageSent) {
        p.intake_outbound->Wake();
        return;
      }
    }
  });
  // [intake:register] end
  p.registry.AddCommittedListener([&p](const std::vector<ledger::Event>& events) {
    p.auth->OnCommitted(events);
    if (!p.follower) return p.scheduler->Touched(events, nullptr);
    p.scheduler->Touched(events, [&p](std::string_view t) { return p.writer->OwnsTenant(t); });
  });
  ledger::WriterOptions writer_options = WriterOptionsFrom(config_);
  OPSBOX_ASSIGN_OR_RETURN(std::string cluster_secret, LoadClusterSecret(config_));
  // Several nodes on one PostgreSQL (ledger/cluster.hpp): the forwarder and the follower, the
  // follower started before the writer so that its cursors are the heads the modules'
  // projections reflect.
  auto start_cluster = [&p](const Config& c, const std::string& secret,
                            ledger::WriterOptions& options) -> Status {
    if (p.db->dialect() != store::Dialect::kPostgres) {
      return Error::Invalid("cluster.advertise_url", "postgres_only",
                            "several nodes need PostgreSQL; SQLite serves one node");
    }
    ForwarderOptions fo;
    fo.forward_timeout_ms = c.cluster_forward_timeout_ms;
    p.forwarder = std::make_unique<ClusterForwarder>(*p.db, *p.http_client, p.clock, secret, fo);
    p.follower = std::make_unique<ledger::Follower>(
        *p.db, p.registry,
        [url = c.database_url] { return store::OpenPostgresListener(url, ledger::kLedgerChannel); },
        [&p](std::string_view tenant) { return p.writer && p.writer->OwnsTenant(tenant); });
    options.cluster.enabled = true;
    options.cluster.node_id =
        c.cluster_node_id.empty() ? NewId("node", p.clock.Now(), p.random) : c.cluster_node_id;
    options.cluster.advertise_url = c.cluster_advertise_url;
    options.cluster.rebalance_interval_ms = c.cluster_rebalance_interval_ms;
    options.cluster.forwarder = p.forwarder.get();
    options.cluster.on_shard_acquired = [&p](int shard) {
      const int shards = p.writer->shard_count();
      Status st = p.follower->CatchUp(
          [&](std::string_view tenant) { return ledger::ShardOf(tenant, shards) == shard; });
      if (!st.ok()) spdlog::warn("cluster: catching up shard {}: {}", shard, st.error().ToString());
    };
    p.registry.AddCommittedListener(
        [&p](const std::vector<ledger::Event>& events) { p.follower->Advance(events); });
    spdlog::info("cluster: node {} at {}", options.cluster.node_id, c.cluster_advertise_url);
    return Ok();
  };
  if (!cluster_secret.empty()) OPSBOX_TRY(start_cluster(config_, cluster_secret, writer_options));
  p.writer = std::make_unique<ledger::Writer>(*p.db, p.registry, p.clock, p.random,
                                              writer_options);
  if (p.forwarder) {
    p.forwarder->SetWriter(p.writer.get());
    p.forwarder->Start();
    OPSBOX_TRY(p.follower->Start());
  }
  OPSBOX_TRY(p.writer->Start());
  // Events appended while no server ran (CLI, a crash before the last checkpoint).
  if (auto st = p.checkpointer->CheckpointAll(); !st.ok()) {
    spdlog::warn("checkpoint at start-up: {}", st.error().ToString());
  }
  p.scheduler->Start();
  OPSBOX_TRY(p.outbox->Start());
  p.blocking = std::make_unique<WorkerPool>(2, 1024);

  p.deps = api::ApiDeps{p.writer.get(), p.pool.get(), p.auth.get(), p.login.get(), &p.clock,
                        &p.random, p.blocking.get(), {p.checkpointer->public_key_hex()},
                        nullptr, nullptr, std::string(kVersion), config_.login_session_ttl_s};
  p.deps.cluster_secret = cluster_secret;
  p.metrics.AddRefreshHook([&p, exporter = std::make_shared<WriterStatsExporter>()] {
    exporter->Export(p.metrics, p.writer->stats());
    p.metrics.SetGauge("opsbox_outbox_backlog", "Webhook deliveries pending", {},
                       static_cast<double>(p.outbox->Backlog()));
  });
  // [pii:deps] begin
  p.deps.pii = p.pii.get();
  // [pii:deps] end
  // [privacy-keys:deps] begin
  p.deps.keyring = p.keyring.get();
  p.metrics.AddRefreshHook([&p] {
    p.metrics.SetGauge("opsbox_privacy_cached_data_keys", "Unwrapped data keys held in memory",
                       {}, static_cast<double>(p.keyring->CachedKeys()));
  });
  // [privacy-keys:deps] end
  // [privacy-governance:deps] begin
  p.deps.privacy = p.governance.get();
  p.retention = std::make_unique<privacy::RetentionScheduler>(*p.db, *p.writer, p.clock,
                                                              privacy::kRetentionRunInterval);
  p.retention->Start();
  p.metrics.AddRefreshHook([&p, last = std::make_shared<uint64_t>(0)] {
    const uint64_t seen = p.governance->SensitiveDataExceptionsSeen();
    p.metrics.AddCounter("opsbox_sensitive_data_exceptions_total",
                         "Sensitive data exceptions recorded (card numbers and other PII in messages)",
                         {}, static_cast<double>(seen - *last));
    *last = seen;
  });
  // [privacy-governance:deps] end
  // [live:deps] begin
  p.deps.hub = p.hub.get();
  // [live:deps] end
  // [routing:deps] begin
  OPSBOX_TRY(p.routing->Start(*p.writer));
  p.deps.routing = p.routing.get();
  // [routing:deps] end
  // [intake:deps] begin
  p.deps.intake = p.intake.get();
  OPSBOX_TRY(p.intake_outbound->Start());
  // [intake:deps] end
  p.deps.render_metrics = [&p] { return p.metrics.Render(); };
  p.deps.ready = [&p] { return p.ready.load(); };
  api::AddRoutes(p.router, p.deps);

  OPSBOX_ASSIGN_OR_RETURN(auto listen, ParseListen(config_.server_listen));
  server::HttpServerOptions so;
  so.host = listen.first;
  so.port = listen.second;
  so.threads = static_cast<int>(config_.server_threads);
  so.body_bytes_max = static_cast<size_t>(config_.server_body_bytes_max);
  so.header_bytes_max = static_cast<size_t>(config_.server_header_bytes_max);
  so.header_timeout_ms = static_cast<int>(config_.server_header_timeout_ms);
  so.idle_timeout_ms = static_cast<int>(config_.server_idle_timeout_ms);
  so.shutdown_grace_ms = static_cast<int>(config_.server_shutdown_grace_ms);
  p.http = std::make_unique<server::HttpServer>(so, p.router, p.metrics);
  OPSBOX_TRY(p.http->Start());
  p.ready.store(true);
  return Ok();
}

void Server::Stop() {
  auto& p = *parts_;
  if (p.stopped) return;
  p.stopped = true;
  p.ready.store(false);
  // Order matters: no new requests, then in-flight requests finish (their commands are
  // answered by the still-running writer), then the writer drains and stops, then the last
  // checkpoint covers everything it appended.
  if (p.http) p.http->Stop();
  // [pii:stop-before-writer] begin
  // [pii:stop-before-writer] end
  // [privacy-keys:stop-before-writer] begin
  // [privacy-keys:stop-before-writer] end
  // [privacy-governance:stop-before-writer] begin
  if (p.retention) p.retention->Stop();
  // [privacy-governance:stop-before-writer] end
  // [live:stop-before-writer] begin
  // [live:stop-before-writer] end
  // [routing:stop-before-writer] begin
  if (p.routing) p.routing->Stop();
  // [routing:stop-before-writer] end
  // [intake:stop-before-writer] begin
  if (p.intake_outbound) p.intake_outbound->Stop();
  // [intake:stop-before-writer] end
  if (p.blocking) p.blocking->Stop();
  if (p.forwarder) p.forwarder->Stop();
  if (p.writer) p.writer->Stop();
  if (p.follower) p.follower->Stop();
  if (p.scheduler) p.scheduler->Stop();
  if (p.outbox) p.outbox->Stop();
}

struct Offline::Parts {
  SystemClock clock;
  SystemRandom random;
  std::unique_ptr<store::Database> db;
  ledger::Registry registry;
  integrations::SubscriptionCache subscriptions;
  // [pii:offline-parts] begin
  std::unique_ptr<pii::Scanner> pii;
  // [pii:offline-parts] end
  // [privacy-keys:offline-parts] begin
  std::unique_ptr<privacy::Keyring> keyring;
  // [privacy-keys:offline-parts] end
  // [privacy-governance:offline-parts] begin
  std::unique_ptr<privacy::Governance> governance;
  // [privacy-governance:offline-parts] end
  // [live:offline-parts] begin
  // [live:offline-parts] end
  // [routing:offline-parts] begin
  std::unique_ptr<routing::Service> routing;
  // [routing:offline-parts] end
  // [intake:offline-parts] begin
  std::unique_ptr<intake::Intake> intake;
  // [intake:offline-parts] end
  std::unique_ptr<ledger::Writer> writer;
  std::unique_ptr<ledger::Checkpointer> checkpointer;
  std::string actor;
};

Offline::Offline() : parts_(std::make_unique<Parts>()) {}
Offline::~Offline() {
  if (parts_->writer) parts_->writer->Stop();
}

Result<std::unique_ptr<Offline>> Offline::Open(const std::string& db_url, const Config& config) {
  InitCrypto();
  std::unique_ptr<Offline> o(new Offline());
  auto& p = *o->parts_;
  OPSBOX_ASSIGN_OR_RETURN(p.db, OpenDatabase(db_url, config));
  OPSBOX_TRY(p.db->Migrate());
  identity::RegisterIdentity(p.registry, IdentityOptionsFrom(config));
  integrations::RegisterIntegrations(p.registry, p.subscriptions, nullptr);
  wfm::RegisterWfm(p.registry);
  // [pii:offline-register] begin
  OPSBOX_ASSIGN_OR_RETURN(p.pii, pii::Scanner::Create());
  // [pii:offline-register] end
  // [privacy-keys:offline-register] begin
  {
    std::error_code dir_ec;  // a missing folder surfaces as the key file's own error
    std::filesystem::create_directories(config.data_dir, dir_ec);
    OPSBOX_ASSIGN_OR_RETURN(auto key_provider,
                            privacy::OpenKeyFile(config.data_dir + "/privacy-keys.json"));
    OPSBOX_ASSIGN_OR_RETURN(p.keyring, privacy::Keyring::Create(std::move(key_provider), p.clock));
  }
  p.keyring->Register(p.registry);
  privacy::RegisterErasure(p.registry, *p.keyring);
  // [privacy-keys:offline-register] end
  // [privacy-governance:offline-register] begin
  p.governance = std::make_unique<privacy::Governance>();
  p.governance->Register(p.registry);
  // [privacy-governance:offline-register] end
  // [live:offline-register] begin
  // [live:offline-register] end
  // [routing:offline-register] begin
  p.routing = std::make_unique<routing::Service>(
      *p.db, p.clock, nullptr, routing::ServiceOptions{.run_threads = false});
  p.routing->Register(p.registry);
  // [routing:offline-register] end
  // [intake:offline-register] begin
  p.intake = std::make_unique<intake::Intake>(intake::MakeHooks(*p.pii, *p.keyring),
                                              intake::IntakeOptions{});
  p.intake->Register(p.registry);
  intake::RegisterWithPrivacy(*p.intake, *p.keyring, *p.governance);
  // [intake:offline-register] end
  ledger::WriterOptions wo = WriterOptionsFrom(config);
  wo.shards = 1;
  p.writer = std::make_unique<ledger::Writer>(*p.db, p.registry, p.clock, p.random, wo);
  OPSBOX_TRY(p.writer->Start());
  const char* user = getenv("USER");
  p.actor = std::string("cli:") + (user != nullptr ? user : std::to_string(getuid()));
  OPSBOX_ASSIGN_OR_RETURN(auto key, ledger::LoadOrCreateSigningKey(config.SigningKeyPath()));
  p.checkpointer = std::make_unique<ledger::Checkpointer>(*p.db, key, p.clock, 1);
  return o;
}

store::Database& Offline::db() { return *parts_->db; }

Result<Json> Offline::Submit(const std::string& tenant, const std::string& type, Json payload) {
  ledger::Command cmd{tenant, "", type, parts_->actor, std::move(payload)};
  OPSBOX_ASSIGN_OR_RETURN(auto outcome, parts_->writer->SubmitAndWait(std::move(cmd)));
  Json out = outcome.result;
  if (out.is_object() && outcome.once.is_object()) {
    for (auto& [k, v] : outcome.once.items()) out[k] = v;
  }
  return out;
}

Status Offline::Checkpoint(const std::string& tenant) {
  OPSBOX_ASSIGN_OR_RETURN(auto conn, parts_->db->Connect());
  OPSBOX_ASSIGN_OR_RETURN(auto cp, parts_->checkpointer->CheckpointTenant(*conn, tenant, true));
  (void)cp;
  return Ok();
}

}  // namespace opsbox::app
