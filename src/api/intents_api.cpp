// Routes of intent classification (issue #12, "Serving"): classify one text with the tenant's
// model (intents::TenantModels, loaded by the composition root from intents.model_path and
// intents.tenant_model_paths). Nothing is stored: the text is neither logged nor echoed.
#include "api/common.hpp"
#include "api/problem.hpp"
#include "intents/intents.hpp"

namespace opsbox::api::detail {
namespace {

void Classify(const ApiDeps& deps, HttpRequest& req, const identity::Principal& who,
              const Respond& respond) {
  auto body = ParseBody(req);
  if (!body.ok()) return respond(Problem(body.error(), req.path));
  if (auto st = CheckObjectKeys(*body, {"text", "alternatives"}); !st.ok()) {
    return respond(Problem(st.error(), req.path));
  }
  auto text = RequireString(*body, "text", intents::kTextBytesMax);
  if (!text.ok()) return respond(Problem(text.error(), req.path));
  size_t alternatives = intents::kAlternativesDefault;
  if (auto it = body->find("alternatives"); it != body->end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0 ||
        it->get<int64_t>() > static_cast<int64_t>(intents::kAlternativesMax)) {
      return respond(Problem(Error::Invalid("alternatives", "range",
                                            "alternatives must be an integer from 0 to " +
                                                std::to_string(intents::kAlternativesMax)),
                             req.path));
    }
    alternatives = it->get<size_t>();
  }
  const intents::Model* model = deps.intents ? deps.intents->For(who.tenant_id) : nullptr;
  if (model == nullptr) {
    return respond(Problem(Error::Conflict("intent_model_missing",
                                           "no intent model is configured for this tenant "
                                           "(intents.model_path, intents.tenant_model_paths)"),
                           req.path));
  }
  respond(Ok(Json::parse(intents::ClassificationJson(model->Classify(*text, alternatives)))));
}

}  // namespace

void AddIntentsRoutes(Router& router, const ApiDeps& deps) {
  AddAuthed(router, deps, "POST", "/api/v1/tenants/{tenant}/intents/classify",
            "intents.classify",
            "Classify one text with the tenant's intent model (unknown below the intent's "
            "threshold)",
            [&deps](HttpRequest& req, const identity::Principal& who, Respond respond) {
              Classify(deps, req, who, respond);
            });
}

}  // namespace opsbox::api::detail
