// `opsbox sla due` (see sla_cli.hpp).
#include "app/sla_cli.hpp"

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cases/business_calendar.hpp"
#include "core/files.hpp"
#include "core/time.hpp"

namespace opsbox::app {

int RunSlaDue(const SlaDueOptions& options, std::ostream& out, std::ostream& err) {
  auto fail = [&](const std::string& what, const Error& e) {
    err << "opsbox sla due: " << what << " (rule " << e.rule << "): " << e.message << "\n";
    return 2;
  };
  auto text = ReadFileCapped(options.calendar_path, cases::kCalendarBytesMax, "calendar");
  if (!text.ok()) return fail("--calendar", text.error());
  auto calendar = cases::ParseBusinessCalendarText(*text, ZoneRules::Load);
  if (!calendar.ok()) {
    return fail("--calendar " + options.calendar_path + ": " + calendar.error().field,
                calendar.error());
  }
  auto start = ParseRfc3339(options.start, "start");
  if (!start.ok()) return fail("--start", start.error());
  if (options.business_minutes < 0 || options.business_minutes > cases::kSlaTargetMinutesMax) {
    return fail("--business-minutes",
                Error::Invalid("business_minutes", "range",
                               "--business-minutes must be 0 to " +
                                   std::to_string(cases::kSlaTargetMinutesMax)));
  }
  auto due = cases::AddBusinessTime(*calendar, *start, Duration::Minutes(options.business_minutes));
  if (!due.ok()) return fail("--calendar " + options.calendar_path, due.error());
  const std::string due_at = FormatRfc3339(*due);
  if (options.json) {
    out << nlohmann::json{{"due_at", due_at}}.dump() << "\n";
  } else {
    out << due_at << "\n";
  }
  return 0;
}

CLI::App* AddSlaCommands(CLI::App& app) {
  auto* sla = app.add_subcommand("sla", "SLA clocks: due instants on business calendars");
  sla->require_subcommand(1);
  auto* due = sla->add_subcommand(
      "due", "Print when a target of N business minutes from --start falls due on a calendar");
  auto options = std::make_shared<SlaDueOptions>();
  due->add_option("--calendar", options->calendar_path, "calendar JSON file")->required();
  due->add_option("--start", options->start, "start instant, RFC 3339")->required();
  due->add_option("--business-minutes", options->business_minutes, "target in working minutes")
      ->required();
  due->add_flag("--json", options->json, "print {\"due_at\": \"…Z\"}");
  due->callback([options] {
    const int rc = RunSlaDue(*options, std::cout, std::cerr);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
  return sla;
}

}  // namespace opsbox::app
