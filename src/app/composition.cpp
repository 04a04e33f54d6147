#include "app/composition.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <mutex>
#include <set>
#include <thread>

#include "api/api.hpp"
#include "app/cluster_forwarder.hpp"
#include "core/assert.hpp"
#include "core/crypto.hpp"
#include "core/ids.hpp"
#include "core/random.hpp"
#include "core/time.hpp"
#include "core/worker_pool.hpp"
#include "identity/identity.hpp"
#include "integrations/integrations.hpp"
#include "integrations/leased_outbox.hpp"
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
#include "pii/pii.hpp"
#include "privacy/erasure.hpp"
#include "privacy/keyring.hpp"
#include "privacy/governance.hpp"
#include "privacy/retention.hpp"
#include "live/hub.hpp"
#include "routing/service.hpp"
#include "automation/automation.hpp"
#include "intents/intents.hpp"
#include "intake/bridge.hpp"
#include "intake/outbound.hpp"
#include "backup/backup.hpp"
#include "cases/case_ledger.hpp"
#include "approvals/approvals.hpp"
#include "billing/billing.hpp"
#include "kpis/kpis.hpp"
#include "collections/collections.hpp"
#include "collections/contact_files.hpp"

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

// The one outbound request policy: the HTTP client enforces it for every outbound request and
// the modules check tenant-supplied URLs with it when they are saved.
integrations::OutboundPolicy OutboundPolicyFrom(const Config& c) {
  integrations::OutboundPolicyOptions o;
  o.allow_http = c.outbound_allow_http;
  o.allow_loopback = c.outbound_allow_loopback;
  for (const auto& cidr : c.outbound_allow_networks) {
    auto network = integrations::ParseIpNetwork(cidr, "outbound.allow_networks");
    OPSBOX_ASSERT(network.ok());  // ParseConfig validated every entry
    o.allow_networks.push_back(*network);
  }
  return integrations::OutboundPolicy(std::move(o));
}

// The other nodes of a cluster (cluster.advertise_url, set by the operator, recorded by each
// node in ledger_shards) live on internal addresses by design; no tenant names them. Their
// client is therefore not held to the tenant-facing outbound policy.
integrations::OutboundPolicy ClusterPeerPolicy() {
  integrations::OutboundPolicyOptions o;
  o.allow_http = true;
  o.allow_loopback = true;
  for (const char* cidr : {"0.0.0.0/0", "::/0"}) {
    auto network = integrations::ParseIpNetwork(cidr, "cluster.advertise_url");
    OPSBOX_ASSERT(network.ok());
    o.allow_networks.push_back(*network);
  }
  return integrations::OutboundPolicy(std::move(o));
}

intake::IntakeOptions IntakeOptionsFrom(const Config& c) {
  intake::IntakeOptions o;
  o.outbound_policy = OutboundPolicyFrom(c);
  return o;
}

ledger::WriterOptions WriterOptionsFrom(const Config& c) {
  ledger::WriterOptions o;
  o.shards = static_cast<int>(c.database_writer_shards);
  o.batch_max = static_cast<size_t>(c.ledger_batch_max);
  o.queue_depth_max = static_cast<size_t>(c.ledger_queue_depth_max);
  o.command_bytes_max = static_cast<size_t>(c.ledger_command_bytes_max);
  o.event_bytes_max = static_cast<size_t>(c.ledger_event_bytes_max);
  o.batch_bytes_max = static_cast<size_t>(c.ledger_batch_bytes_max);
  return o;
}

// Waiting work per pool: logins queue behind each other for at most a few seconds; long
// computations beyond a handful are refused (503) rather than queued for minutes.
constexpr size_t kInteractiveQueueDepthMax = 1024;
constexpr size_t kComputeQueueDepthMax = 16;

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

// Runs `work` every `interval` on a thread of its own until Stop() (then joins).
class Periodic {
 public:
  Periodic(Duration interval, std::function<void()> work)
      : interval_(interval), work_(std::move(work)), thread_([this] { Run(); }) {}
  ~Periodic() { Stop(); }
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Run() {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::microseconds(interval_.us), [&] { return stop_; })) {
      lock.unlock();
      work_();
      lock.lock();
    }
  }
  Duration interval_;
  std::function<void()> work_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// How often counted-but-unrecorded forged provider requests are put on the ledger.
constexpr Duration kRejectedSignaturesFlushInterval = Duration::Seconds(15);

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


// Every domain module the ledger writer knows, registered in one place for the server and the
// CLI alike (issue #9: two registration paths had drifted). Members are declared in
// dependency order, so they are destroyed after what uses them.
struct Modules {
  ledger::Registry registry;
  integrations::SubscriptionCache subscriptions;
  std::unique_ptr<pii::Scanner> pii;
  std::unique_ptr<privacy::Keyring> keyring;  // before the modules that seal or scrub with it
  std::unique_ptr<privacy::Governance> governance;
  std::unique_ptr<routing::Service> routing;
  std::unique_ptr<intents::TenantModels> intents;  // before intake, which classifies with it
  std::unique_ptr<automation::Automation> automation;  // before intake, which asks its boundary
  std::unique_ptr<intake::Intake> intake;
  std::unique_ptr<cases::SlaTimer> case_timer;  // issue #19
  std::unique_ptr<kpis::Aggregator> kpis;       // issue #13
  approvals::ActionRegistry approval_actions;   // issue #19: modules add their actions here
  std::unique_ptr<collections::Collections> collections;  // issue #11
};

// What differs between the server and the CLI: the server has an outbox to wake, a live hub to
// publish to and background threads.
struct ModuleWiring {
  store::Database& db;
  Clock& clock;
  const Config& config;
  integrations::LeasedOutbox* outbox = nullptr;  // null in the CLI
  live::Hub* hub = nullptr;                      // null in the CLI
  bool run_threads = true;
  // Issue #12: only the server classifies inbound messages, so only it loads the intent models
  // (intents.model_path, intents.tenant_model_paths). A CLI command that neither receives
  // messages nor classifies must not fail because a model file is missing or bad.
  bool load_intent_models = true;
};

// Issue #19: cases, their SLA timer, and the record type "case" for audited unmasking.
void RegisterCasesModule(Modules& m, const ModuleWiring& w) {
  cases::Hooks hooks;
  hooks.blind_index = [keyring = m.keyring.get()](std::string_view tenant, std::string_view kind,
                                                  std::string_view value) {
    return keyring->BlindIndex(tenant, kind, value);
  };
  hooks.open = [keyring = m.keyring.get()](store::Tx& tx, std::string_view tenant,
                                           const Json& value) -> Result<std::optional<Json>> {
    OPSBOX_ASSIGN_OR_RETURN(auto opened, keyring->Open(tx, tenant, value));
    if (opened.erased) return std::optional<Json>();
    return std::optional<Json>(std::move(opened.value));
  };
  cases::RegisterCases(m.registry, std::move(hooks));
  m.case_timer = std::make_unique<cases::SlaTimer>(
      w.db, w.clock, cases::SlaTimerOptions{.run_threads = w.run_threads});
  m.case_timer->Register(m.registry);
  m.governance->AddRecordType(
      "case",
      {{"description", privacy::FieldClass::kFreeText},
       {"customer_id", privacy::FieldClass::kIdentifier}},
      [keyring = m.keyring.get()](store::Connection& conn, std::string_view tenant,
                                  std::string_view id,
                                  std::string_view field) -> Result<privacy::Opened> {
        OPSBOX_ASSIGN_OR_RETURN(auto c, cases::GetCase(conn, tenant, id));
        if (!c) return Error::NotFound("no case " + std::string(id));
        const Json& v = field == "description" ? c->description : c->customer_id;
        if (v.is_null()) return privacy::Opened{};
        return keyring->Open(conn, tenant, v);
      });
}

// Issue #11: the contact policy the collections API enforces (collections.policy_preset,
// adjusted by collections.policy_file).
Result<collections::ContactPolicy> CollectionsPolicyFrom(const Config& c) {
  OPSBOX_ASSIGN_OR_RETURN(auto policy, collections::PresetPolicy(c.collections_policy_preset));
  if (c.collections_policy_file.empty()) return policy;
  std::ifstream f(c.collections_policy_file);
  if (!f) {
    return Error::Invalid("collections.policy_file", "readable",
                          "cannot read " + c.collections_policy_file);
  }
  std::stringstream text;
  text << f.rdbuf();
  auto parsed = collections::ParsePolicyFile(text.str(), std::move(policy));
  if (!parsed.ok()) {
    Error e = parsed.error();
    e.message = "collections.policy_file: " + e.message;
    return e;
  }
  return parsed;
}

Status RegisterModules(Modules& m, const ModuleWiring& w) {
  identity::RegisterIdentity(m.registry, IdentityOptionsFrom(w.config));
  integrations::RegisterIntegrations(m.registry, m.subscriptions, w.outbox,
                                     OutboundPolicyFrom(w.config));
  wfm::RegisterWfm(m.registry);
  OPSBOX_ASSIGN_OR_RETURN(
      m.pii, pii::Scanner::Create(pii::ScannerOptions{.phone_regions = w.config.pii_phone_regions}));
  {
    std::error_code dir_ec;  // a missing folder surfaces as the key file's own error
    std::filesystem::create_directories(w.config.data_dir, dir_ec);
    OPSBOX_ASSIGN_OR_RETURN(auto key_provider,
                            privacy::OpenKeyFile(w.config.data_dir + "/privacy-keys.json"));
    OPSBOX_ASSIGN_OR_RETURN(m.keyring, privacy::Keyring::Create(std::move(key_provider), w.clock));
  }
  m.keyring->Register(m.registry);
  privacy::RegisterErasure(m.registry, *m.keyring);
  m.governance = std::make_unique<privacy::Governance>();
  m.governance->Register(m.registry);
  {
    // The CLI used to skip this load, so its governance decisions started from empty state.
    OPSBOX_ASSIGN_OR_RETURN(auto governance_conn, w.db.Connect());
    OPSBOX_TRY(m.governance->Load(*governance_conn, w.clock.Now()));
  }
  m.routing = std::make_unique<routing::Service>(
      w.db, w.clock, w.hub, routing::ServiceOptions{.run_threads = w.run_threads});
  m.routing->Register(m.registry);
  m.intents = std::make_unique<intents::TenantModels>();
  if (w.load_intent_models) {
    // Issue #12: the tenants' intent models; inbound text messages that open a task are
    // classified so the intent becomes a task attribute for routing.
    OPSBOX_ASSIGN_OR_RETURN(auto models,
                            intents::TenantModels::Load(w.config.intents_model_path,
                                                        w.config.intents_tenant_model_paths));
    m.intents = std::make_unique<intents::TenantModels>(std::move(models));
  }
  {
    // Issue #12: the automation boundary and handoff; free text is masked by the PII scanner
    // on arrival (tags such as "[CARD]"), so no clear personal data reaches its events.
    automation::Hooks hooks;
    hooks.mask = [scanner = m.pii.get()](std::string_view text) {
      const auto findings = scanner->Scan(text);
      return pii::Redact(text, findings, pii::RedactStyle::kTag);
    };
    m.automation = std::make_unique<automation::Automation>(std::move(hooks));
    m.automation->Register(m.registry);
  }
  auto intake_hooks = intake::MakeHooks(*m.pii, *m.keyring);
  intake_hooks.boundary = [a = m.automation.get()](store::Tx& tx, std::string_view tenant,
                                                   std::string_view intent,
                                                   std::string_view channel,
                                                   Instant now) -> Result<intake::BoundaryHit> {
    OPSBOX_ASSIGN_OR_RETURN(auto d, a->DecideInTx(tx, tenant, intent, channel, now));
    return intake::BoundaryHit{std::string(automation::BoundaryName(d.boundary)),
                               d.policy_version};
  };
  if (!m.intents->empty()) {
    intake_hooks.classify = [models = m.intents.get()](std::string_view tenant,
                                                       std::string_view text)
        -> std::optional<intake::IntentHit> {
      const intents::Model* model = models->For(tenant);
      if (model == nullptr) return std::nullopt;
      const auto c = model->Classify(text, 0);
      return intake::IntentHit{c.intent, std::llround(c.confidence * 10000)};
    };
  }
  m.intake = std::make_unique<intake::Intake>(std::move(intake_hooks), IntakeOptionsFrom(w.config));
  m.intake->Register(m.registry);
  intake::RegisterWithPrivacy(*m.intake, *m.keyring, *m.governance);
  RegisterCasesModule(m, w);
  approvals::RegisterApprovals(m.registry, m.approval_actions);
  // Issue #13: KPI aggregates follow the routing events off the writer's transaction.
  m.kpis = std::make_unique<kpis::Aggregator>(
      w.db, kpis::AggregatorOptions{.run_thread = w.run_threads});
  m.kpis->Register(m.registry);
  billing::Register(m.registry);  // issue #13: client contracts and invoices
  // Issue #11: collections. Contacts are sealed per customer by the keyring (the writer's
  // sealer) and their projected copies scrubbed when the customer is erased.
  {
    OPSBOX_ASSIGN_OR_RETURN(auto policy, CollectionsPolicyFrom(w.config));
    OPSBOX_ASSIGN_OR_RETURN(auto zones, collections::ZoneCatalog::Load());
    privacy::Keyring* keyring = m.keyring.get();
    collections::Hooks hooks;
    hooks.blind_index = [keyring](std::string_view tenant, std::string_view kind,
                                  std::string_view value) {
      return keyring->BlindIndex(tenant, kind, value);
    };
    hooks.open_tx = [keyring](store::Tx& tx, std::string_view tenant,
                              const Json& value) -> Result<std::optional<Json>> {
      OPSBOX_ASSIGN_OR_RETURN(auto opened, keyring->Open(tx, tenant, value));
      return opened.erased ? std::optional<Json>() : std::optional<Json>(std::move(opened.value));
    };
    hooks.open = [keyring](store::Connection& conn, std::string_view tenant,
                           const Json& value) -> Result<std::optional<Json>> {
      OPSBOX_ASSIGN_OR_RETURN(auto opened, keyring->Open(conn, tenant, value));
      return opened.erased ? std::optional<Json>() : std::optional<Json>(std::move(opened.value));
    };
    m.collections = std::make_unique<collections::Collections>(std::move(hooks), std::move(policy),
                                                               std::move(zones));
    m.collections->Register(m.registry);
    m.keyring->AddErasureScrubber(collections::ScrubSubject);
  }
  return Ok();
}

}  // namespace

struct Server::Parts {
  SystemClock clock;
  SystemRandom random;
  std::unique_ptr<store::Database> db;
  std::unique_ptr<store::Pool> pool;
  std::unique_ptr<live::Hub> hub;  // before the modules that publish to it
  Modules m;
  std::unique_ptr<ledger::Writer> writer;
  std::unique_ptr<ledger::Checkpointer> checkpointer;
  std::unique_ptr<CheckpointScheduler> scheduler;
  std::unique_ptr<identity::Authenticator> auth;
  std::unique_ptr<identity::LoginService> login;
  std::unique_ptr<server::BeastHttpClient> http_client;
  std::unique_ptr<integrations::WebhookDelivery> webhook_deliveries;
  std::unique_ptr<integrations::LeasedOutbox> outbox;  // every kind of outbound delivery
  std::unique_ptr<WorkerPool> interactive;  // short blocking work: password hashing
  std::unique_ptr<WorkerPool> compute;      // long work: solves, forecasts, verification
  // Several nodes on one PostgreSQL (null when clustering is off).
  std::unique_ptr<server::BeastHttpClient> peer_client;  // to the other nodes only
  std::unique_ptr<ClusterForwarder> forwarder;
  std::unique_ptr<ledger::Follower> follower;
  server::Metrics metrics;
  api::ApiDeps deps;
  api::Router router;
  std::unique_ptr<server::HttpServer> http;
  std::atomic<bool> ready{false};
  bool stopped = false;
  std::unique_ptr<privacy::RetentionScheduler> retention;
  std::unique_ptr<intake::WhatsAppReplyDelivery> whatsapp_replies;  // a kind of outbox
  std::unique_ptr<intake::SmsReplyDelivery> sms_replies;            // a kind of outbox
  std::unique_ptr<api::RateLimits> rate_limits;
  std::unique_ptr<Periodic> rejected_signatures_flush;
  std::unique_ptr<backup::BackupScheduler> backups;
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
  p.pool = std::make_unique<store::Pool>(
      *p.db, static_cast<size_t>(config_.database_pool_connections_max),
      config_.database_pool_acquire_timeout_ms);
  OPSBOX_ASSIGN_OR_RETURN(auto key, ledger::LoadOrCreateSigningKey(config_.SigningKeyPath()));
  OPSBOX_ASSIGN_OR_RETURN(const std::string metrics_token, LoadMetricsToken(config_));
  p.metrics.SetTenantLabelsAllowed(config_.metrics_tenant_labels == "on");
  p.checkpointer = std::make_unique<ledger::Checkpointer>(
      *p.db, key, p.clock, config_.ledger_checkpoint_interval_events);
  p.scheduler = std::make_unique<CheckpointScheduler>(
      *p.checkpointer, *p.db, Duration::Millis(config_.ledger_checkpoint_interval_ms));
  const auto identity_options = IdentityOptionsFrom(config_);
  p.auth = std::make_unique<identity::Authenticator>(*p.pool, identity_options);
  p.login = std::make_unique<identity::LoginService>(identity_options, p.random);
  p.http_client = std::make_unique<server::BeastHttpClient>(OutboundPolicyFrom(config_));
  integrations::OutboxOptions oo;
  oo.threads = static_cast<int>(config_.webhooks_threads);
  oo.retry_max = static_cast<int>(config_.webhooks_retry_max);
  oo.retry_delay_ms_initial = static_cast<int>(config_.webhooks_retry_delay_ms_initial);
  oo.retry_delay_ms_max = static_cast<int>(config_.webhooks_retry_delay_ms_max);
  oo.timeout_ms = static_cast<int>(config_.webhooks_timeout_ms);
  oo.poll_interval_ms = static_cast<int>(config_.webhooks_poll_interval_ms);
  p.webhook_deliveries = std::make_unique<integrations::WebhookDelivery>(oo);
  p.outbox = std::make_unique<integrations::LeasedOutbox>(
      *p.db, *p.http_client, p.clock, p.random,
      std::vector<integrations::DeliveryKind*>{p.webhook_deliveries.get()}, oo);
  p.hub = std::make_unique<live::Hub>();
  OPSBOX_TRY(RegisterModules(p.m, ModuleWiring{*p.db, p.clock, config_, p.outbox.get(),
                                               p.hub.get(), /*run_threads=*/true}));
  p.whatsapp_replies = std::make_unique<intake::WhatsAppReplyDelivery>(*p.m.intake);
  p.outbox->AddKind(p.whatsapp_replies.get());
  // Issue #14: SMS replies, and every reply's outcome on the ledger (after the writer starts).
  p.sms_replies = std::make_unique<intake::SmsReplyDelivery>(*p.m.intake);
  p.outbox->AddKind(p.sms_replies.get());
  for (intake::ReplyDelivery* kind :
       {static_cast<intake::ReplyDelivery*>(p.whatsapp_replies.get()),
        static_cast<intake::ReplyDelivery*>(p.sms_replies.get())}) {
    kind->SetReport([&p](ledger::Command cmd) {
      if (p.writer) p.writer->Submit(std::move(cmd), [](Result<ledger::CommandOutcome>) {});
    });
  }
  p.m.registry.AddCommittedListener([&p](const std::vector<ledger::Event>& events) {
    for (const auto& e : events) {
      if (e.type == intake::kMessageSent || e.type == intake::kMessageRetryRequested) {
        p.outbox->Wake();
        return;
      }
    }
  });
  p.m.registry.AddCommittedListener([&p](const std::vector<ledger::Event>& events) {
    p.auth->OnCommitted(events);
    if (!p.follower) return p.scheduler->Touched(events, nullptr);
    p.scheduler->Touched(events, [&p](std::string_view t) { return p.writer->OwnsTenant(t); });
  });
  // After the authenticator forgot them: live streams opened with a revoked API key or session
  // close (issue #9; api/stream_api.cpp watches the topic).
  p.m.registry.AddCommittedListener([&p](const std::vector<ledger::Event>& events) {
    for (const auto& e : events) {
      if (auto id = identity::RevokedCredentialId(e)) {
        p.hub->Publish(e.tenant_id, live::RevokedCredentialTopic(*id),
                       Json{{"type", "credential_revoked"}});
      }
    }
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
    p.peer_client = std::make_unique<server::BeastHttpClient>(ClusterPeerPolicy());
    ForwarderOptions fo;
    fo.forward_timeout_ms = c.cluster_forward_timeout_ms;
    p.forwarder = std::make_unique<ClusterForwarder>(*p.db, *p.peer_client, p.clock, secret, fo);
    p.follower = std::make_unique<ledger::Follower>(
        *p.db, p.m.registry,
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
    p.m.registry.AddCommittedListener(
        [&p](const std::vector<ledger::Event>& events) { p.follower->Advance(events); });
    spdlog::info("cluster: node {} at {}", options.cluster.node_id, c.cluster_advertise_url);
    return Ok();
  };
  if (!cluster_secret.empty()) OPSBOX_TRY(start_cluster(config_, cluster_secret, writer_options));
  p.writer = std::make_unique<ledger::Writer>(*p.db, p.m.registry, p.clock, p.random,
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
  p.interactive = std::make_unique<WorkerPool>(
      static_cast<size_t>(config_.server_interactive_threads), kInteractiveQueueDepthMax);
  p.compute = std::make_unique<WorkerPool>(static_cast<size_t>(config_.server_compute_threads),
                                           kComputeQueueDepthMax);

  p.deps.writer = p.writer.get();
  p.deps.pool = p.pool.get();
  p.deps.auth = p.auth.get();
  p.deps.login = p.login.get();
  p.deps.clock = &p.clock;
  p.deps.random = &p.random;
  p.deps.interactive = p.interactive.get();
  p.deps.compute = p.compute.get();
  p.deps.trusted_public_keys_hex = {p.checkpointer->public_key_hex()};
  p.deps.version = std::string(kVersion);
  p.deps.session_ttl_s = config_.login_session_ttl_s;
  p.deps.tls = !config_.server_tls_cert_file.empty();
  p.rate_limits = std::make_unique<api::RateLimits>(
      RateLimit{config_.rate_limit_api_key_per_s, config_.rate_limit_api_key_burst},
      RateLimit{config_.rate_limit_session_per_s, config_.rate_limit_session_burst},
      RateLimit{config_.rate_limit_address_per_s, config_.rate_limit_address_burst},
      RateLimit{config_.rate_limit_provider_per_s, config_.rate_limit_provider_burst});
  p.deps.rate_limits = p.rate_limits.get();
  p.rejected_signatures_flush = std::make_unique<Periodic>(
      kRejectedSignaturesFlushInterval, [&p] { api::RecordRejectedSignatures(p.deps); });
  p.metrics.AddRefreshHook([&p, last = std::make_shared<std::pair<uint64_t, uint64_t>>()] {
    const uint64_t rejected = p.rate_limits->signatures_rejected.load();
    const uint64_t limited = p.rate_limits->requests_limited.load();
    p.metrics.AddCounter("opsbox_channel_signatures_rejected_total",
                         "Provider webhook requests refused for a missing or wrong signature", {},
                         static_cast<double>(rejected - last->first));
    p.metrics.AddCounter("opsbox_http_rate_limited_total",
                         "Requests answered 429 because a request budget was spent", {},
                         static_cast<double>(limited - last->second));
    *last = {rejected, limited};
  });
  p.deps.cluster_secret = cluster_secret;
  p.metrics.AddRefreshHook([&p, exporter = std::make_shared<WriterStatsExporter>()] {
    exporter->Export(p.metrics, p.writer->stats());
    p.metrics.SetGauge("opsbox_outbox_backlog",
                       "Outbox deliveries pending (webhooks and channel replies)", {},
                       static_cast<double>(p.outbox->Backlog()));
  });
  p.metrics.AddRefreshHook([&p, last = std::make_shared<uint64_t>(0)] {
    const uint64_t seen = p.m.registry.ModuleExceptions();
    p.metrics.AddCounter("opsbox_ledger_module_exceptions_total",
                         "Exceptions thrown by module handlers, projectors or listeners", {},
                         static_cast<double>(seen - *last));
    *last = seen;
  });
  p.deps.pii = p.m.pii.get();
  p.deps.keyring = p.m.keyring.get();
  p.metrics.AddRefreshHook([&p] {
    p.metrics.SetGauge("opsbox_privacy_cached_data_keys", "Unwrapped data keys held in memory",
                       {}, static_cast<double>(p.m.keyring->CachedKeys()));
  });
  p.deps.privacy = p.m.governance.get();
  p.retention = std::make_unique<privacy::RetentionScheduler>(*p.db, *p.writer, p.clock,
                                                              privacy::kRetentionRunInterval);
  p.retention->Start();
  p.metrics.AddRefreshHook([&p, last = std::make_shared<uint64_t>(0)] {
    const uint64_t seen = p.m.governance->SensitiveDataExceptionsSeen();
    p.metrics.AddCounter("opsbox_sensitive_data_exceptions_total",
                         "Sensitive data exceptions recorded (card numbers and other PII in messages)",
                         {}, static_cast<double>(seen - *last));
    *last = seen;
  });
  p.deps.hub = p.hub.get();
  OPSBOX_TRY(p.m.routing->Start(*p.writer));
  OPSBOX_TRY(p.m.case_timer->Start(*p.writer));
  OPSBOX_TRY(p.m.kpis->Start());
  p.deps.routing = p.m.routing.get();
  p.deps.intake = p.m.intake.get();
  p.deps.intents = p.m.intents.get();
  p.deps.collections = p.m.collections.get();
  p.deps.automation = p.m.automation.get();
  // With several nodes, the node writing ledger shard 0 takes the scheduled backups.
  p.backups = std::make_unique<backup::BackupScheduler>(
      *p.db, backup::ScheduleOptions{config_.backup_interval_s, config_.BackupFolder(),
                                     config_.backup_keep_count, std::string(kVersion),
                                     [&p] { return p.writer->OwnsShard(0); }});
  p.backups->Start();
  p.deps.backup_status = [&p] { return p.backups->status().ToJson(p.clock.Now().us); };
  p.metrics.AddRefreshHook([&p, last = std::make_shared<std::pair<uint64_t, uint64_t>>()] {
    const backup::ScheduleStatus s = p.backups->status();
    p.metrics.SetGauge("opsbox_backup_last_success_timestamp_seconds",
                       "End of the latest successful scheduled backup (0: none since start)", {},
                       static_cast<double>(s.last_success_at_us) / 1e6);
    p.metrics.SetGauge("opsbox_backup_last_duration_seconds",
                       "Duration of the latest scheduled backup", {},
                       static_cast<double>(s.last_duration_ms) / 1e3);
    p.metrics.SetGauge("opsbox_backup_last_bytes", "Size of the latest scheduled bundle", {},
                       static_cast<double>(s.last_bytes));
    p.metrics.SetGauge("opsbox_backup_ok",
                       "1 when the latest scheduled backup succeeded within two intervals", {},
                       s.State(p.clock.Now().us) == "ok" ? 1.0 : 0.0);
    p.metrics.AddCounter("opsbox_backup_runs_total", "Scheduled backups run",
                         {{"outcome", "success"}},
                         static_cast<double>(s.successes - last->first));
    p.metrics.AddCounter("opsbox_backup_runs_total", "Scheduled backups run",
                         {{"outcome", "failure"}},
                         static_cast<double>(s.failures - last->second));
    *last = {s.successes, s.failures};
  });
  p.deps.render_metrics = [&p] { return p.metrics.Render(); };
  p.deps.metrics_bearer_token = metrics_token;
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
  so.tls_cert_file = config_.server_tls_cert_file;
  so.tls_key_file = config_.server_tls_key_file;
  so.hsts_max_age_s = config_.server_hsts_max_age_s;
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
  if (p.rejected_signatures_flush) {
    p.rejected_signatures_flush->Stop();
    api::RecordRejectedSignatures(p.deps, /*all=*/true);  // what the last minute counted
  }
  if (p.retention) p.retention->Stop();
  if (p.m.routing) p.m.routing->Stop();
  if (p.m.case_timer) p.m.case_timer->Stop();
  if (p.backups) p.backups->Stop();
  if (p.interactive) p.interactive->Stop();
  if (p.compute) p.compute->Stop();
  if (p.forwarder) p.forwarder->Stop();
  if (p.writer) p.writer->Stop();
  if (p.m.kpis) p.m.kpis->Stop();  // after the writer: applies what its last batches queued
  if (p.follower) p.follower->Stop();
  if (p.scheduler) p.scheduler->Stop();
  if (p.outbox) p.outbox->Stop();
}

struct Offline::Parts {
  SystemClock clock;
  SystemRandom random;
  std::unique_ptr<store::Database> db;
  Modules m;
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
  OPSBOX_TRY(RegisterModules(p.m, ModuleWiring{*p.db, p.clock, config, nullptr, nullptr,
                                               /*run_threads=*/false,
                                               /*load_intent_models=*/false}));
  ledger::WriterOptions wo = WriterOptionsFrom(config);
  wo.shards = 1;
  p.writer = std::make_unique<ledger::Writer>(*p.db, p.m.registry, p.clock, p.random, wo);
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

std::vector<std::string> Offline::EventTypes() const { return parts_->m.registry.EventTypes(); }

ledger::Writer& Offline::writer() { return *parts_->writer; }
const std::string& Offline::actor() const { return parts_->actor; }

Status Offline::Checkpoint(const std::string& tenant) {
  OPSBOX_ASSIGN_OR_RETURN(auto conn, parts_->db->Connect());
  OPSBOX_ASSIGN_OR_RETURN(auto cp, parts_->checkpointer->CheckpointTenant(*conn, tenant, true));
  (void)cp;
  return Ok();
}

}  // namespace opsbox::app
