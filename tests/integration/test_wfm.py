"""Goal: workforce management over HTTP on the real binary, on SQLite and PostgreSQL: the staffing
API answers exactly what `opsbox wfm erlang-c|erlang-a --json` prints for the same input; a
forecast is computed, saved on the ledger and listed; targets and schedules are saved and read
back; intraday shows the actuals posted as telephony external events against the saved forecast;
the simulation work cap answers its rule; the wfm.plan and wfm.read permissions hold."""

import datetime
import json
import subprocess
import unittest

from harness import BIN, OpsboxTestCase

T = "/api/v1/tenants/acme/wfm"


def history_rows(first_day, days):
    """Hourly history with a daily shape: 10 calls an hour at night, 40 by day, AHT 240 s."""
    rows = []
    for d in range(days):
        day = first_day + datetime.timedelta(days=d)
        for h in range(24):
            count = 40 if 8 <= h < 18 else 10
            rows.append({"start": "%sT%02d:00:00" % (day.isoformat(), h), "count": count,
                         "aht_s": 240})
    return rows


def small_schedule_problem():
    """One day, hourly: two agents needed 08:00-16:00; one 8-hour template starting at 08:00."""
    required = [2 if 8 <= h < 16 else 0 for h in range(24)]
    return {"days": 1, "interval_min": 60,
            "requirements": [{"skill": "default", "agents_per_interval": required}],
            "templates": [{"id": "day", "earliest_start_min": 480, "latest_start_min": 480,
                           "length_min": 480, "cost_per_shift": 100}]}


class WfmTest(OpsboxTestCase):
    def setUp(self):
        super().setUp()
        self.ops.start()
        self.planner = self.ops.create_api_key("acme", "wfm_planner")

    def post(self, path, body, key=None, headers=None):
        return self.ops.request("POST", T + path, body, key=key or self.planner, headers=headers)

    def get(self, path, key=None):
        return self.ops.request("GET", T + path, key=key or self.planner)

    def cli_json(self, *args):
        r = subprocess.run([BIN, "wfm"] + list(args) + ["--json"], capture_output=True,
                           text=True, check=True)
        return json.loads(r.stdout)

    def test_staffing_answer_equals_the_cli_output_for_erlang_c_and_erlang_a(self):
        cases = [
            ({"service_level": 0.8, "target_answer_s": 20, "shrinkage": 0.3},
             ["erlang-c", "--service-level", "0.8", "--target-answer-s", "20",
              "--shrinkage", "0.3"]),
            ({"service_level": 0.8, "target_answer_s": 20, "patience_s": 120,
              "abandon_max": 0.05},
             ["erlang-a", "--service-level", "0.8", "--target-answer-s", "20",
              "--patience-s", "120", "--max-abandon", "0.05"]),
        ]
        for targets, flags in cases:
            r = self.post("/staffing", {"interval_s": 1800,
                                        "intervals": [{"volume": 100, "aht_s": 180}],
                                        "targets": targets})
            self.assertEqual(r.status, 200, r.body)
            api = r.json()["intervals"][0]
            cli = self.cli_json(flags[0], "--volume", "100", "--interval-s", "1800",
                                "--aht-s", "180", *flags[1:])
            self.assertEqual(api, cli)

    def test_staffing_rejects_an_impossible_target_naming_the_field(self):
        r = self.post("/staffing", {"intervals": [{"volume": 10, "aht_s": 180}],
                                    "targets": {"service_level": 1.0}})
        self.assertProblem(r, 400, field="targets.service_level")

    def test_forecast_is_saved_listed_and_read_back(self):
        first = datetime.date(2026, 3, 2)
        r = self.post("/forecasts", {"queue": "cards", "interval_min": 60, "zone": "UTC",
                                     "history": history_rows(first, 21), "horizon_days": 7},
                      headers={"Idempotency-Key": "fc-1"})
        self.assertEqual(r.status, 201, r.body)
        fc = r.json()
        self.assertTrue(fc["forecast_id"].startswith("fct_"))
        self.assertEqual(len(fc["volume"]), 7 * 24)
        self.assertEqual(fc["first_start_local"], "2026-03-23T00:00:00")
        self.assertAlmostEqual(fc["volume"][12], 40, delta=1)
        again = self.post("/forecasts", {"queue": "cards", "interval_min": 60, "zone": "UTC",
                                         "history": history_rows(first, 21), "horizon_days": 7},
                          headers={"Idempotency-Key": "fc-1"})
        self.assertEqual(again.status, 200, again.body)
        self.assertEqual(again.json()["forecast_id"], fc["forecast_id"])
        listed = self.get("/forecasts?queue=cards").json()["items"]
        self.assertEqual([f["forecast_id"] for f in listed], [fc["forecast_id"]])
        one = self.get("/forecasts/" + fc["forecast_id"])
        self.assertEqual(one.status, 200, one.body)
        self.assertEqual(one.json()["volume"], fc["volume"])
        self.assertEqual(self.get("/forecasts/fct_nothere").status, 404)

    def test_targets_and_schedule_are_saved_and_read_back(self):
        r = self.ops.request("PUT", T + "/targets/cards",
                             {"service_level": 0.9, "target_answer_s": 15, "shrinkage": 0.25},
                             key=self.planner)
        self.assertEqual(r.status, 200, r.body)
        got = self.get("/targets/cards").json()
        self.assertEqual(got["targets"]["service_level"], 0.9)
        self.assertEqual(got["targets"]["shrinkage"], 0.25)
        self.assertEqual(self.get("/targets/other").status, 404)
        s = self.post("/schedules", {"queue": "cards", "start_date": "2026-03-23",
                                     "problem": small_schedule_problem(), "time_limit_s": 5})
        self.assertEqual(s.status, 201, s.body)
        sched = s.json()
        self.assertEqual(sched["schedule"]["solver"]["status"], "optimal")
        self.assertEqual(sched["coverage"]["scheduled"][8:16], [2] * 8)
        back = self.get("/schedules/" + sched["schedule_id"]).json()
        self.assertEqual(back["coverage"], sched["coverage"])
        self.assertEqual(len(self.get("/schedules?queue=cards").json()["items"]), 1)

    def test_intraday_shows_posted_telephony_actuals_against_the_forecast(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        arrival = (now - datetime.timedelta(minutes=30)).replace(second=0, microsecond=0)
        today = arrival.date()
        r = self.post("/forecasts", {"queue": "cards", "interval_min": 60, "zone": "UTC",
                                     "history": history_rows(today - datetime.timedelta(days=21),
                                                             21),
                                     "horizon_days": 2})
        self.assertEqual(r.status, 201, r.body)
        forecast_id = r.json()["forecast_id"]

        def event(n, type_, seconds_after, payload):
            at = arrival + datetime.timedelta(seconds=seconds_after)
            return {"source": "telephony", "type": type_, "external_id": "call-%d-%s" % (n, type_),
                    "occurred_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "payload": payload}

        events = [event(1, "contact.offered", 0, {"queue": "cards"}),
                  event(1, "contact.answered", 5, {"queue": "cards", "wait_s": 5,
                                                   "handle_s": 200}),
                  event(2, "contact.offered", 0, {"queue": "cards"}),
                  event(2, "contact.abandoned", 40, {"queue": "cards", "wait_s": 40}),
                  event(3, "contact.offered", 0, {"queue": "loans"})]
        for e in events:
            resp = self.ops.request("POST", "/api/v1/tenants/acme/external-events", e,
                                    key=self.key)
            self.assertEqual(resp.status, 201, resp.body)
        r = self.get("/intraday?queue=cards&date=%s&zone=UTC" % today.isoformat())
        self.assertEqual(r.status, 200, r.body)
        day = r.json()
        self.assertEqual(day["forecast_id"], forecast_id)
        self.assertEqual(day["totals"]["offered"], 2)
        self.assertEqual(day["totals"]["answered"], 1)
        self.assertEqual(day["totals"]["abandoned"], 1)
        self.assertEqual(day["totals"]["service_level"], 0.5)
        row = day["intervals"][arrival.hour]
        self.assertEqual((row["offered"], row["answered"], row["abandoned"]), (2, 1, 1))
        self.assertEqual(row["aht_s"], 200)
        self.assertIsNotNone(row["forecast_volume"])
        later = [i for i in day["intervals"] if i["phase"] == "future"]
        if later:
            self.assertIsNotNone(later[0]["required_agents"], later[0])

    def test_forecast_serves_cv_scores_and_intervals_and_intraday_staffs_the_upper_bound(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        today = now.date()
        first = today - datetime.timedelta(days=42)
        rows = []
        for d in range(42):
            day = first + datetime.timedelta(days=d)
            for h in range(24):
                # Open 08:00-18:00 with a fixed pseudo-random wobble, closed at night.
                count = 40 + (d * 7 + h * 13) % 9 - 4 if 8 <= h < 18 else 0
                rows.append({"start": "%sT%02d:00:00" % (day.isoformat(), h), "count": count,
                             "aht_s": 240})
        r = self.post("/forecasts", {"queue": "wires", "interval_min": 60, "zone": "UTC",
                                     "history": rows, "horizon_days": 2, "cv_origins": 3})
        self.assertEqual(r.status, 201, r.body)
        fc = r.json()
        self.assertEqual(fc["holdout"]["cv_windows"], 3)
        scored = [c for c in fc["candidates"] if c["evaluated"]]
        self.assertGreater(len(scored), 3)
        for c in scored:
            self.assertEqual(len(c["cv_wapes"]), 3, c)
        pi = fc["prediction_intervals"]
        self.assertEqual(pi["source"], "cross-validation")
        self.assertEqual(len(pi["upper_95"]), len(fc["volume"]))
        self.assertEqual(pi["upper_95"][2], 0)  # 02:00 is closed in every week
        self.assertGreater(pi["upper_95"][12], fc["volume"][12])
        bad = self.ops.request("PUT", T + "/targets/wires",
                               {"service_level": 0.8, "plan_for": "upper_99"}, key=self.planner)
        self.assertProblem(bad, 400, rule="one_of")
        self.assertTrue(bad.json()["field"].endswith("plan_for"), bad.body)
        ok = self.ops.request("PUT", T + "/targets/wires",
                              {"service_level": 0.8, "plan_for": "upper_95"}, key=self.planner)
        self.assertEqual(ok.status, 200, ok.body)
        day = self.get("/intraday?queue=wires&date=%s&zone=UTC" % today.isoformat()).json()
        self.assertEqual(day["forecast_bound"], "upper_95")
        self.assertEqual(day["targets"]["plan_for"], "upper_95")
        noon = day["intervals"][12]
        if noon["phase"] != "complete":
            self.assertAlmostEqual(noon["staffing_volume"], pi["upper_95"][12], delta=0.01)
            self.assertGreater(noon["staffing_volume"], noon["forecast_volume"])

    def test_simulation_answers_and_refuses_work_past_the_cap(self):
        ok = self.post("/simulations", {"interval_s": 1800, "volumes": [100, 120],
                                        "agents": [12, 14], "aht_s": 180,
                                        "replications": 4, "seed": 7})
        self.assertEqual(ok.status, 200, ok.body)
        self.assertEqual(len(ok.json()["intervals"]), 2)
        self.assertIsNotNone(ok.json()["intervals"][0]["erlang"])
        over = self.post("/simulations", {"volumes": [1000000.5], "agents": [5000], "aht_s": 60,
                                          "replications": 2})
        self.assertProblem(over, 400, field="volumes", rule="calls_max")

    def test_agent_is_refused_planning_and_reading_while_a_supervisor_may_read(self):
        agent = self.ops.create_api_key("acme", "agent")
        supervisor = self.ops.create_api_key("acme", "supervisor")
        for method, path, body in [("POST", "/forecasts", {"queue": "cards"}),
                                   ("PUT", "/targets/cards", {"service_level": 0.8}),
                                   ("POST", "/schedules", {"queue": "cards"}),
                                   ("GET", "/forecasts", None),
                                   ("POST", "/staffing", {})]:
            r = self.ops.request(method, T + path, body, key=agent)
            self.assertProblem(r, 403)
        self.assertEqual(self.get("/forecasts", key=supervisor).status, 200)
        r = self.ops.request("PUT", T + "/targets/cards", {"service_level": 0.8}, key=supervisor)
        self.assertProblem(r, 403)


if __name__ == "__main__":
    unittest.main()
