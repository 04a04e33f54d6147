// Goal: the KPI arithmetic on hand-computed fixtures (issue #13, "Tests"): what each routing
// event adds and to which bucket (the arrival's, across midnight), abandon handling and the
// named short-abandon variants, transfers and escalations, local intervals, hours and days
// across DST and half-hour zones, query validation at its limits, and CSV.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "core/time.hpp"
#include "core/zone.hpp"
#include "kpis/kpis.hpp"

namespace opsbox::kpis {
namespace {

constexpr int64_t kS = 1000000;

int64_t At(std::string_view rfc3339) {
  auto t = ParseRfc3339(rfc3339, "at");
  EXPECT_TRUE(t.ok()) << rfc3339;
  return t.ok() ? t->us : 0;
}

// Feeds events of several contacts through Apply and sums the deltas per (bucket, dims), as
// the projector does in kpi_intervals.
class Ledger {
 public:
  void Created(const std::string& task, int64_t at, std::string queue = "cards",
               std::string channel = "voice", Json attributes = Json::object()) {
    Feed(task, "task_created",
         Json{{"task_id", task},
              {"queue_id", queue},
              {"channel", channel},
              {"created_at_us", at},
              {"attributes", attributes}});
  }
  void Accepted(const std::string& task, int64_t at, int64_t wait_s, bool in_sl,
                std::string agent = "ann") {
    Feed(task, "reservation_accepted",
         Json{{"task_id", task},
              {"worker_id", agent},
              {"at_us", at},
              {"wait_us", wait_s * kS},
              {"in_service_level", in_sl}});
  }
  void Completed(const std::string& task, int64_t at) {
    Feed(task, "task_completed", Json{{"task_id", task}, {"at_us", at}});
  }
  void WrappedUp(const std::string& task, int64_t at) {
    Feed(task, "task_wrapped_up", Json{{"task_id", task}, {"at_us", at}});
  }
  void Cancelled(const std::string& task, int64_t at, std::string before) {
    Feed(task, "task_cancelled",
         Json{{"task_id", task}, {"at_us", at}, {"previous_status", before}});
  }
  void Feed(const std::string& task, std::string_view type, const Json& payload) {
    std::optional<Contact>& c = contacts_[task];
    if (type == "task_created") c.reset();
    Step s = Apply(type, payload, c);
    for (const Delta& d : s.deltas) {
      BucketRow& row = FindRow(d.bucket_us, d.dims);
      row.c += d.c;
    }
    if (s.then == Step::Then::kErase) c.reset();
  }
  Counters Total() const {
    Counters t;
    for (const auto& r : rows_) t += r.c;
    return t;
  }
  const std::vector<BucketRow>& rows() const { return rows_; }
  bool Open(const std::string& task) const {
    auto it = contacts_.find(task);
    return it != contacts_.end() && it->second.has_value();
  }

 private:
  BucketRow& FindRow(int64_t bucket, const Dims& dims) {
    for (auto& r : rows_) {
      if (r.bucket_us == bucket && r.dims == dims) return r;
    }
    rows_.push_back(BucketRow{bucket, dims, {}});
    return rows_.back();
  }
  std::map<std::string, std::optional<Contact>> contacts_;
  std::vector<BucketRow> rows_;
};

Query Q(std::string_view from, std::string_view to, std::string_view group_by,
        std::string_view kpi = "", std::string_view zone = "") {
  auto q = ParseQuery(from, to, group_by, kpi, zone);
  EXPECT_TRUE(q.ok()) << q.error().ToString();
  return q.ok() ? *q : Query{};
}

std::map<std::string, Counters> ByFirstKey(const std::vector<Group>& groups) {
  std::map<std::string, Counters> m;
  for (const auto& g : groups) m[g.keys.at(0)] += g.c;
  return m;
}

TEST(KpisApply, AnAnsweredContactCountsItsWaitTalkAndWrapOnTheAgentsRow) {
  Ledger l;
  const int64_t t0 = At("2026-12-07T10:02:00Z");
  l.Created("t1", t0);
  l.Accepted("t1", t0 + 12 * kS, 12, true);
  l.Completed("t1", t0 + 12 * kS + 300 * kS);
  l.WrappedUp("t1", t0 + 12 * kS + 300 * kS + 45 * kS);
  const Counters c = l.Total();
  EXPECT_EQ(c.offered, 1);
  EXPECT_EQ(c.answered, 1);
  EXPECT_EQ(c.answered_in_sl, 1);
  EXPECT_EQ(c.handled, 1);
  EXPECT_EQ(*Compute("asa", c), 12.0);
  EXPECT_EQ(*Compute("att", c), 300.0);
  EXPECT_EQ(*Compute("acw", c), 45.0);
  EXPECT_EQ(*Compute("aht", c), 345.0);
  EXPECT_EQ(*Compute("service_level", c), 1.0);
  EXPECT_FALSE(l.Open("t1")) << "a wrapped-up contact leaves kpi_tasks";
  // The offer is on the queue's row (no agent); the answer, talk and wrap on Ann's.
  ASSERT_EQ(l.rows().size(), 2u);
  EXPECT_EQ(l.rows()[0].dims.agent, "");
  EXPECT_EQ(l.rows()[0].c.offered, 1);
  EXPECT_EQ(l.rows()[1].dims.agent, "ann");
  EXPECT_EQ(l.rows()[1].c.talk_us, 300 * kS);
  EXPECT_EQ(l.rows()[0].bucket_us, At("2026-12-07T10:00:00Z"));
  EXPECT_EQ(l.rows()[1].bucket_us, At("2026-12-07T10:00:00Z"));
}

TEST(KpisApply, ShortAbandonsAreCountedAndExcludedOnlyInTheNamedVariants) {
  // Four contacts: answered in 10 s (within the threshold), answered in 50 s (outside),
  // abandoned after 3 s (short), abandoned after 40 s.
  Ledger l;
  const int64_t t0 = At("2026-12-07T09:00:00Z");
  l.Created("a", t0);
  l.Accepted("a", t0 + 10 * kS, 10, true);
  l.Created("b", t0 + 60 * kS);
  l.Accepted("b", t0 + 110 * kS, 50, false);
  l.Created("c", t0 + 120 * kS);
  l.Cancelled("c", t0 + 123 * kS, "waiting");
  l.Created("d", t0 + 180 * kS);
  l.Cancelled("d", t0 + 220 * kS, "reserved");
  const Counters c = l.Total();
  EXPECT_EQ(c.offered, 4);
  EXPECT_EQ(c.abandoned, 2);
  EXPECT_EQ(c.abandoned_short, 1);
  EXPECT_DOUBLE_EQ(*Compute("service_level", c), 1.0 / 4);
  EXPECT_DOUBLE_EQ(*Compute("service_level_excl_short_abandons", c), 1.0 / 3);
  EXPECT_DOUBLE_EQ(*Compute("abandonment_rate", c), 2.0 / 4);
  EXPECT_DOUBLE_EQ(*Compute("abandonment_rate_excl_short", c), 1.0 / 3);
  EXPECT_DOUBLE_EQ(*Compute("asa", c), 30.0);
  EXPECT_DOUBLE_EQ(*Compute("average_abandon_time", c), 21.5);
  EXPECT_FALSE(Compute("aht", c).has_value()) << "nothing handled yet: AHT is null, not 0";
}

TEST(KpisApply, AnAbandonAtExactlyFiveSecondsIsNotShort) {
  Ledger l;
  const int64_t t0 = At("2026-12-07T09:00:00Z");
  l.Created("a", t0);
  l.Cancelled("a", t0 + kShortAbandonUs - 1, "waiting");
  l.Created("b", t0);
  l.Cancelled("b", t0 + kShortAbandonUs, "waiting");
  EXPECT_EQ(l.Total().abandoned, 2);
  EXPECT_EQ(l.Total().abandoned_short, 1);
}

TEST(KpisApply, AContactArrivingBeforeMidnightCountsInItsArrivalIntervalWhenAnsweredAfter) {
  Ledger l;
  const int64_t arrival = At("2026-12-07T23:55:00Z");
  l.Created("t", arrival);
  l.Accepted("t", At("2026-12-08T00:05:00Z"), 600, false);
  l.Completed("t", At("2026-12-08T00:15:00Z"));
  for (const auto& r : l.rows()) EXPECT_EQ(r.bucket_us, At("2026-12-07T23:45:00Z"));
  const Query q = Q("2026-12-07T00:00:00Z", "2026-12-09T00:00:00Z", "day");
  const auto days = ByFirstKey(Fold(q, ZoneRules::Utc(), l.rows()));
  ASSERT_EQ(days.size(), 1u);
  EXPECT_EQ(days.begin()->first, "2026-12-07");
  EXPECT_EQ(days.begin()->second.answered, 1);
  EXPECT_EQ(days.begin()->second.talk_us, 600 * kS);
}

TEST(KpisApply, ATransferAfterAnAnswerIsHandledByTheFirstAgentAndANewOfferInTheTarget) {
  Ledger l;
  const int64_t t0 = At("2026-12-07T10:00:00Z");
  l.Created("t", t0);
  l.Accepted("t", t0 + 5 * kS, 5, true, "ann");
  l.Feed("t", "task_transferred",
         Json{{"task_id", "t"}, {"queue_id", "fraud"}, {"at_us", t0 + 20 * 60 * kS}});
  l.Accepted("t", t0 + 21 * 60 * kS, 21 * 60, false, "bob");
  l.Completed("t", t0 + 25 * 60 * kS);
  Counters cards, fraud;
  for (const auto& r : l.rows()) (r.dims.queue == "cards" ? cards : fraud) += r.c;
  EXPECT_EQ(cards.offered, 1);
  EXPECT_EQ(cards.answered, 1);
  EXPECT_EQ(cards.handled, 1);
  EXPECT_EQ(cards.transferred, 1);
  EXPECT_EQ(cards.talk_us, (20 * 60 - 5) * kS);
  EXPECT_EQ(fraud.offered, 1);
  EXPECT_EQ(fraud.answered, 1);
  EXPECT_EQ(fraud.handled, 1);
  EXPECT_EQ(fraud.talk_us, 4 * 60 * kS);
  EXPECT_DOUBLE_EQ(*Compute("transfer_rate", cards), 1.0);
  // The new offer arrives in the bucket of the transfer, not the first arrival.
  for (const auto& r : l.rows()) {
    if (r.dims.queue == "fraud") {
      EXPECT_EQ(r.bucket_us, At("2026-12-07T10:15:00Z"));
    }
  }
}

TEST(KpisApply, AnEscalationWhileWaitingMovesTheOfferSoTotalsCountOneContact) {
  Ledger l;
  const int64_t t0 = At("2026-12-07T10:00:00Z");
  l.Created("t", t0);
  l.Feed("t", "task_escalated", Json{{"task_id", "t"}, {"queue_id", "cards_l2"},
                                    {"from_queue_id", "cards"}, {"at_us", t0 + 90 * kS}});
  l.Cancelled("t", t0 + 100 * kS, "waiting");
  Counters cards, l2;
  for (const auto& r : l.rows()) (r.dims.queue == "cards" ? cards : l2) += r.c;
  EXPECT_EQ(cards.offered, 0);
  EXPECT_EQ(l2.offered, 1);
  EXPECT_EQ(l2.abandoned, 1);
  EXPECT_EQ(l.Total().offered, 1);
}

TEST(KpisApply, ASecondAcceptanceOfTheSameOfferIsCountedOnce) {
  Ledger l;
  const int64_t t0 = At("2026-12-07T10:00:00Z");
  l.Created("t", t0);
  l.Accepted("t", t0 + kS, 1, true);
  l.Accepted("t", t0 + 2 * kS, 2, true);
  EXPECT_EQ(l.Total().answered, 1);
}

TEST(KpisApply, EventsOfAContactTheAggregatesNeverSawAddNothing) {
  std::optional<Contact> none;
  Step s = Apply("reservation_accepted", Json{{"task_id", "old"}, {"at_us", 1}}, none);
  EXPECT_TRUE(s.deltas.empty());
  EXPECT_EQ(s.then, Step::Then::kKeep);
}

TEST(KpisApply, ACustomerWhoHangsUpWhileAssignedIsHandledNotAbandoned) {
  Ledger l;
  const int64_t t0 = At("2026-12-07T10:00:00Z");
  l.Created("t", t0);
  l.Accepted("t", t0 + 3 * kS, 3, true);
  l.Cancelled("t", t0 + 63 * kS, "assigned");
  EXPECT_EQ(l.Total().abandoned, 0);
  EXPECT_EQ(l.Total().handled, 1);
  EXPECT_EQ(l.Total().talk_us, 60 * kS);
}

TEST(KpisApply, IntentAndLanguageComeFromTheTaskAttributesCutAt64BytesOnACharacter) {
  Ledger l;
  std::string long_intent(63, 'a');
  long_intent += "é";  // two bytes: 63 + 2 = 65 > 64, cut before it
  l.Created("t", At("2026-12-07T10:00:00Z"), "cards", "chat",
            Json{{"intent", long_intent}, {"language", "hi"}});
  ASSERT_EQ(l.rows().size(), 1u);
  EXPECT_EQ(l.rows()[0].dims.intent, std::string(63, 'a'));
  EXPECT_EQ(l.rows()[0].dims.language, "hi");
  EXPECT_EQ(l.rows()[0].dims.channel, "chat");
}

TEST(KpisCatalogue, EveryKpiHasADefinitionAndComputesOnNonZeroCounters) {
  const Counters c{.offered = 10, .answered = 8, .answered_in_sl = 6, .abandoned = 2,
                   .abandoned_short = 1, .answer_wait_us = 80 * kS, .abandon_wait_us = 30 * kS,
                   .handled = 8, .talk_us = 800 * kS, .wrap_us = 80 * kS, .transferred = 1};
  for (const auto& k : Catalogue()) {
    EXPECT_FALSE(k.definition.empty()) << k.id;
    EXPECT_FALSE(k.formula.empty()) << k.id;
    EXPECT_FALSE(k.source_events.empty()) << k.id;
    EXPECT_FALSE(k.abandonment.empty()) << k.id;
    EXPECT_TRUE(Compute(k.id, c).has_value()) << k.id;
  }
  EXPECT_DOUBLE_EQ(*Compute("aht", c), 110.0);
  EXPECT_DOUBLE_EQ(*Compute("service_level", c), 0.6);
  EXPECT_FALSE(Compute("asa", Counters{}).has_value());
}

TEST(KpisFold, LocalIntervalsKeepBothRepeatedHoursWhenNewYorkClocksGoBack) {
  auto ny = ZoneRules::Load("America/New_York");
  ASSERT_TRUE(ny.ok()) << ny.error().ToString();
  // 2026-11-01: 02:00 EDT becomes 01:00 EST at 06:00Z. 05:30Z is 01:30 EDT, 06:30Z 01:30 EST.
  std::vector<BucketRow> rows = {
      BucketRow{At("2026-11-01T05:30:00Z"), {}, Counters{.offered = 1}},
      BucketRow{At("2026-11-01T06:30:00Z"), {}, Counters{.offered = 2}},
      BucketRow{At("2026-11-02T04:45:00Z"), {}, Counters{.offered = 4}},  // 23:45 EST
      BucketRow{At("2026-11-02T05:00:00Z"), {}, Counters{.offered = 8}},  // 00:00 EST, Nov 2
  };
  const Query qi = Q("2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z", "interval", "offered",
                     "America/New_York");
  const auto intervals = ByFirstKey(Fold(qi, *ny, rows));
  EXPECT_EQ(intervals.at("2026-11-01T01:30-04:00").offered, 1);
  EXPECT_EQ(intervals.at("2026-11-01T01:30-05:00").offered, 2);
  const Query qd = Q("2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z", "day", "offered",
                     "America/New_York");
  const auto days = ByFirstKey(Fold(qd, *ny, rows));
  ASSERT_EQ(days.size(), 2u);
  EXPECT_EQ(days.at("2026-11-01").offered, 7) << "the 25-hour day holds both 01:30s";
  EXPECT_EQ(days.at("2026-11-02").offered, 8);
}

TEST(KpisFold, DaysInKolkataStartAtHalfPastSixPmUtc) {
  auto kolkata = ZoneRules::Load("Asia/Kolkata");
  ASSERT_TRUE(kolkata.ok());
  std::vector<BucketRow> rows = {
      BucketRow{At("2026-12-07T18:15:00Z"), {}, Counters{.answered = 1}},  // 23:45 IST
      BucketRow{At("2026-12-07T18:30:00Z"), {}, Counters{.answered = 2}},  // 00:00 IST
  };
  const Query q = Q("2026-12-07T00:00:00Z", "2026-12-09T00:00:00Z", "day,queue", "answered",
                    "Asia/Kolkata");
  const auto days = ByFirstKey(Fold(q, *kolkata, rows));
  EXPECT_EQ(days.at("2026-12-07").answered, 1);
  EXPECT_EQ(days.at("2026-12-08").answered, 2);
  const Query qh = Q("2026-12-07T00:00:00Z", "2026-12-09T00:00:00Z", "hour", "answered",
                     "Asia/Kolkata");
  const auto hours = ByFirstKey(Fold(qh, *kolkata, rows));
  EXPECT_EQ(hours.at("2026-12-07T23:00+05:30").answered, 1);
  EXPECT_EQ(hours.at("2026-12-08T00:00+05:30").answered, 2);
}

TEST(KpisFold, DimensionsGroupInTheOrderAsked) {
  std::vector<BucketRow> rows = {
      BucketRow{0, Dims{"cards", "chat", "", "", ""}, Counters{.offered = 1}},
      BucketRow{0, Dims{"cards", "voice", "", "", ""}, Counters{.offered = 2}},
      BucketRow{0, Dims{"loans", "voice", "", "", ""}, Counters{.offered = 4}},
  };
  const Query q = Q("2026-12-07T00:00:00Z", "2026-12-08T00:00:00Z", "channel,queue", "offered");
  const auto groups = Fold(q, ZoneRules::Utc(), rows);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].keys, (std::vector<std::string>{"chat", "cards"}));
  EXPECT_EQ(groups[2].keys, (std::vector<std::string>{"voice", "loans"}));
  const Json j = ToJson(q, groups);
  EXPECT_EQ(j["rows"][1]["offered"], 2);
  EXPECT_EQ(j["totals"]["offered"], 7);
  EXPECT_EQ(j["rows"][0]["channel"], "chat");
}

TEST(KpisQuery, FromAndToMustBeOnAQuarterHourAndInOrder) {
  auto bad = ParseQuery("2026-12-07T10:05:00Z", "2026-12-07T11:00:00Z", "", "", "");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "from");
  EXPECT_EQ(bad.error().rule, "interval_boundary");
  bad = ParseQuery("2026-12-07T10:00:00Z", "2026-12-07T10:00:00Z", "", "", "");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().rule, "after_from");
  bad = ParseQuery("", "2026-12-07T10:00:00Z", "", "", "");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "from");
  EXPECT_EQ(bad.error().rule, "required");
  EXPECT_TRUE(ParseQuery("2026-12-07T10:15:00+05:30", "2026-12-07T11:00:00Z", "", "", "").ok())
      << "an offset of half an hour still lands on a quarter hour";
}

TEST(KpisQuery, TheRangeIsAtMost400Days) {
  EXPECT_TRUE(ParseQuery("2026-01-01T00:00:00Z", "2027-02-05T00:00:00Z", "", "", "").ok());
  auto over = ParseQuery("2026-01-01T00:00:00Z", "2027-02-05T00:15:00Z", "", "", "");
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().rule, "range_max");
}

TEST(KpisQuery, GroupByAndKpiNamesAreChecked) {
  auto r = ParseQuery("2026-12-07T10:00:00Z", "2026-12-07T11:00:00Z", "queue,team", "", "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "group_by");
  EXPECT_EQ(r.error().rule, "enum");
  r = ParseQuery("2026-12-07T10:00:00Z", "2026-12-07T11:00:00Z", "day,hour", "", "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().rule, "one_time_grouping");
  r = ParseQuery("2026-12-07T10:00:00Z", "2026-12-07T11:00:00Z", "queue,queue", "", "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().rule, "unique");
  r = ParseQuery("2026-12-07T10:00:00Z", "2026-12-07T11:00:00Z", "", "aht,nps", "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "kpi");
  EXPECT_EQ(r.error().rule, "catalogue");
  auto all = ParseQuery("2026-12-07T10:00:00Z", "2026-12-07T11:00:00Z", "", "", "");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->kpis.size(), Catalogue().size());
}

TEST(KpisCsv, FieldsAreQuotedWhenTheyHoldCommasAndNullsAreEmpty) {
  std::vector<Group> groups = {
      Group{{"cards, premium"}, Counters{.offered = 3}},
  };
  const Query q = Q("2026-12-07T00:00:00Z", "2026-12-08T00:00:00Z", "queue", "offered,aht");
  EXPECT_EQ(ToCsv(q, groups), "queue,offered,aht\r\n\"cards, premium\",3,\r\n");
}

}  // namespace
}  // namespace opsbox::kpis
