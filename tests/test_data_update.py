"Tests of `update`: every fetcher against constructed responses in its service's documented format, the failure cases, snapshots, revisions."
import json, re
from pathlib import Path
import pandas as pd
import pytest
import requests
import responses
import urllib3
from kuril_research.build import update as U
from kuril_research.errors import UpdateError

FIX = Path(__file__).resolve().parent / "fixtures"
IMF_URL = "https://api.imf.org/external/sdmx/2.1/data/IMF.STA,IMTS,1.0.0/RUS.XG_FOB_USD+MG_CIF_USD..A"
WB_URL = re.compile(r"https://api\.worldbank\.org/v2/en/country/JPN;RUS/indicator/NY\.GDP\.MKTP\.CD\?.*")
nosleep = lambda s: None

@pytest.fixture(autouse=True)
def keys(monkeypatch):
    monkeypatch.setenv("FRED_API_KEY", "fredsecret0123456789abcdef012345")
    monkeypatch.setenv("ESTAT_APP_ID", "estatsecretappid")
    monkeypatch.setenv("COMTRADE_API_KEY", "comtradesecretkey")
    monkeypatch.setenv("ESTAT_STATS_DATA_ID", "0003425295")

# %% IMF (sdmx1, SDMX-ML 2.1 generic data)
def test_imf_imts(tmp_path):
    with responses.RequestsMock() as r:
        r.add(responses.GET, IMF_URL, body=(FIX / "imf_imts_generic.xml").read_bytes(), content_type="application/vnd.sdmx.genericdata+xml;version=2.1")
        t, q = U.fetch_imf_imts()
    df = t["imf_imts_russia_reported_trade_by_partner.csv"]
    assert list(df.columns) == U.IMTS_COLS and len(df) == 3 and q["key"] == "RUS.XG_FOB_USD+MG_CIF_USD..A"
    assert df.iloc[0].to_dict() | {} == {"year": 2024, "reporter_iso3": "RUS", "reporter": "Russian Federation", "partner_code": "JPN", "partner": "",
                                         "flow": "exports_fob", "indicator_code": "XG_FOB_USD", "value_musd": 9000.5,
                                         "series_code": "RUS.XG_FOB_USD.JPN.A", "unit": "USD millions, current prices"}

@pytest.mark.parametrize("body,status,msg", [
    (lambda: (FIX / "imf_imts_generic.xml").read_bytes()[:900], 200, r"^imf_imts: malformed or truncated SDMX response \(XMLParseError\)$"),
    (lambda: b"busy", 503, r"^imf_imts: HTTP 503 \(gave up after 5 tries\)$"),
    (lambda: b"nope", 404, r"^imf_imts: HTTP 404$"),
])
def test_imf_imts_failures(body, status, msg):
    with responses.RequestsMock() as r:
        r.add(responses.GET, IMF_URL, body=body(), status=status, content_type="application/vnd.sdmx.genericdata+xml;version=2.1")
        with pytest.raises(UpdateError, match=msg): U.fetch_imf_imts(sleep=nosleep)

def test_imf_imts_timeout_then_success():
    waits = []
    with responses.RequestsMock() as r:
        r.add(responses.GET, IMF_URL, body=requests.Timeout())
        r.add(responses.GET, IMF_URL, body=(FIX / "imf_imts_generic.xml").read_bytes(), content_type="application/vnd.sdmx.genericdata+xml;version=2.1")
        t, _ = U.fetch_imf_imts(sleep=waits.append)
    assert waits == [1.0] and len(t["imf_imts_russia_reported_trade_by_partner.csv"]) == 3

# %% World Bank (wbgapi, API v2 JSON)
def wb_json(rows, total=None):
    head = {"page": 1, "pages": 1, "per_page": 1000, "total": len(rows) if total is None else total, "sourceid": "2", "lastupdated": "2026-10-15"}
    return [head, [{"indicator": {"id": "NY.GDP.MKTP.CD", "value": "GDP (current US$)"}, "country": {"id": c[:2], "value": n},
                    "countryiso3code": c, "date": y, "value": v, "unit": "", "obs_status": "", "decimal": 0} for c, n, y, v in rows]]

WB_ROWS = [("JPN", "Japan", "2024", 4.0e12), ("JPN", "Japan", "2023", 4.2e12), ("RUS", "Russian Federation", "2024", 2.1e12), ("RUS", "Russian Federation", "1987", None)]

def test_wb_gdp():
    with responses.RequestsMock() as r:
        r.add(responses.GET, WB_URL, json=wb_json(WB_ROWS))
        t, q = U.fetch_wb_gdp(["JPN", "RUS"])
    df = t["gdp_current_usd_selected.csv"]
    assert df.to_dict("records")[0] == {"country": "Japan", "iso3": "JPN", "year": 2024, "gdp_current_usd": 4.0e12} and len(df) == 3
    assert q["url"].startswith("https://api.worldbank.org/v2/en/country/JPN;RUS/indicator/")

def test_wb_gdp_failures():
    with responses.RequestsMock() as r:
        r.add(responses.GET, WB_URL, body='[{"page": 1, "pages": 1, "per_page": 1000, "total": 3}, [{"indicator"')
        with pytest.raises(UpdateError, match=r"^wb_gdp: malformed response \(JSON decoding error\)$"): U.fetch_wb_gdp(["JPN", "RUS"], sleep=nosleep)
    with responses.RequestsMock() as r:
        r.add(responses.GET, WB_URL, json=[{"message": [{"id": "120", "key": "Invalid value", "value": "The provided parameter value is not valid"}]}])
        with pytest.raises(UpdateError, match=r"^wb_gdp: malformed response \(Invalid value: The provided parameter value is not valid\)$"): U.fetch_wb_gdp(["JPN", "RUS"], sleep=nosleep)
    waits = []
    with responses.RequestsMock() as r:
        r.add(responses.GET, WB_URL, status=502); r.add(responses.GET, WB_URL, status=429); r.add(responses.GET, WB_URL, json=wb_json(WB_ROWS))
        U.fetch_wb_gdp(["JPN", "RUS"], sleep=waits.append)
    assert waits == [1.0, 2.0]
    with responses.RequestsMock() as r:
        r.add(responses.GET, WB_URL, json=[{"page": 1, "pages": 1, "per_page": 1000, "total": 1}, [{"country": {"value": "Japan"}, "date": "2024", "value": 1}]])
        with pytest.raises(UpdateError, match=r"^wb_gdp: changed schema: a data row lacks countryiso3code$"): U.fetch_wb_gdp(["JPN", "RUS"], sleep=nosleep)

# %% FRED (series/observations JSON)
def fred_json(obs):
    return {"realtime_start": "2026-12-04", "realtime_end": "2026-12-04", "observation_start": "1600-01-01", "observation_end": "9999-12-31",
            "units": "lin", "output_type": 1, "file_type": "json", "order_by": "observation_date", "sort_order": "asc", "count": len(obs),
            "offset": 0, "limit": 100000, "observations": [{"realtime_start": "2026-12-04", "realtime_end": "2026-12-04", "date": d, "value": v} for d, v in obs]}

def fred_mock(r, series, body=None, status=200):
    for s in series:
        r.add(responses.GET, U.FRED_URL, match=[responses.matchers.query_param_matcher({"series_id": s, "api_key": "fredsecret0123456789abcdef012345", "file_type": "json"})],
              json=body or fred_json([("2026-10-01", "152.1200"), ("2026-11-01", ".")]), status=status)

def test_fred_h10():
    with responses.RequestsMock() as r:
        fred_mock(r, ["EXJPUS", "AEXJPUS"])
        t, q = U.fetch_fred_h10(series={"EXJPUS": ("Japan", "JPY")})
    assert t["fx_monthly_selected.csv"].to_dict("records") == [{"date": "2026-10-01", "country": "Japan", "currency": "JPY", "rate": "152.1200", "quote": "national currency units per USD"}]
    assert q["params"]["api_key"] == "<FRED_API_KEY>" and "fredsecret" not in json.dumps(q)

def test_fred_failures(monkeypatch):
    with responses.RequestsMock() as r:
        r.add(responses.GET, U.FRED_URL, json={"error_code": 400, "error_message": "Bad Request.  The series does not exist."}, status=400)
        with pytest.raises(UpdateError, match=r"^fred_h10 EXJPUS: HTTP 400 Bad Request$") as e: U.fetch_fred_h10(series={"EXJPUS": ("Japan", "JPY")}, sleep=nosleep)
        assert "fredsecret" not in str(e.value)
    with responses.RequestsMock() as r:
        r.add(responses.GET, U.FRED_URL, json={"observations": [{"date": "2026-10-01", "value": "n/a"}]})
        with pytest.raises(UpdateError, match=r"^fred_h10 EXJPUS: malformed value 'n/a' on 2026-10-01$"): U.fetch_fred_h10(series={"EXJPUS": ("Japan", "JPY")})
    with responses.RequestsMock() as r:
        r.add(responses.GET, U.FRED_URL, body='{"observations": [{"date"')
        with pytest.raises(UpdateError, match=r"^fred_h10 EXJPUS: malformed response \(not JSON\)$"): U.fetch_fred_h10(series={"EXJPUS": ("Japan", "JPY")})
    waits = []
    with responses.RequestsMock() as r:
        r.add(responses.GET, U.FRED_URL, status=429, headers={"Retry-After": "20"}); fred_mock(r, ["EXJPUS", "AEXJPUS"])
        U.fetch_fred_h10(series={"EXJPUS": ("Japan", "JPY")}, sleep=waits.append)
    assert waits == [20.0]
    monkeypatch.delenv("FRED_API_KEY")
    with pytest.raises(UpdateError, match=r"^fred_h10: environment variable FRED_API_KEY is not set"): U.fetch_fred_h10()

# %% Bank of Russia (XML_dynamic.asp, windows-1251)
CBR_XML = ('<?xml version="1.0" encoding="windows-1251"?><ValCurs ID="R01235" DateRange1="01.07.1992" DateRange2="05.12.2026" name="Foreign Currency Market Dynamic">'
           '<Record Date="01.07.1992" Id="R01235"><Nominal>1</Nominal><Value>125,2600</Value><VunitRate>125,26</VunitRate></Record>'
           '<Record Date="30.11.2023" Id="R01235"><Nominal>1</Nominal><Value>88,8841</Value><VunitRate>88,8841</VunitRate></Record>'
           '<Record Date="05.12.2026" Id="R01235"><Nominal>1</Nominal><Value>79,1500</Value><VunitRate>79,15</VunitRate></Record></ValCurs>').encode("cp1251")

def test_cbr():
    with responses.RequestsMock() as r:
        r.add(responses.GET, U.CBR_DYNAMIC, body=CBR_XML, content_type="application/xml; charset=windows-1251")
        t, q = U.fetch_cbr_usd_rub(end="05/12/2026")
    df = t["cbr_usd_rub_official_daily.csv"]
    assert df.to_dict("records")[0] == {"date": "1992-07-01", "currency_code": "USD", "nominal_usd": 1, "rate_as_published": "125.26",
                                        "rate_unit_as_published": "old (pre-1998) roubles per 1 USD", "rub_per_usd_new_rub": "0.12526"}
    assert df.rate_as_published.tolist()[1:] == ["88.8841", "79.15"] and q["params"]["VAL_NM_RQ"] == "R01235"

@pytest.mark.parametrize("body,msg", [
    (CBR_XML[:200], r"^cbr_usd_rub: malformed or truncated XML"),
    (b'<?xml version="1.0"?><Error>bad dates</Error>', r"^cbr_usd_rub: changed schema: root element <Error>, expected <ValCurs>$"),
    (b'<ValCurs ID="R01235"></ValCurs>', r"^cbr_usd_rub: the answer holds no <Record>"),
    (b'<ValCurs><Record Date="01.07.1992"><Nominal>1</Nominal></Record></ValCurs>', r"^cbr_usd_rub: changed schema: a <Record> lacks Date, Nominal or Value$"),
])
def test_cbr_failures(body, msg):
    with responses.RequestsMock() as r:
        r.add(responses.GET, U.CBR_DYNAMIC, body=body)
        with pytest.raises(UpdateError, match=msg): U.fetch_cbr_usd_rub(end="05/12/2026")

def test_cbr_network_down():
    with responses.RequestsMock() as r:
        r.add(responses.GET, U.CBR_DYNAMIC, body=requests.ConnectionError("down"))
        with pytest.raises(UpdateError, match=r"^cbr_usd_rub: network unreachable \(connection failed\) \(gave up after 5 tries\)$"):
            U.fetch_cbr_usd_rub(end="05/12/2026", sleep=nosleep)

# %% e-Stat (getStatsData JSON)
def estat_json(values, next_key=None, status=0, msg="正常に終了しました。"):
    res = {"TOTAL_NUMBER": 3, "FROM_NUMBER": 1, "TO_NUMBER": len(values)}
    if next_key: res["NEXT_KEY"] = next_key
    return {"GET_STATS_DATA": {"RESULT": {"STATUS": status, "ERROR_MSG": msg, "DATE": "2026-12-04T10:00:00.000+09:00"},
            "PARAMETER": {"LANG": "J", "STATS_DATA_ID": "0003425295", "DATA_FORMAT": "J", "START_POSITION": 1, "METAGET_FLG": "Y"},
            "STATISTICAL_DATA": {"RESULT_INF": res, "TABLE_INF": {"@id": "0003425295", "STAT_NAME": {"@code": "00350300", "$": "普通貿易統計"}},
                "CLASS_INF": {"CLASS_OBJ": [
                    {"@id": "cat01", "@name": "輸出入", "CLASS": [{"@code": "1", "@name": "輸出"}, {"@code": "2", "@name": "輸入"}]},
                    {"@id": "cat02", "@name": "品目", "CLASS": [{"@code": "00", "@name": "総額"}, {"@code": "27", "@name": "鉱物性燃料"}]},
                    {"@id": "area", "@name": "国", "CLASS": {"@code": "224", "@name": "ロシア"}},
                    {"@id": "time", "@name": "時間軸", "CLASS": [{"@code": "2026000909", "@name": "2026年9月"}]}]},
                "DATA_INF": {"NOTE": [{"@char": "-", "$": "該当数値なし"}], "VALUE": values}}}}

def ev(flow, cmd, t, v): return {"@tab": "1", "@cat01": flow, "@cat02": cmd, "@area": "224", "@time": t, "@unit": "千円", "$": v}

def test_estat_pages_and_schema():
    with responses.RequestsMock() as r:
        r.add(responses.GET, U.ESTAT_URL, match=[responses.matchers.query_param_matcher({"startPosition": "1"}, strict_match=False)],
              json=estat_json([ev("2", "00", "2026000909", "70000000"), ev("2", "27", "2026000909", "45000000")], next_key=3))
        r.add(responses.GET, U.ESTAT_URL, match=[responses.matchers.query_param_matcher({"startPosition": "3"}, strict_match=False)],
              json=estat_json([ev("1", "00", "2026000909", "-"), ev("1", "00", "2026000000", "1")]))
        t, q = U.fetch_estat()
    df = t["estat_jp_trade_monthly_by_partner_commodity.csv"]
    assert list(df.columns) == U.ESTAT_COLS and len(df) == 3  # the annual code 2026000000 is skipped
    assert df.iloc[1].to_dict() == {"month": "2026-09", "flow_code": "2", "flow": "輸入", "commodity_code": "27", "commodity": "鉱物性燃料",
                                    "partner_code": "224", "partner": "ロシア", "value": "45000000", "unit": "千円", "stats_data_id": "0003425295"}
    assert pd.isna(df.iloc[2].value) and q["params"]["appId"] == "<ESTAT_APP_ID>" and "estatsecret" not in json.dumps(q)

@pytest.mark.parametrize("body,msg", [
    (estat_json([], status=100, msg="認証に失敗しました。アプリケーションIDを確認して下さい。"), r"^estat: API status 100: 認証に失敗しました"),
    (estat_json([], status=1, msg="正常に終了しましたが、該当データはありませんでした。"), r"^estat: no data for statsDataId 0003425295"),
    ({"GET_STATS_DATA": {"RESULT": {"STATUS": 0}, "STATISTICAL_DATA": {"RESULT_INF": {}}}}, r"^estat: changed schema: no DATA_INF.VALUE$"),
    (estat_json([{"@cat01": "1", "@cat02": "00", "@area": "224", "@time": "2026-09", "$": "1"}]), r"^estat: changed schema: time code '2026-09' is not YYYY00MMMM$"),
    (estat_json([{"@cat01": "1", "@area": "224", "@time": "2026000909", "$": "1"}]), r"^estat: changed schema: a VALUE lacks @cat02$"),
])
def test_estat_failures(body, msg):
    with responses.RequestsMock() as r:
        r.add(responses.GET, U.ESTAT_URL, json=body)
        with pytest.raises(UpdateError, match=msg) as e: U.fetch_estat()
    assert "estatsecret" not in str(e.value)

def test_estat_truncated_and_unconfigured(monkeypatch):
    with responses.RequestsMock() as r:
        r.add(responses.GET, U.ESTAT_URL, body='{"GET_STATS_DATA": {"RESULT": {"STA')
        with pytest.raises(UpdateError, match=r"^estat: malformed or truncated response"): U.fetch_estat()
    monkeypatch.delenv("ESTAT_STATS_DATA_ID")
    with pytest.raises(UpdateError, match=r"^estat: no table chosen: set ESTAT_STATS_DATA_ID"): U.fetch_estat()

# %% UN Comtrade (comtradeapicall, v1 JSON) against a local server
CT_ROW = {"typeCode": "C", "freqCode": "M", "refPeriodId": 20260901, "refYear": 2026, "refMonth": 9, "period": "202609", "reporterCode": 392,
          "reporterISO": "JPN", "reporterDesc": "Japan", "flowCode": "M", "flowDesc": "Import", "partnerCode": 643, "partnerISO": "RUS",
          "partnerDesc": "Russian Federation", "partner2Code": 0, "classificationCode": "H6", "isOriginalClassification": True, "cmdCode": "27",
          "cmdDesc": "Mineral fuels, mineral oils and products of their distillation", "aggrLevel": 2, "isLeaf": False, "customsCode": "C00",
          "mosCode": "0", "motCode": 0, "qtyUnitCode": -1, "qty": 0, "isQtyEstimated": False, "netWgt": 512345678.0, "isNetWgtEstimated": False,
          "grossWgt": 0, "cifvalue": 310000000.5, "fobvalue": None, "primaryValue": 310000000.5, "legacyEstimationFlag": 0, "isReported": True, "isAggregate": True}

def test_comtrade(comtrade_server, capsys):
    comtrade_server.expect_request("/data/v1/get/C/M/HS", query_string={"reportercode": "392", "flowCode": "M,X", "period": "202609", "cmdCode": "TOTAL,AG2",
        "partnerCode": "643", "format": "JSON", "includeDesc": "True", "subscription-key": "comtradesecretkey"}).respond_with_json(
        {"elapsedTime": "0.21 secs", "count": 1, "data": [CT_ROW], "error": ""})
    t, q = U.fetch_comtrade(["202609"])
    assert t["comtrade_jp_ru_hs2_monthly.csv"].to_dict("records") == [{"period": "2026-09", "reporter_iso3": "JPN", "partner_iso3": "RUS", "flow_code": "M",
        "cmd_code": "27", "cmd_desc": CT_ROW["cmdDesc"], "primary_value_usd": 310000000.5, "net_wgt_kg": 512345678.0, "is_reported": True}]
    assert q["params"]["subscription_key"] == "<COMTRADE_API_KEY>" and "comtradesecret" not in capsys.readouterr().out

def test_comtrade_rate_limit_then_success(comtrade_server, capsys):
    comtrade_server.expect_ordered_request("/data/v1/get/C/M/HS").respond_with_json({"statusCode": 429, "message": "Rate limit is exceeded. Try again in 3 seconds."}, status=429)
    comtrade_server.expect_ordered_request("/data/v1/get/C/M/HS").respond_with_json({"elapsedTime": "0.2 secs", "count": 1, "data": [CT_ROW], "error": ""})
    waits = []
    t, _ = U.fetch_comtrade(["202609"], sleep=waits.append)
    assert waits == [3.0] and len(t["comtrade_jp_ru_hs2_monthly.csv"]) == 1 and capsys.readouterr().out == ""

@pytest.mark.parametrize("status,body,msg", [
    (401, {"statusCode": 401, "message": "Access denied due to invalid subscription key."}, r"^comtrade: HTTP 401 for periods 202609–202609$"),
    (200, {"elapsedTime": "0.2 secs", "count": 0, "data": [], "error": ""}, r"^comtrade: no records for the requested periods$"),
    (200, {"count": 1, "data": [{"period": "202609", "cmdCode": "27"}]}, r"^comtrade: changed schema: the data lacks reporterISO"),
])
def test_comtrade_failures(comtrade_server, status, body, msg):
    comtrade_server.expect_request("/data/v1/get/C/M/HS").respond_with_json(body, status=status)
    with pytest.raises(UpdateError, match=msg) as e: U.fetch_comtrade(["202609"], sleep=nosleep)
    assert "comtradesecret" not in str(e.value)

def test_comtrade_truncated_json(comtrade_server):
    comtrade_server.expect_request("/data/v1/get/C/M/HS").respond_with_data('{"count": 1, "data": [{"per', content_type="application/json")
    with pytest.raises(UpdateError, match=r"^comtrade: malformed or truncated JSON response$"): U.fetch_comtrade(["202609"], sleep=nosleep)

def test_comtrade_network_down(monkeypatch):
    import comtradeapicall.PreviewGet as PG
    class Pool(urllib3.PoolManager):
        def request(self, method, url, **kw): return super().request(method, url.replace("https://comtradeapi.un.org", "http://127.0.0.1:9"), **kw)
    class Shim:
        PoolManager = Pool; ProxyManager = urllib3.ProxyManager; exceptions = urllib3.exceptions
    monkeypatch.setattr(PG, "urllib3", Shim)
    with pytest.raises(UpdateError, match=r"^comtrade: network error for periods 202609–202609$") as e: U.fetch_comtrade(["202609"], sleep=nosleep)
    assert "comtradesecret" not in str(e.value)

# %% revision report
def test_revisions_on_a_constructed_pair():
    old = pd.DataFrame({"iso3": ["JPN", "JPN", "RUS", "RUS", "TUR"], "year": [2022, 2023, 2022, 2023, 2023], "gdp": [4.2, 4.1, 2.2, 2.0, 1.1]})
    new = pd.DataFrame({"iso3": ["JPN", "JPN", "JPN", "RUS", "KOR"], "year": [2022, 2023, 2024, 2022, 2024], "gdp": [4.2, 4.15, 4.0, 2.2, 1.7]})
    rev = U.revisions(old, new, ["iso3", "year"], "gdp")
    assert rev == {"new_periods": ["2024"], "added_cells": 2, "revised": ["iso3=JPN, year=2023: 4.1 → 4.15"], "removed": ["iso3=RUS, year=2023"],
                   "disappeared_series": ["iso3=TUR"], "new_series": ["iso3=KOR"]}
    lines = U.report_lines("wb_gdp", "gdp.csv", rev)
    assert lines[0] == "wb_gdp gdp.csv: 1 new period(s), 2 new cell(s), 1 revised, 1 removed, 1 series disappeared, 1 new series"
    assert "  revised: iso3=JPN, year=2023: 4.1 → 4.15" in lines and "  disappeared series: iso3=TUR" in lines

# %% update: snapshots beside the old ones, never overwritten, manifest updated, previous untouched on failure
def raw_with_baseline(tmp_path):
    raw = tmp_path / "raw"; b = raw / "econ/wb_gdp_current_usd_datahub"; b.mkdir(parents=True)
    (b / "gdp_current_usd_selected.csv").write_text("country,iso3,year,gdp_current_usd\nJapan,JPN,2023,4.1e12\nRussian Federation,RUS,2024,2.1e12\nTurkiye,TUR,2023,1.1e12\n")
    return raw

def wb_update(raw, rows, **kw):
    with responses.RequestsMock() as r:
        r.add(responses.GET, WB_URL, json=wb_json(rows))
        return U.update(raw, ["wb_gdp"], options={"wb_gdp": {"economies": ["JPN", "RUS"], "sleep": nosleep}}, **kw)

def test_update_writes_a_dated_snapshot_and_the_manifest(tmp_path):
    raw = raw_with_baseline(tmp_path); man = {"manifest_version": 1, "files": []}
    assert wb_update(raw, WB_ROWS, dry_run=True, day="2026-12-04")[0]["status"] == "dry-run" and not (raw / "econ/wb_gdp_current_usd_api").exists()
    res = wb_update(raw, WB_ROWS, day="2026-12-04", manifest=man, manifest_path=tmp_path / "snapshots.json")[0]
    snap = raw / "econ/wb_gdp_current_usd_api/2026-12-04"
    assert res["status"] == "updated" and sorted(p.name for p in snap.iterdir()) == ["REVISIONS.md", "SNAPSHOT.json", "gdp_current_usd_selected.csv"]
    rep = (snap / "REVISIONS.md").read_text()
    assert rep.startswith("wb_gdp gdp_current_usd_selected.csv: 0 new period(s), 1 new cell(s), 1 revised, 0 removed, 1 series disappeared, 0 new series")
    assert "iso3=JPN, year=2023: 4.1e+12 → 4.2e+12" in rep and "disappeared series: iso3=TUR" in rep
    m = json.loads((tmp_path / "snapshots.json").read_text())
    assert [f["path"] for f in m["files"]] == [f"econ/wb_gdp_current_usd_api/2026-12-04/{n}" for n in ("REVISIONS.md", "SNAPSHOT.json", "gdp_current_usd_selected.csv")]
    assert m["files"][2]["origin"]["type"] == "api" and m["files"][2]["accessed"] == "2026-12-04"
    # the same vintage again: unchanged, nothing written
    assert wb_update(raw, WB_ROWS, day="2026-12-05")[0]["status"] == "unchanged" and not (raw / "econ/wb_gdp_current_usd_api/2026-12-05").exists()
    # a new vintage the same day: never overwritten
    before = (snap / "gdp_current_usd_selected.csv").read_bytes()
    with pytest.raises(UpdateError, match=r"^wb_gdp: snapshot econ/wb_gdp_current_usd_api/2026-12-04 already exists; not overwriting it$"):
        wb_update(raw, WB_ROWS + [("RUS", "Russian Federation", "2025", 2.3e12)], day="2026-12-04")
    assert (snap / "gdp_current_usd_selected.csv").read_bytes() == before
    # a new vintage the next day, beside the old one, compared with it
    res = wb_update(raw, WB_ROWS + [("RUS", "Russian Federation", "2025", 2.3e12)], day="2026-12-06")[0]
    assert res["report"][0].startswith("wb_gdp gdp_current_usd_selected.csv: 1 new period(s), 1 new cell(s), 0 revised")
    assert sorted(p.name for p in (raw / "econ/wb_gdp_current_usd_api").iterdir()) == ["2026-12-04", "2026-12-06"]

def test_update_failure_leaves_the_previous_snapshot_untouched(tmp_path):
    raw = raw_with_baseline(tmp_path)
    wb_update(raw, WB_ROWS, day="2026-12-04")
    tree = sorted((p.relative_to(raw).as_posix(), p.read_bytes() if p.is_file() else b"") for p in raw.rglob("*"))
    with responses.RequestsMock() as r:
        r.add(responses.GET, WB_URL, status=503)
        with pytest.raises(UpdateError, match=r"^wb_gdp: HTTP 503 \(gave up after 5 tries\)$"):
            U.update(raw, ["wb_gdp"], day="2026-12-05", options={"wb_gdp": {"economies": ["JPN", "RUS"], "sleep": nosleep}})
    assert sorted((p.relative_to(raw).as_posix(), p.read_bytes() if p.is_file() else b"") for p in raw.rglob("*")) == tree

def test_update_skips_sources_without_keys_unless_named(tmp_path, monkeypatch):
    monkeypatch.delenv("COMTRADE_API_KEY")
    with pytest.raises(UpdateError, match=r"^comtrade: environment variable COMTRADE_API_KEY is not set"):
        U.update(tmp_path, ["comtrade"])
    with pytest.raises(UpdateError, match=r"^unknown source 'imf'; sources: imf_imts, wb_gdp"):
        U.update(tmp_path, ["imf"])

def test_update_secrets_never_written(tmp_path):
    raw = tmp_path / "raw"; raw.mkdir()
    with responses.RequestsMock() as r:
        fred_mock(r, ["EXJPUS", "AEXJPUS"])
        U.update(raw, ["fred_h10"], day="2026-12-04", options={"fred_h10": {"series": {"EXJPUS": ("Japan", "JPY")}}})
    for p in raw.rglob("*"):
        if p.is_file(): assert b"fredsecret" not in p.read_bytes()
    assert "<FRED_API_KEY>" in (raw / "econ/fx_fed_h10_fred_api/2026-12-04/SNAPSHOT.json").read_text()

def test_read_latest_skips_when_absent(tmp_path, capsys):
    assert U.read_latest(tmp_path, "estat", "estat_jp_trade_monthly_by_partner_commodity.csv") is None
    assert "skipped estat/estat_jp_trade_monthly_by_partner_commodity.csv: no snapshot in econ/jp_estat_trade_api" in capsys.readouterr().out

def test_update_entries_are_what_the_manifest_regenerates(tmp_path):
    "The entries `update` appends to the manifest are those `make_manifest` finds for the snapshot, so regeneration agrees."
    from kuril_research.build import snapshots as S
    raw = raw_with_baseline(tmp_path); man = {"manifest_version": 1, "files": []}
    wb_update(raw, WB_ROWS, day="2026-12-04", manifest=man)
    snaps = S.api_snapshots(raw)
    assert [s.relative_to(raw).as_posix() for s in snaps] == ["econ/wb_gdp_current_usd_api/2026-12-04"]
    assert S.api_snapshot_entries(raw, snaps[0]) == man["files"]

def test_cli_update_writes_snapshot_manifest_and_report(tmp_path, capsys):
    "`kuril data update wb_gdp --report FILE` in a scratch project: snapshot, manifest entries, report file, printed report."
    from kuril_research.cli import main
    from kuril_research.build import snapshots as S
    proj = tmp_path / "proj"; (proj / "data").mkdir(parents=True)
    raw = raw_with_baseline(proj)
    (proj / "settings.ini").write_text("[paths]\ndata_dir = data\nraw_dir = raw\nreports_dir = reports\n")
    S.write_manifest({"manifest_version": 1, "about": "test", "files": []}, proj / "snapshots.json")
    with responses.RequestsMock() as r:
        r.add(responses.GET, re.compile(r"https://api\.worldbank\.org/v2/en/country/.*"), json=wb_json(WB_ROWS))
        code = main(["--settings", str(proj / "settings.ini"), "data", "update", "wb_gdp", "--dry-run"])
        out = capsys.readouterr().out
        assert code == 0 and out.startswith("wb_gdp: dry-run\n  wb_gdp gdp_current_usd_selected.csv: ") and not (raw / "econ/wb_gdp_current_usd_api").exists()
    with responses.RequestsMock() as r:
        r.add(responses.GET, re.compile(r"https://api\.worldbank\.org/v2/en/country/.*"), json=wb_json(WB_ROWS))
        code = main(["--settings", str(proj / "settings.ini"), "data", "update", "wb_gdp", "--report", str(tmp_path / "rev.md")])
    out = capsys.readouterr().out
    snap = next((raw / "econ/wb_gdp_current_usd_api").iterdir())
    assert code == 0 and out.startswith(f"wb_gdp: updated (econ/wb_gdp_current_usd_api/{snap.name})\n")
    assert "run `kuril data build`" in out
    assert (tmp_path / "rev.md").read_text().startswith("# Revision report\n\n```\nwb_gdp: updated")
    m = S.load_manifest(proj / "snapshots.json")
    assert [f["path"] for f in m["files"]] == [f"econ/wb_gdp_current_usd_api/{snap.name}/{n}" for n in ("REVISIONS.md", "SNAPSHOT.json", "gdp_current_usd_selected.csv")]
    assert code == 0 and main(["--settings", str(proj / "settings.ini"), "data", "verify"]) == 0
