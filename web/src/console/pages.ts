// The console's pages: the one registry the navigation, the router and the "no access" check
// read. A page is shown to a user holding any of its permissions. Modules to come (
// collections, QA, knowledge, reports) have a slot here: an entry with `mount` unset is listed as
// coming and routes to nothing until its issue adds the page.
import { allows } from "../lib/api";

export type Cleanup = (() => void) | void;
export interface PageContext {
  root: HTMLElement;
  params: string[];  // path segments after the page's own
  navigate: (path: string) => void;
}
export interface Page {
  id: string;            // first path segment
  label: string;         // message key
  icon: string;          // one character shown when the navigation is collapsed
  permissions: string[]; // any of
  mount?: (ctx: PageContext) => Promise<Cleanup> | Cleanup;
}

const lazy = (load: () => Promise<{ mount: (ctx: PageContext) => Promise<Cleanup> | Cleanup }>) =>
  async (ctx: PageContext) => (await load()).mount(ctx);

export const kPages: Page[] = [
  { id: "home", label: "nav.home", icon: "⌂", permissions: ["tenant.read"],
    mount: lazy(() => import("./home")) },
  { id: "desktop", label: "nav.desktop", icon: "☎", permissions: ["routing.work"],
    mount: lazy(() => import("../desktop")) },
  { id: "wallboard", label: "nav.wallboard", icon: "▦", permissions: ["routing.read"],
    mount: lazy(() => import("../wallboard")) },
  { id: "customers", label: "nav.customers", icon: "☺", permissions: ["customers.read"],
    mount: lazy(() => import("./customers")) },
  { id: "conversations", label: "nav.conversations", icon: "✉", permissions: ["conversations.read"],
    mount: lazy(() => import("./conversations")) },
  { id: "workforce", label: "nav.workforce", icon: "◷", permissions: ["wfm.read"],
    mount: lazy(() => import("../wfm")) },
  { id: "privacy", label: "nav.privacy", icon: "§", permissions: ["privacy.read"],
    mount: lazy(() => import("./privacy")) },
  { id: "audit", label: "nav.audit", icon: "≡", permissions: ["ledger.read"],
    mount: lazy(() => import("./audit")) },
  { id: "cases", label: "nav.cases", icon: "▤", permissions: ["cases.read"],
    mount: lazy(() => import("./cases")) },
  { id: "collections", label: "nav.collections", icon: "₹", permissions: ["collections.read"],
    mount: lazy(() => import("./collections")) },
  { id: "kpis", label: "nav.kpis", icon: "◔", permissions: ["kpis.read"],
    mount: lazy(() => import("./kpis")) },
  { id: "settings", label: "nav.settings", icon: "⚙",
    permissions: ["users.read", "api_keys.manage", "webhooks.read", "channels.manage", "routing.manage",
      "automation.manage"],
    mount: lazy(() => import("./settings")) },
  // Slots for the modules to come.
  { id: "qa", label: "nav.qa", icon: "✓", permissions: ["tenant.read"] },
  { id: "knowledge", label: "nav.knowledge", icon: "?", permissions: ["tenant.read"] },
  { id: "reports", label: "nav.reports", icon: "▥", permissions: ["tenant.read"] },
];

// Old addresses that still work.
export const kAliases: Record<string, string> = { wfm: "workforce", "": "home" };

export function pageAllowed(page: Page): boolean {
  return page.permissions.some(allows);
}
