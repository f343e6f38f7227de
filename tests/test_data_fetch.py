"Tests of verify and fetch: tampered copies, atomic verified downloads, resume with Range, retries, recipes, offline."
import hashlib, shutil
from pathlib import Path
import pytest
import requests
from werkzeug import Response
from kuril_research.build import fetch as F
from kuril_research.build import snapshots as S
from kuril_research.errors import FetchError

ROOT = Path(__file__).resolve().parents[1]
BODY = b"case_id,name\r\n1,a\r\n2,b\r\n3,c\r\n" * 2000  # ~40 kB, CRLF like the GSDB upstream

def sha(b): return hashlib.sha256(b).hexdigest()

def entry(path, data, url, how="download", recipe=None):
    return {"path": path, "bytes": len(data), "sha256": sha(data), "kind": "byte-copy", "build": "reads",
            "origin": {"upstream": [{"url": url}], "recipe": recipe}, "fetch": {"how": how}}

class Offline(requests.Session):
    def get(self, *a, **k): raise AssertionError("no network access expected")

def test_verify_reports_missing_and_changed(tmp_path):
    (tmp_path / "d").mkdir(); (tmp_path / "d/a.csv").write_bytes(b"a\n")
    m = {"files": [entry("d/a.csv", b"a\n", "u"), entry("d/b.csv", b"b\n", "u")]}
    assert F.verify(tmp_path, m) == ["d/b.csv: missing"]
    (tmp_path / "d/a.csv").write_bytes(b"A!\n")
    assert F.verify(tmp_path, m)[0] == f"d/a.csv: expected sha256 {sha(b'a' + bytes([10]))} (2 bytes), found {sha(b'A!' + bytes([10]))} (3 bytes)"

def test_verify_real_folder_and_a_tampered_copy(tmp_path, raw_dir):
    m = S.load_manifest(ROOT / "snapshots.json")
    assert F.verify(raw_dir, m) == []
    reads = [f for f in m["files"] if f["build"] == "reads"]
    for f in reads:  # a copy of the files the build reads, one of them changed by one byte
        (tmp_path / f["path"]).parent.mkdir(parents=True, exist_ok=True); shutil.copy(raw_dir / f["path"], tmp_path / f["path"])
    victim = tmp_path / "econ/wb_gdp_current_usd_datahub/gdp_current_usd_selected.csv"
    b = bytearray(victim.read_bytes()); b[-3] = ord("9") if b[-3] != ord("9") else ord("8"); victim.write_bytes(bytes(b))
    problems = F.verify(tmp_path, {"files": reads})
    assert len(problems) == 1 and problems[0].startswith("econ/wb_gdp_current_usd_datahub/gdp_current_usd_selected.csv: expected sha256 17ebb593")

def test_fetch_downloads_verifies_and_lands(tmp_path, httpserver):
    httpserver.expect_request("/f.csv").respond_with_data(BODY)
    m = {"files": [entry("x/f.csv", BODY, httpserver.url_for("/f.csv"))]}
    r = F.fetch(tmp_path, m, progress=False)
    assert r == {"present": 0, "fetched": ["x/f.csv"]} and (tmp_path / "x/f.csv").read_bytes() == BODY
    assert not list((tmp_path / "x").glob(".*.part"))
    assert F.fetch(tmp_path, m, progress=False, session=Offline()) == {"present": 1, "fetched": []}  # offline: present files only

def test_fetch_checksum_mismatch_is_an_error_and_nothing_lands(tmp_path, httpserver):
    httpserver.expect_request("/f.csv").respond_with_data(BODY + b"extra")
    m = {"files": [entry("x/f.csv", BODY, httpserver.url_for("/f.csv"))]}
    with pytest.raises(FetchError, match=r"^x/f.csv: the fetched file has sha256 .* the manifest expects .*not installed$"):
        F.fetch(tmp_path, m, progress=False)
    assert not (tmp_path / "x/f.csv").exists() and not list((tmp_path / "x").iterdir())

def test_fetch_never_replaces_a_changed_file(tmp_path):
    (tmp_path / "x").mkdir(); (tmp_path / "x/f.csv").write_bytes(b"local edit")
    with pytest.raises(FetchError, match="^x/f.csv: expected sha256 .*not replacing a changed file"):
        F.fetch(tmp_path, {"files": [entry("x/f.csv", BODY, "http://127.0.0.1:9/never")]}, progress=False, session=Offline())
    assert (tmp_path / "x/f.csv").read_bytes() == b"local edit"

def test_fetch_resumes_a_partial_download_with_range(tmp_path, httpserver):
    seen = []
    def handler(req):
        seen.append(req.headers.get("Range"))
        start = int(req.headers["Range"].split("=")[1].rstrip("-")) if req.headers.get("Range") else 0
        if start: return Response(BODY[start:], status=206, headers={"Content-Range": f"bytes {start}-{len(BODY) - 1}/{len(BODY)}"})
        return Response(BODY)
    httpserver.expect_request("/f.csv").respond_with_handler(handler)
    (tmp_path / "x").mkdir(); (tmp_path / "x/.f.csv.part").write_bytes(BODY[:10000])
    F.fetch(tmp_path, {"files": [entry("x/f.csv", BODY, httpserver.url_for("/f.csv"))]}, progress=False)
    assert seen == ["bytes=10000-"] and (tmp_path / "x/f.csv").read_bytes() == BODY

def test_fetch_restarts_when_the_server_ignores_range(tmp_path, httpserver):
    httpserver.expect_request("/f.csv").respond_with_data(BODY)  # 200 with the whole body
    (tmp_path / "x").mkdir(); (tmp_path / "x/.f.csv.part").write_bytes(b"garbage")
    F.fetch(tmp_path, {"files": [entry("x/f.csv", BODY, httpserver.url_for("/f.csv"))]}, progress=False)
    assert (tmp_path / "x/f.csv").read_bytes() == BODY

def test_fetch_retries_503_honouring_retry_after(tmp_path, httpserver):
    httpserver.expect_ordered_request("/f.csv").respond_with_data("busy", status=503, headers={"Retry-After": "7"})
    httpserver.expect_ordered_request("/f.csv").respond_with_data("slow down", status=429)
    httpserver.expect_ordered_request("/f.csv").respond_with_data(BODY)
    waits = []
    F.fetch(tmp_path, {"files": [entry("x/f.csv", BODY, httpserver.url_for("/f.csv"))]}, progress=False, sleep=waits.append)
    assert waits == [7.0, 2.0]

def test_fetch_gives_up_naming_the_file(tmp_path, httpserver):
    httpserver.expect_request("/f.csv").respond_with_data("down", status=500)
    with pytest.raises(FetchError, match=r"^x/f.csv: HTTP 500 INTERNAL SERVER ERROR \(gave up after 3 tries\)$"):
        F.fetch(tmp_path, {"files": [entry("x/f.csv", BODY, httpserver.url_for("/f.csv"))]}, progress=False, retries=2, sleep=lambda s: None)
    httpserver.clear(); httpserver.expect_request("/g.csv").respond_with_data("no", status=404)
    with pytest.raises(FetchError, match=r"^x/g.csv: HTTP 404 NOT FOUND$"):
        F.fetch(tmp_path, {"files": [entry("x/g.csv", BODY, httpserver.url_for("/g.csv"))]}, progress=False)

def test_fetch_network_down_names_the_file(tmp_path):
    with pytest.raises(FetchError, match=r"^x/f.csv: network unreachable .*gave up after 2 tries"):
        F.fetch(tmp_path, {"files": [entry("x/f.csv", BODY, "http://127.0.0.1:9/f.csv")]}, progress=False, retries=1, sleep=lambda s: None, timeout=2)

def test_unfetchable_missing_file_is_an_error_after_the_others(tmp_path, httpserver):
    httpserver.expect_request("/f.csv").respond_with_data(BODY)
    m = {"files": [entry("x/f.csv", BODY, httpserver.url_for("/f.csv")),
                   {**entry("x/pages.csv", b"p", ""), "fetch": {"how": "none", "why": "typed from web pages"}}]}
    with pytest.raises(FetchError, match=r"^x/pages.csv: missing and cannot be fetched: typed from web pages; fetched 1$"):
        F.fetch(tmp_path, m, progress=False)
    assert (tmp_path / "x/f.csv").read_bytes() == BODY

def test_recipe_rename_header(tmp_path, httpserver):
    up = b"Date,Price\n1987-06-30,18.53\n1988-06-30,14.91\n"  # the upstream form (datasets/oil-prices data/brent-year.csv)
    out = b"date,price_usd_per_barrel\n1987-06-30,18.53\n1988-06-30,14.91\n"
    httpserver.expect_request("/brent-year.csv").respond_with_data(up)
    rec = {"op": "rename_header", "from": "Date,Price", "to": "date,price_usd_per_barrel"}
    F.fetch(tmp_path, {"files": [entry("e/brent-year.csv", out, httpserver.url_for("/brent-year.csv"), "download+recipe", rec)]}, progress=False)
    assert (tmp_path / "e/brent-year.csv").read_bytes() == out
    with pytest.raises(FetchError, match="upstream header is 'Day,Price', the recipe expects 'Date,Price'"):
        F.apply_recipe(b"Day,Price\n", rec, "e/x.csv")

def test_recipe_select_lines_rebuilds_the_gsdb_extract_offline(tmp_path, raw_dir):
    "gsdb_v3_japan_russia_cases.csv is rebuilt from the verified byte-copy GSDB_V3.csv with the recipe parsed from ORIGINS.md."
    m = S.load_manifest(ROOT / "snapshots.json")
    keep = [f for f in m["files"] if f["path"] in ("polgeo/gsdb_full/GSDB_V3.csv", "polgeo/gsdb_sanctions/gsdb_v3_japan_russia_cases.csv")]
    (tmp_path / "polgeo/gsdb_full").mkdir(parents=True); shutil.copy(raw_dir / "polgeo/gsdb_full/GSDB_V3.csv", tmp_path / "polgeo/gsdb_full/")
    r = F.fetch(tmp_path, {"files": keep}, progress=False, session=Offline())
    assert r["fetched"] == ["polgeo/gsdb_sanctions/gsdb_v3_japan_russia_cases.csv"] and F.verify(tmp_path, {"files": keep}) == []

def test_retry_after_http_date():
    assert F.retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert F.retry_after("soon") is None and F.backoff(3) == 8.0 and F.backoff(0, 120) == 60.0
