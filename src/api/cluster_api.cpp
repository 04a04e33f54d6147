// Commands forwarded by another node of the cluster (ledger/cluster.hpp "Forwarding";
// app/cluster_forwarder.cpp sends them). Not for clients: it answers 404 unless clustering is
// on, and 403 unless the body is signed with the cluster's shared secret.
#include <atomic>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "api/common.hpp"
#include "core/crypto.hpp"

namespace opsbox::api::detail {
namespace {

// Collects the outcomes of one forwarded request and answers when the last one arrives.
struct Pending {
  std::mutex mu;
  Json outcomes = Json::array();
  std::atomic<size_t> left{0};
  Respond respond;
};

}  // namespace

void AddClusterRoutes(Router& router, const ApiDeps& deps) {
  // No request budget: the forwarding node charged the client's budget already, and an
  // unsigned body is refused after one HMAC.
  AddPublic(
      router, deps, Budget::kNone, "POST", std::string(ledger::kForwardPath),
      "Commands forwarded by another node of the cluster (signed with the cluster secret)",
      [&deps](HttpRequest& req, Respond respond) {
        if (deps.cluster_secret.empty()) {
          return respond(Problem(Error::NotFound("clustering is off on this node"), req.path));
        }
        const std::string expected =
            HexEncode(HmacSha256(deps.cluster_secret, req.body));
        if (!ConstantTimeEqual(expected, req.Header(ledger::kForwardSignatureHeader))) {
          return respond(Problem(Error{ErrorCode::kPermissionDenied,
                                       std::string(ledger::kForwardSignatureHeader), "signature",
                                       "the body is not signed with this cluster's secret"},
                                 req.path));
        }
        auto body = ParseBody(req);
        if (!body.ok()) return respond(Problem(body.error(), req.path));
        const Json* commands = body->contains("commands") ? &(*body)["commands"] : nullptr;
        if (commands == nullptr || !commands->is_array() || commands->empty() ||
            commands->size() > ledger::kForwardCommandsMax) {
          return respond(Problem(
              Error::Invalid("commands", "range",
                             "1 to " + std::to_string(ledger::kForwardCommandsMax) + " commands"),
              req.path));
        }
        auto pending = std::make_shared<Pending>();
        pending->respond = std::move(respond);
        pending->outcomes = Json::array();
        for (size_t i = 0; i < commands->size(); ++i) pending->outcomes.push_back(nullptr);
        pending->left.store(commands->size());
        auto answer = [pending](size_t i, const Result<ledger::CommandOutcome>& r) {
          {
            std::lock_guard lock(pending->mu);
            pending->outcomes[i] = ledger::OutcomeToWire(r);
          }
          if (pending->left.fetch_sub(1) == 1) {
            pending->respond(Ok(Json{{"outcomes", std::move(pending->outcomes)}}));
          }
        };
        for (size_t i = 0; i < commands->size(); ++i) {
          auto cmd = ledger::CommandFromWire((*commands)[i]);
          if (!cmd.ok()) {
            answer(i, std::move(cmd).error());
            continue;
          }
          deps.writer->SubmitLocal(std::move(*cmd),
                                   [answer, i](Result<ledger::CommandOutcome> r) { answer(i, r); });
        }
      });
}

}  // namespace opsbox::api::detail
