// Privacy: data-subject requests with their deadlines, legal holds and the unmask log.
import { api, tenantPath } from "../lib/api";
import { formatDate, t } from "../lib/i18n";
import { card, errorText, h, loading, table } from "../lib/ui";
import { PageContext } from "./pages";

export async function mount({ root }: PageContext): Promise<void> {
  root.replaceChildren(h("h1", {}, t("privacy.title")), loading());
  try {
    const [reqs, holds, unmasks] = await Promise.all([
      api("GET", tenantPath("/privacy/subject-requests")),
      api("GET", tenantPath("/privacy/legal-holds")),
      api("GET", tenantPath("/privacy/reports/unmasks")),
    ]);
    root.querySelector(".loading")?.remove();
    root.append(
      card(t("privacy.requests"), table(reqs.items || [], [
        { key: "id", label: t("col.id"), value: (r: any) => r.request_id },
        { key: "kind", label: t("col.kind"), value: (r: any) => r.kind || r.type || "" },
        { key: "status", label: t("col.status"), value: (r: any) => r.status || "" },
        { key: "due", label: t("col.due"), value: (r: any) => r.due_at || "", cell: (r: any) => formatDate(r.due_at) },
      ], { caption: t("privacy.requests") })),
      card(t("privacy.holds"), table(holds.items || [], [
        { key: "id", label: t("col.id"), value: (r: any) => r.hold_id },
        { key: "status", label: t("col.status"), value: (r: any) => r.status || (r.released_at ? "released" : "active") },
      ], { caption: t("privacy.holds") })),
      card(t("privacy.unmasks"), table(unmasks.items || [], [
        { key: "time", label: t("col.time"), value: (r: any) => r.recorded_at || r.at || "", cell: (r: any) => formatDate(r.recorded_at || r.at) },
        { key: "actor", label: t("col.actor"), value: (r: any) => r.actor || r.username || "" },
        { key: "text", label: t("col.text"), value: (r: any) => r.reason || "" },
      ], { caption: t("privacy.unmasks") })));
  } catch (e) {
    root.replaceChildren(h("h1", {}, t("privacy.title")), errorText(e));
  }
}
