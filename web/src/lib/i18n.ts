// The console's message catalogue (English and Hindi) and locale-aware formatting. Every text the
// console shows comes from here: t("key") in code, data-i18n="key" in page markup (translate()).
// Dates are shown in the user's locale and the tenant's time zone (the browser's zone until the
// tenant names one); numbers in the user's locale.
type Catalogue = Record<string, string>;

const en: Catalogue = {
  "app.name": "opsbox", "app.skip": "Skip to content",
  "signin.title": "Sign in", "signin.tenant": "Tenant", "signin.username": "Username",
  "signin.password": "Password", "signin.submit": "Log in", "signin.expired":
    "Your session has ended. Sign in again to continue.",
  "shell.logout": "Log out", "shell.menu": "Menu", "shell.collapse": "Collapse navigation",
  "shell.theme": "Dark theme", "shell.language": "Language", "shell.nav": "Main navigation",
  "shell.coming": "coming soon", "shell.signed_in_as": "Signed in as {name} @ {tenant}",
  "nav.home": "Home", "nav.desktop": "Desktop", "nav.wallboard": "Wallboard",
  "nav.customers": "Customers", "nav.conversations": "Conversations", "nav.workforce": "Workforce",
  "nav.privacy": "Privacy", "nav.audit": "Audit", "nav.settings": "Settings",
  "nav.cases": "Cases", "nav.collections": "Collections", "nav.qa": "Quality",
  "nav.knowledge": "Knowledge", "nav.reports": "Reports", "nav.kpis": "KPIs",
  "noaccess.title": "No access", "noaccess.body":
    "Your roles do not allow this page. Ask an administrator if you need it.",
  "notfound.title": "Page not found", "notfound.body": "There is no page at this address.",
  "common.loading": "Loading…", "common.empty": "Nothing here yet.", "common.refresh": "Refresh",
  "common.save": "Save", "common.cancel": "Cancel", "common.close": "Close",
  "common.create": "Create", "common.search": "Search", "common.previous": "Previous",
  "common.next": "Next", "common.page": "Page {page} of {pages}", "common.saved": "Saved",
  "common.open": "Open", "common.error": "Something went wrong: {message}",
  "common.sort": "Sort by {column}",
  "home.title": "Home", "home.my_activity": "My activity", "home.my_tasks": "My current and recent tasks",
  "home.my_queues": "My queues", "home.not_worker": "You are not a routing worker yet.",
  "home.at_risk": "Queues at risk", "home.no_risk": "No queue is at risk.",
  "home.agents": "Agents by activity", "home.volume": "Today's volume against forecast",
  "home.approvals": "Pending approvals and reviews", "home.erasures": "Open data-subject requests",
  "home.break_glass": "Break-glass grants awaiting review", "home.dead_letters": "Webhook dead letters",
  "home.ledger": "Ledger verification", "home.verify": "Verify the ledger now",
  "home.checkpoint": "Latest signed checkpoint", "home.no_checkpoint": "No checkpoint signed yet.",
  "home.verified": "Verified: {events} events, {checkpoints} checkpoints",
  "home.verify_failed": "Verification failed at event {seq}: {reason}",
  "home.welcome": "Welcome, {name}",
  "home.backups": "Scheduled backups", "home.backup_alert": "Backups need attention: {state}.",
  "home.backup_last": "Last success", "home.backup_next": "Next run", "home.backup_folder": "Folder",
  "backup.ok": "ok", "backup.failing": "failing", "backup.stale": "stale", "backup.pending": "pending",
  "backup.standby": "standby (another node takes them)", "backup.disabled": "disabled",
  "col.queue": "Queue", "col.waiting": "Waiting", "col.longest_wait": "Longest wait (s)",
  "col.service_level": "Service level", "col.state": "State", "col.offered": "Offered",
  "col.answered": "Answered", "col.forecast": "Forecast", "col.activity": "Activity",
  "col.count": "Agents", "col.task": "Task", "col.status": "Status", "col.channel": "Channel",
  "col.seq": "Seq", "col.time": "Time", "col.type": "Type", "col.actor": "Actor",
  "col.hash": "Hash", "col.name": "Name", "col.username": "Username", "col.roles": "Roles",
  "col.key_id": "Key id", "col.created": "Created", "col.url": "URL", "col.events": "Event types",
  "col.attempts": "Attempts", "col.subscription": "Subscription", "col.event": "Event",
  "col.id": "Id", "col.due": "Due", "col.kind": "Kind", "col.direction": "Direction",
  "col.text": "Text", "col.actions": "Actions", "col.capacity": "Capacity",
  "col.expression": "Target expression",
  "sla.ok": "on target", "sla.risk": "at risk", "sla.breach": "breached",
  "customers.title": "Customers", "customers.by": "Find by", "customers.value": "Value",
  "customers.none": "No customer matches.", "customers.timeline": "Timeline across channels",
  "customers.conversations": "Conversations",
  "billing.title": "Client invoice", "billing.month": "Month", "billing.csv": "Invoice as CSV",
  "billing.html": "Invoice to print (HTML)", "billing.item": "Item", "billing.quantity": "Quantity",
  "billing.unit": "Unit price", "billing.amount": "Amount", "billing.lines": "Charges",
  "billing.item.seats": "Seats", "billing.item.productive_hours": "Productive hours",
  "billing.item.contacts": "Contacts handled", "billing.kpi": "KPI", "billing.target": "Target",
  "billing.actual": "Actual", "billing.result": "Result", "billing.met": "met", "billing.missed": "missed",
  "billing.targets": "Service levels in the contract", "billing.subtotal": "Subtotal",
  "billing.penalty": "Penalty ({bp} bp)", "billing.bonus": "Bonus ({bp} bp)", "billing.total": "Total",
  "kpis.title": "KPIs", "kpis.filters": "What to show", "kpis.view": "View",
  "kpis.view.operations": "Daily operations (by queue)", "kpis.view.intents": "Intents",
  "kpis.view.agents": "Agents", "kpis.period": "Period", "kpis.today": "Today",
  "kpis.last7": "Last 7 days", "kpis.last30": "Last 30 days", "kpis.csv": "Download CSV",
  "kpis.totals": "Totals", "kpis.by_group": "By group", "kpis.trend": "Contacts over time",
  "kpis.chart": "Chart of contacts offered, answered and abandoned over time; the table below holds the same figures",
  "kpis.contacts": "contacts", "kpis.none": "No contacts in this period yet.",
  "kpis.unattributed": "(queue, not an agent)", "kpis.updated": "Updated {time}",
  "kpis.group.queue": "Queue", "kpis.group.intent": "Intent", "kpis.group.agent": "Agent",
  "kpis.group.hour": "Hour", "kpis.group.day": "Day",
  "collections.title": "Collections", "collections.worklist": "Worklist",
  "collections.account": "Account", "collections.customer": "Customer",
  "collections.product": "Product", "collections.bucket": "Bucket",
  "collections.dpd": "Days past due", "collections.overdue": "Overdue",
  "collections.outstanding": "Outstanding", "collections.zone": "Time zone",
  "collections.flags": "Flags", "collections.phones": "Phones",
  "collections.can_contact": "Can contact now?", "collections.reasons": "Why not",
  "collections.yes": "yes", "collections.no": "no", "collections.none": "No accounts imported yet.",
  "collections.allowed": "Contact allowed now.", "collections.blocked": "Contact blocked:",
  "collections.next_allowed": "Next allowed: {at}", "collections.attempts": "Attempts",
  "collections.outcome": "Outcome", "collections.note": "Note",
  "collections.record": "Record attempt",
  "delivery.queued": "queued", "delivery.sent": "sent", "delivery.delivered": "delivered",
  "delivery.read": "read", "delivery.failed": "failed", "delivery.retry": "Retry delivery",
  "delivery.failed_alert": "Replies not delivered: {count}. Last reason: {reason}",
  "home.failed_deliveries": "Failed deliveries", "home.no_failed": "No failed deliveries.",
  "col.reason": "Reason", "col.conversation": "Conversation",
  "conversations.title": "Conversations", "conversations.id": "Conversation id",
  "conversations.messages": "Messages",
  "privacy.title": "Privacy", "privacy.requests": "Data-subject requests",
  "privacy.holds": "Legal holds", "privacy.unmasks": "Unmask log",
  "audit.title": "Audit: the ledger", "audit.filter_type": "Event type",
  "audit.filter_actor": "Actor", "audit.filter_from": "From", "audit.filter_to": "To",
  "cases.title": "Cases", "cases.list": "Cases by SLA", "cases.open": "Open a case",
  "cases.opened": "Opened {id}", "cases.none": "No case matches.", "cases.any": "Any",
  "cases.subject": "Subject", "cases.category": "Category", "cases.priority": "Priority",
  "cases.description": "Description", "cases.customer_id": "Customer id", "cases.sla": "SLA",
  "cases.due_in": "due in {time}", "cases.overdue": "overdue by {time}", "cases.paused": "paused",
  "cases.back": "All cases", "cases.facts": "Case", "cases.target": "Target",
  "cases.target.first_response": "First response", "cases.target.resolution": "Resolution",
  "cases.met": "met", "cases.left": "Time left", "cases.transitions": "Move the case",
  "cases.reason": "Reason (optional)", "cases.move_to": "Move to {status}",
  "cases.moved": "Moved to {status}", "cases.add_note": "Add a note", "cases.visibility": "Visibility",
  "cases.internal": "Internal", "cases.customer_visible": "Customer-visible (a response)",
  "cases.timeline": "Timeline", "cases.what": "What",
  "audit.apply": "Apply filters", "audit.detail": "Event {seq}", "audit.check_proof":
    "Check the inclusion proof in this browser", "audit.proof_ok":
    "Verified in this browser: the event is leaf {leaf} of {size}, the root matches and the Ed25519 signature of key {key} is valid.",
  "audit.proof_bad": "The proof does NOT verify: {reason}",
  "audit.payload": "Payload",
  "settings.title": "Settings", "settings.users": "Users and roles", "settings.api_keys": "API keys",
  "settings.webhooks": "Webhooks", "settings.channels": "Channels", "settings.queues": "Routing queues",
  "settings.workers": "Workers", "settings.workflows": "Workflows",
  "settings.automation": "Automation boundary",
  "automation.policy_version": "Boundary policy, version {version}", "automation.default_boundary": "Default",
  "automation.intent": "Intent", "automation.channel": "Channel", "automation.boundary": "Boundary",
  "automation.required_slots": "Required slots (comma-separated)", "automation.rules": "Rules",
  "automation.exclusions": "Off limits on every channel", "automation.scheduled": "Scheduled",
  "automation.new_rule": "Declare a rule (a new policy version)", "automation.reason": "Reason for the change",
  "automation.acceptance": "Handoff acceptance per intent", "automation.handoffs": "Handoffs",
  "automation.reviewed": "Reviewed", "automation.acceptance_rate": "Acceptance",

  "settings.new_user": "Create a user", "settings.display_name": "Display name",
  "settings.role": "Role", "settings.grant": "Grant role", "settings.revoke": "Revoke",
  "settings.new_key": "Create an API key", "settings.key_name": "Name",
  "settings.key_shown_once": "Copy this key now: it is shown only once.",
  "settings.new_webhook": "Subscribe a URL", "settings.event_types": "Event types (comma-separated)",
  "settings.deliveries": "Dead letters", "settings.replay": "Replay",
  "settings.replayed": "Delivery replayed", "settings.secret_shown_once":
    "Signing secret (shown only once):",
  "settings.channel": "Channel", "settings.channel_config": "Configuration (JSON)",
  "settings.queue_id": "Queue id", "settings.sl_threshold": "Service level threshold (s)",
  "settings.sl_target": "Service level target (0..1)", "settings.worker_id": "Worker id (user id)",
  "settings.workflow_id": "Workflow id", "settings.filter_expression": "Filter expression",
  "settings.target_queue": "Target queue", "settings.expression_ok": "The expression is valid.",
  "settings.capacity_chat": "Chat capacity",
  "desktop.my_activity": "My activity", "activity.available": "Available",
  "activity.break": "Break", "activity.offline": "Offline", "desktop.set_activity": "Set activity",
  "desktop.offer": "Incoming offer", "desktop.accept": "Accept (Alt+A)",
  "desktop.reject": "Reject (Alt+R)", "desktop.conversation": "Conversation",
  "desktop.reply_label": "Reply to the customer", "desktop.send": "Send reply",
  "desktop.timeline": "Customer timeline", "desktop.complete": "Complete (start wrap-up)",
  "desktop.finish": "Finish wrap-up", "wallboard.chart": "Waiting, last minutes",
  "wfm.queue_day": "Queue and day", "wfm.targets": "Targets", "wfm.schedule": "Schedule",
  "wfm.forecast_actual": "Forecast versus actual",
  "wfm.required_scheduled": "Required versus scheduled agents", "wfm.per_interval": "Per interval",
  "wfm.roster": "Roster",
};

const hi: Catalogue = {
  "app.skip": "सामग्री पर जाएँ",
  "signin.title": "साइन इन करें", "signin.tenant": "टेनेंट", "signin.username": "उपयोगकर्ता नाम",
  "signin.password": "पासवर्ड", "signin.submit": "लॉग इन करें",
  "signin.expired": "आपका सत्र समाप्त हो गया है। जारी रखने के लिए फिर से साइन इन करें।",
  "shell.logout": "लॉग आउट", "shell.menu": "मेनू", "shell.collapse": "नेविगेशन छोटा करें",
  "shell.theme": "डार्क थीम", "shell.language": "भाषा", "shell.nav": "मुख्य नेविगेशन",
  "shell.coming": "जल्द आ रहा है", "shell.signed_in_as": "{name} @ {tenant} के रूप में साइन इन",
  "nav.home": "होम", "nav.desktop": "डेस्कटॉप", "nav.wallboard": "वॉलबोर्ड",
  "nav.customers": "ग्राहक", "nav.conversations": "बातचीत", "nav.workforce": "कार्यबल",
  "nav.privacy": "गोपनीयता", "nav.audit": "ऑडिट", "nav.settings": "सेटिंग्स",
  "nav.cases": "केस", "nav.collections": "वसूली", "nav.qa": "गुणवत्ता", "nav.knowledge": "ज्ञान",
  "nav.reports": "रिपोर्ट", "nav.kpis": "केपीआई",
  "noaccess.title": "पहुँच नहीं", "noaccess.body":
    "आपकी भूमिकाएँ इस पृष्ठ की अनुमति नहीं देतीं। ज़रूरत हो तो किसी व्यवस्थापक से पूछें।",
  "notfound.title": "पृष्ठ नहीं मिला", "notfound.body": "इस पते पर कोई पृष्ठ नहीं है।",
  "common.loading": "लोड हो रहा है…", "common.empty": "अभी यहाँ कुछ नहीं है।",
  "common.refresh": "ताज़ा करें", "common.save": "सहेजें", "common.cancel": "रद्द करें",
  "common.close": "बंद करें", "common.create": "बनाएँ", "common.search": "खोजें",
  "common.previous": "पिछला", "common.next": "अगला", "common.page": "पृष्ठ {page} / {pages}",
  "common.saved": "सहेजा गया", "common.open": "खोलें", "common.error": "कुछ गलत हुआ: {message}",
  "common.sort": "{column} से क्रमबद्ध करें",
  "home.title": "होम", "home.my_activity": "मेरी गतिविधि", "home.my_tasks": "मेरे वर्तमान और हाल के कार्य",
  "home.my_queues": "मेरी कतारें", "home.not_worker": "आप अभी रूटिंग वर्कर नहीं हैं।",
  "home.at_risk": "जोखिम में कतारें", "home.no_risk": "कोई कतार जोखिम में नहीं है।",
  "home.agents": "गतिविधि के अनुसार एजेंट", "home.volume": "आज की मात्रा बनाम पूर्वानुमान",
  "home.approvals": "लंबित स्वीकृतियाँ और समीक्षाएँ", "home.erasures": "खुले डेटा-विषय अनुरोध",
  "home.break_glass": "समीक्षा की प्रतीक्षा में ब्रेक-ग्लास अनुदान",
  "home.dead_letters": "वेबहुक डेड लेटर", "home.ledger": "लेजर सत्यापन",
  "home.verify": "अभी लेजर सत्यापित करें", "home.checkpoint": "नवीनतम हस्ताक्षरित चेकपॉइंट",
  "home.no_checkpoint": "अभी कोई चेकपॉइंट हस्ताक्षरित नहीं।",
  "home.verified": "सत्यापित: {events} घटनाएँ, {checkpoints} चेकपॉइंट",
  "home.verify_failed": "घटना {seq} पर सत्यापन विफल: {reason}",
  "home.welcome": "स्वागत है, {name}",
  "home.backups": "निर्धारित बैकअप", "home.backup_alert": "बैकअप पर ध्यान दें: {state}।",
  "home.backup_last": "अंतिम सफलता", "home.backup_next": "अगला रन", "home.backup_folder": "फ़ोल्डर",
  "backup.ok": "ठीक", "backup.failing": "विफल हो रहा है", "backup.stale": "पुराना", "backup.pending": "लंबित",
  "backup.standby": "स्टैंडबाय (दूसरा नोड लेता है)", "backup.disabled": "बंद",
  "col.queue": "कतार", "col.waiting": "प्रतीक्षारत", "col.longest_wait": "सबसे लंबी प्रतीक्षा (से.)",
  "col.service_level": "सेवा स्तर", "col.state": "स्थिति", "col.offered": "प्रस्तावित",
  "col.answered": "उत्तर दिए", "col.forecast": "पूर्वानुमान", "col.activity": "गतिविधि",
  "col.count": "एजेंट", "col.task": "कार्य", "col.status": "स्थिति", "col.channel": "चैनल",
  "col.seq": "क्रम", "col.time": "समय", "col.type": "प्रकार", "col.actor": "कर्ता",
  "col.hash": "हैश", "col.name": "नाम", "col.username": "उपयोगकर्ता नाम", "col.roles": "भूमिकाएँ",
  "col.key_id": "कुंजी आईडी", "col.created": "बनाया गया", "col.url": "यूआरएल",
  "col.events": "घटना प्रकार", "col.attempts": "प्रयास", "col.subscription": "सदस्यता",
  "col.event": "घटना", "col.id": "आईडी", "col.due": "देय", "col.kind": "प्रकार",
  "col.direction": "दिशा", "col.text": "पाठ", "col.actions": "क्रियाएँ", "col.capacity": "क्षमता",
  "col.expression": "लक्ष्य अभिव्यक्ति",
  "sla.ok": "लक्ष्य पर", "sla.risk": "जोखिम में", "sla.breach": "उल्लंघन",
  "customers.title": "ग्राहक", "customers.by": "इससे खोजें", "customers.value": "मान",
  "customers.none": "कोई ग्राहक नहीं मिला।", "customers.timeline": "सभी चैनलों की समयरेखा",
  "customers.conversations": "बातचीत",
  "delivery.queued": "कतार में", "delivery.sent": "भेजा गया", "delivery.delivered": "पहुँचा",
  "delivery.read": "पढ़ा गया", "delivery.failed": "विफल", "delivery.retry": "फिर से भेजें",
  "delivery.failed_alert": "न पहुँचे उत्तर: {count}। अंतिम कारण: {reason}",
  "home.failed_deliveries": "विफल डिलीवरी", "home.no_failed": "कोई विफल डिलीवरी नहीं।",
  "col.reason": "कारण", "col.conversation": "बातचीत",
  "conversations.title": "बातचीत", "conversations.id": "बातचीत आईडी", "conversations.messages": "संदेश",
  "privacy.title": "गोपनीयता", "privacy.requests": "डेटा-विषय अनुरोध", "privacy.holds": "कानूनी रोक",
  "privacy.unmasks": "अनमास्क लॉग",
  "audit.title": "ऑडिट: लेजर", "audit.filter_type": "घटना प्रकार", "audit.filter_actor": "कर्ता",
  "audit.filter_from": "से", "audit.filter_to": "तक", "audit.apply": "फ़िल्टर लागू करें",
  "audit.detail": "घटना {seq}", "audit.check_proof": "इस ब्राउज़र में समावेशन प्रमाण जाँचें",
  "audit.proof_ok": "इस ब्राउज़र में सत्यापित: घटना {size} में से पत्ता {leaf} है, रूट मेल खाता है और कुंजी {key} का Ed25519 हस्ताक्षर मान्य है।",
  "audit.proof_bad": "प्रमाण सत्यापित नहीं होता: {reason}", "audit.payload": "पेलोड",
  "cases.title": "केस", "cases.list": "SLA के अनुसार केस", "cases.open": "केस खोलें",
  "cases.opened": "{id} खोला गया", "cases.none": "कोई केस मेल नहीं खाता।", "cases.any": "कोई भी",
  "cases.subject": "विषय", "cases.category": "श्रेणी", "cases.priority": "प्राथमिकता",
  "cases.description": "विवरण", "cases.customer_id": "ग्राहक आईडी", "cases.sla": "SLA",
  "cases.due_in": "{time} में देय", "cases.overdue": "{time} से अतिदेय", "cases.paused": "रुका हुआ",
  "cases.back": "सभी केस", "cases.facts": "केस", "cases.target": "लक्ष्य",
  "cases.target.first_response": "पहला उत्तर", "cases.target.resolution": "समाधान",
  "cases.met": "पूरा", "cases.left": "शेष समय", "cases.transitions": "केस आगे बढ़ाएँ",
  "cases.reason": "कारण (वैकल्पिक)", "cases.move_to": "{status} में ले जाएँ",
  "cases.moved": "{status} में ले जाया गया", "cases.add_note": "नोट जोड़ें", "cases.visibility": "दृश्यता",
  "cases.internal": "आंतरिक", "cases.customer_visible": "ग्राहक को दृश्य (एक उत्तर)",
  "cases.timeline": "समयरेखा", "cases.what": "क्या",
  "settings.title": "सेटिंग्स", "settings.users": "उपयोगकर्ता और भूमिकाएँ", "settings.api_keys": "एपीआई कुंजियाँ",
  "settings.webhooks": "वेबहुक", "settings.channels": "चैनल", "settings.queues": "रूटिंग कतारें",
  "settings.workers": "वर्कर", "settings.workflows": "वर्कफ़्लो",
  "settings.automation": "ऑटोमेशन सीमा",
  "automation.policy_version": "सीमा नीति, संस्करण {version}", "automation.default_boundary": "डिफ़ॉल्ट",
  "automation.intent": "इरादा", "automation.channel": "चैनल", "automation.boundary": "सीमा",
  "automation.required_slots": "आवश्यक स्लॉट (अल्पविराम से अलग)", "automation.rules": "नियम",
  "automation.exclusions": "हर चैनल पर वर्जित", "automation.scheduled": "निर्धारित",
  "automation.new_rule": "नियम घोषित करें (नया नीति संस्करण)", "automation.reason": "बदलाव का कारण",
  "automation.acceptance": "इरादे के अनुसार हैंडऑफ़ स्वीकृति", "automation.handoffs": "हैंडऑफ़",
  "automation.reviewed": "समीक्षित", "automation.acceptance_rate": "स्वीकृति",

  "settings.new_user": "उपयोगकर्ता बनाएँ", "settings.display_name": "प्रदर्शित नाम",
  "settings.role": "भूमिका", "settings.grant": "भूमिका दें", "settings.revoke": "वापस लें",
  "settings.new_key": "एपीआई कुंजी बनाएँ", "settings.key_name": "नाम",
  "settings.key_shown_once": "यह कुंजी अभी कॉपी करें: यह केवल एक बार दिखाई जाती है।",
  "settings.new_webhook": "यूआरएल की सदस्यता लें", "settings.event_types": "घटना प्रकार (अल्पविराम से अलग)",
  "settings.deliveries": "डेड लेटर", "settings.replay": "फिर से भेजें",
  "settings.replayed": "डिलीवरी फिर से भेजी गई", "settings.secret_shown_once": "हस्ताक्षर रहस्य (केवल एक बार):",
  "settings.channel": "चैनल", "settings.channel_config": "कॉन्फ़िगरेशन (JSON)",
  "settings.queue_id": "कतार आईडी", "settings.sl_threshold": "सेवा स्तर सीमा (से.)",
  "settings.sl_target": "सेवा स्तर लक्ष्य (0..1)", "settings.worker_id": "वर्कर आईडी (उपयोगकर्ता आईडी)",
  "settings.workflow_id": "वर्कफ़्लो आईडी", "settings.filter_expression": "फ़िल्टर अभिव्यक्ति",
  "settings.target_queue": "लक्ष्य कतार", "settings.expression_ok": "अभिव्यक्ति मान्य है।",
  "settings.capacity_chat": "चैट क्षमता",
  "desktop.my_activity": "मेरी गतिविधि", "activity.available": "उपलब्ध", "activity.break": "विराम",
  "activity.offline": "ऑफ़लाइन", "desktop.set_activity": "गतिविधि सेट करें",
  "desktop.offer": "आने वाला प्रस्ताव", "desktop.accept": "स्वीकार करें (Alt+A)",
  "desktop.reject": "अस्वीकार करें (Alt+R)", "desktop.conversation": "बातचीत",
  "desktop.reply_label": "ग्राहक को उत्तर दें", "desktop.send": "उत्तर भेजें",
  "desktop.timeline": "ग्राहक समयरेखा", "desktop.complete": "पूरा करें (रैप-अप शुरू)",
  "desktop.finish": "रैप-अप समाप्त करें", "wallboard.chart": "प्रतीक्षा, पिछले कुछ मिनट",
  "wfm.queue_day": "कतार और दिन", "wfm.targets": "लक्ष्य", "wfm.schedule": "शेड्यूल",
  "wfm.forecast_actual": "पूर्वानुमान बनाम वास्तविक",
  "wfm.required_scheduled": "आवश्यक बनाम निर्धारित एजेंट", "wfm.per_interval": "प्रति अंतराल",
  "wfm.roster": "रोस्टर",
  "billing.title": "ग्राहक बीजक", "billing.month": "महीना", "billing.csv": "बीजक CSV में",
  "billing.html": "छापने के लिए बीजक (HTML)", "billing.item": "मद", "billing.quantity": "मात्रा",
  "billing.unit": "इकाई मूल्य", "billing.amount": "राशि", "billing.lines": "शुल्क",
  "billing.item.seats": "सीटें", "billing.item.productive_hours": "उत्पादक घंटे",
  "billing.item.contacts": "निपटाए गए संपर्क", "billing.kpi": "केपीआई", "billing.target": "लक्ष्य",
  "billing.actual": "वास्तविक", "billing.result": "परिणाम", "billing.met": "पूरा", "billing.missed": "चूका",
  "billing.targets": "अनुबंध के सेवा स्तर", "billing.subtotal": "उप-योग",
  "billing.penalty": "दंड ({bp} bp)", "billing.bonus": "बोनस ({bp} bp)", "billing.total": "कुल",
  "kpis.title": "केपीआई", "kpis.filters": "क्या दिखाएँ", "kpis.view": "दृश्य",
  "kpis.view.operations": "दैनिक संचालन (कतार अनुसार)", "kpis.view.intents": "आशय",
  "kpis.view.agents": "एजेंट", "kpis.period": "अवधि", "kpis.today": "आज",
  "kpis.last7": "पिछले 7 दिन", "kpis.last30": "पिछले 30 दिन", "kpis.csv": "CSV डाउनलोड करें",
  "kpis.totals": "कुल", "kpis.by_group": "समूह अनुसार", "kpis.trend": "समय के साथ संपर्क",
  "kpis.chart": "समय के साथ प्रस्तुत, उत्तरित और छोड़े गए संपर्कों का चार्ट; नीचे की तालिका में वही आँकड़े हैं",
  "kpis.contacts": "संपर्क", "kpis.none": "इस अवधि में अभी कोई संपर्क नहीं।",
  "kpis.unattributed": "(कतार, एजेंट नहीं)", "kpis.updated": "{time} पर अद्यतन",
  "kpis.group.queue": "कतार", "kpis.group.intent": "आशय", "kpis.group.agent": "एजेंट",
  "kpis.group.hour": "घंटा", "kpis.group.day": "दिन",
  "collections.title": "वसूली", "collections.worklist": "कार्य सूची",
  "collections.can_contact": "अभी संपर्क कर सकते हैं?", "collections.reasons": "क्यों नहीं",
  "collections.blocked": "संपर्क रोका गया:", "collections.allowed": "अभी संपर्क की अनुमति है।",
};

export const kLanguages: Record<string, { name: string; messages: Catalogue }> = {
  en: { name: "English", messages: en },
  hi: { name: "हिन्दी", messages: hi },
};

const kLanguageKey = "opsbox.language";
let language = localStorage.getItem(kLanguageKey) ||
  (navigator.language.toLowerCase().startsWith("hi") ? "hi" : "en");
let timeZone: string | undefined;

export function currentLanguage(): string {
  return language;
}

export function setLanguage(code: string): void {
  if (!kLanguages[code]) return;
  language = code;
  localStorage.setItem(kLanguageKey, code);
  document.documentElement.lang = code;
}

// The tenant's IANA zone (undefined: the browser's).
export function setTimeZone(zone: string | undefined): void {
  timeZone = zone;
}

export function t(key: string, vars: Record<string, string | number> = {}): string {
  const text = kLanguages[language]?.messages[key] ?? en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : "{" + name + "}"));
}

// Translates data-i18n (text) and data-i18n-label (aria-label) under `root`.
export function translate(root: ParentNode): void {
  root.querySelectorAll<HTMLElement>("[data-i18n]").forEach((e) => {
    e.textContent = t(e.dataset.i18n!);
  });
  root.querySelectorAll<HTMLElement>("[data-i18n-label]").forEach((e) => {
    e.setAttribute("aria-label", t(e.dataset.i18nLabel!));
  });
}

function locale(): string {
  return language === "hi" ? "hi-IN" : navigator.language || "en";
}

export function formatDate(value: string | number | undefined | null): string {
  if (value === undefined || value === null || value === "") return "–";
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "medium", timeZone })
    .format(d);
}

export function formatNumber(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(value);
}

export function formatPercent(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: 0 }).format(value);
}
