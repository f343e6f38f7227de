"Tests of the snapshot manifest (build.snapshots): parsing ORIGINS.md, generation, determinism, agreement with the sources table."
import hashlib, json, shutil
from pathlib import Path
import pandas as pd
import pytest
from kuril_research.build import snapshots as S
from kuril_research.errors import ManifestError

ROOT = Path(__file__).resolve().parents[1]

def sha(b): return hashlib.sha256(b).hexdigest()

def make_raw(tmp_path):
    "A tiny raw folder: one byte-copy, one extract with a header recipe, one compiled-pages file."
    raw = tmp_path / "raw"; (raw / "econ/a").mkdir(parents=True); (raw / "polgeo/p").mkdir(parents=True)
    files = {"econ/a/copy.csv": b"x,y\n1,2\n", "econ/a/brent.csv": b"date,price_usd_per_barrel\n2020-01-01,1\n",
             "polgeo/p/pages.csv": b"what,source_url\nx,https://example.org/1\ny,https://example.org/1\nz,https://example.org/2\n"}
    for p, b in files.items(): (raw / p).write_bytes(b)
    (raw / "econ/a/PROVENANCE.md").write_text("# A\n\n- Licence: ODC-PDDL-1.0 (datapackage.json).\n- Accessed 2026-12-03.\n")
    c = "c" * 40
    rows = [f"| `econ/a/brent.csv` | extract | `o/r@{c}:data/brent.csv` | US EIA | all rows, values unchanged; header renamed from `Date,Price` to `date,price_usd_per_barrel` | `{sha(files['econ/a/brent.csv'])}` |",
            f"| `econ/a/copy.csv` | byte-copy | `o/r@{c}:copy.csv` | Pub |  | `{sha(files['econ/a/copy.csv'])}` |",
            f"| `polgeo/p/pages.csv` | compiled-pages | pages listed in the file's source columns (`source_url`) | various |  | `{sha(files['polgeo/p/pages.csv'])}` |"]
    (raw / "ORIGINS.md").write_text("intro\n\n| file | kind | upstream | original publisher | extraction | sha256 |\n|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
    return raw

def test_parse_origins_rejects_bad_header():
    with pytest.raises(ManifestError, match="ORIGINS.md line 1: table header"):
        S.parse_origins("| a | b |\n|---|---|\n")

def test_parse_origins_rejects_bad_sha():
    t = "| file | kind | upstream | original publisher | extraction | sha256 |\n|---|---|---|---|---|---|\n| `a.csv` | extract | x | p | e | `zz` |\n"
    with pytest.raises(ManifestError, match="a.csv: sha256 'zz' is not 64 hex digits"):
        S.parse_origins(t)

def test_manifest_entries(tmp_path):
    raw = make_raw(tmp_path)
    m = S.make_manifest(raw, ["econ/a/brent.csv"], planned=["econ/a/copy.csv"])
    f = {e["path"]: e for e in m["files"]}
    assert [e["build"] for e in m["files"]] == ["reads", "planned", "unread"]
    b = f["econ/a/brent.csv"]
    assert b["origin"]["upstream"][0]["url"] == f"https://raw.githubusercontent.com/o/r/{'c' * 40}/data/brent.csv"
    assert b["origin"]["recipe"] == {"op": "rename_header", "from": "Date,Price", "to": "date,price_usd_per_barrel"}
    assert b["fetch"] == {"how": "download+recipe"} and b["licence"].startswith("Licence: ODC-PDDL-1.0") and b["accessed"] == "2026-12-03"
    assert f["econ/a/copy.csv"]["fetch"] == {"how": "download"} and f["econ/a/copy.csv"]["origin"]["upstream_checksum_verified"]
    p = f["polgeo/p/pages.csv"]
    assert p["origin"]["pages"] == ["https://example.org/1", "https://example.org/2"] and p["fetch"]["how"] == "none"
    assert p["licence"] == "not stated in PROVENANCE.md"

def test_manifest_refuses_a_file_that_differs_from_origins(tmp_path):
    raw = make_raw(tmp_path)
    (raw / "econ/a/copy.csv").write_bytes(b"tampered\n")
    with pytest.raises(ManifestError, match="econ/a/copy.csv: sha256 .* differs from ORIGINS.md line"):
        S.make_manifest(raw, [])

def test_manifest_refuses_a_read_file_missing_from_origins(tmp_path):
    with pytest.raises(ManifestError, match="econ/zzz.csv: the build reads it but ORIGINS.md does not list it"):
        S.make_manifest(make_raw(tmp_path), ["econ/zzz.csv"])

def test_manifest_bytes_are_deterministic(tmp_path):
    raw = make_raw(tmp_path)
    a = S.manifest_bytes(S.make_manifest(raw, ["econ/a/brent.csv"]))
    m = S.make_manifest(raw, ["econ/a/brent.csv"]); m["files"].reverse()
    assert S.manifest_bytes(m) == a and a.endswith(b"}\n")
    p = S.write_manifest(m, tmp_path / "snapshots.json")
    assert p.read_bytes() == a and S.load_manifest(p)["files"][0]["path"] == "econ/a/brent.csv"

def test_load_manifest_errors(tmp_path):
    (tmp_path / "m.json").write_text("{ not json")
    with pytest.raises(ManifestError, match="m.json line 1: not valid JSON"): S.load_manifest(tmp_path / "m.json")
    with pytest.raises(ManifestError, match="not found"): S.load_manifest(tmp_path / "none.json")

def test_select_names(tmp_path):
    m = S.make_manifest(make_raw(tmp_path), [])
    assert [f["path"] for f in S.select(m, ["econ/a"])] == ["econ/a/brent.csv", "econ/a/copy.csv"]
    assert [f["path"] for f in S.select(m, ["*.csv"])][-1] == "polgeo/p/pages.csv"
    with pytest.raises(ManifestError, match="no raw file matches 'nope'"): S.select(m, ["nope"])

def sources_df(rows):
    return pd.DataFrame(rows, columns=["source_id", "location", "raw_folder"])

def test_check_sources_rule(tmp_path):
    m = S.make_manifest(make_raw(tmp_path), ["econ/a/brent.csv", "polgeo/p/pages.csv"], planned=["econ/a/copy.csv"])
    good = sources_df([("eia", f"o/r data/brent.csv at commit {'c' * 40}", "econ/a"), ("pages", "sources folder", "polgeo/p")])
    assert S.check_sources(m, good) == ([], [])
    # 1. a file the build reads without a record for its folder
    p, _ = S.check_sources(m, good[good.source_id != "pages"])
    assert p == ["polgeo/p/pages.csv: no source record has raw_folder polgeo/p"]
    # 2. a record whose raw folder holds no manifest file
    p, _ = S.check_sources(m, pd.concat([good, sources_df([("ghost", "x", "econ/gone")])]))
    assert p == ["source ghost: raw_folder econ/gone has no file in the manifest"]
    # 3. the pinned commit is not the one the record names
    p, _ = S.check_sources(m, sources_df([("eia", f"o/r at commit {'d' * 40}", "econ/a"), ("pages", "x", "polgeo/p")]))
    assert p == ["econ/a/brent.csv: upstream o/r@cccccccccccc is not named in the location of source record(s) eia"]

def test_check_sources_pending_for_planned_folders(tmp_path):
    raw = make_raw(tmp_path)
    m = S.make_manifest(raw, ["econ/a/brent.csv"], planned=["polgeo/p/*"])
    p, pending = S.check_sources(m, sources_df([("eia", f"o/r {'c' * 40}", "econ/a")]))
    assert p == [] and pending == ["polgeo/p/pages.csv: no source record has raw_folder polgeo/p yet"]

def test_committed_manifest_is_regenerated_byte_for_byte(raw_dir, settings):
    "snapshots.json is what `kuril data manifest` gives from the raw folder and the committed package's inputs."
    m = S.generate_manifest(raw_dir, settings.data_dir)
    assert S.manifest_bytes(m) == (ROOT / "snapshots.json").read_bytes(), "snapshots.json is stale: run `kuril data manifest` and commit it"

def test_committed_manifest_agrees_with_the_sources_table(settings):
    "The rule holds between the committed manifest and the committed data/sources.csv (no raw folder needed)."
    m = S.load_manifest(ROOT / "snapshots.json")
    problems, pending = S.check_sources(m, pd.read_csv(settings.data_dir / "sources.csv", dtype=str))
    assert problems == []
    assert {f["path"] for f in m["files"] if f["build"] == "reads"} <= {f["path"] for f in m["files"]}
    assert all(x.endswith(" yet") for x in pending)

# The commands, on the real raw folder and on copies of it
import subprocess
from conftest import kuril

def copy_raw(raw_dir, dest, entries):
    "A raw folder holding only `entries` of the manifest (copied from `raw_dir`)."
    for f in entries:
        (dest / f["path"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(raw_dir / f["path"], dest / f["path"])
    return dest

def test_cli_verify_real_folder(raw_dir):
    r = kuril("data", "verify", "--raw", str(raw_dir))
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert r.stdout.startswith(f"{len(S.load_manifest(ROOT / 'snapshots.json')['files'])} raw files present")

def test_cli_verify_tampered_copy_names_the_file(raw_dir, tmp_path):
    m = S.load_manifest(ROOT / "snapshots.json")
    raw = copy_raw(raw_dir, tmp_path / "raw", m["files"])
    victim = "econ/wb_gdp_current_usd_datahub/gdp_current_usd_selected.csv"
    b = bytearray((raw / victim).read_bytes()); b[-3] = ord("9") if b[-3] != ord("9") else ord("8"); (raw / victim).write_bytes(bytes(b))
    gone = "econ/eia_brent_wti_spot_datahub/brent-year.csv"
    (raw / gone).unlink()
    before = {p: p.read_bytes() for p in raw.rglob("*") if p.is_file()}
    r = kuril("data", "verify", "--raw", str(raw))
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 2, r.stderr
    assert lines[0] == f"kuril: error: {gone}: missing"
    assert lines[1].startswith(f"kuril: error: {victim}: expected sha256 ") and " found " in lines[1]
    assert {p: p.read_bytes() for p in raw.rglob("*") if p.is_file()} == before  # verify touches nothing

def test_cli_errors_are_one_line(tmp_path):
    r = kuril("data", "verify", "--raw", str(tmp_path / "none"))
    assert r.returncode == 2 and r.stderr.startswith("kuril: error: raw folder") and r.stderr.count("\n") == 1
    r = kuril("data", "fetch", "--raw", str(tmp_path), "no/such/file.csv")
    assert r.returncode == 2 and r.stderr.startswith("kuril: error: no raw file matches 'no/such/file.csv'") and r.stderr.count("\n") == 1
    r = kuril("data", "update", "imf", "--dry-run", "--raw", str(tmp_path))
    assert r.returncode == 2 and r.stderr.startswith("kuril: error: unknown source 'imf'") and r.stderr.count("\n") == 1

def snapshot(folder):
    "Every file under `folder` (relative path -> sha256)."
    return {str(p.relative_to(folder)): S.file_sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}

def test_rebuild_from_fetched_and_verified_snapshots_is_byte_identical(raw_dir, tmp_path, settings):
    """A raw folder made of the manifest's files only, with the one file the build reads that can be restored offline
    (the GSDB case rows, by the select_lines recipe from the verified byte-copy GSDB_V3.csv) removed and fetched back,
    verifies, and builds into a data/ byte-identical to the committed one. The other files come from the raw folder:
    see docs/guides/rebuilding-data.md for which can be downloaded and which cannot."""
    m = S.load_manifest(ROOT / "snapshots.json")
    reads = [f for f in m["files"] if f["build"] == "reads"]
    gsdb = "polgeo/gsdb_sanctions/gsdb_v3_japan_russia_cases.csv"
    keep = reads + [f for f in m["files"] if f["path"] == "polgeo/gsdb_full/GSDB_V3.csv"]
    raw = copy_raw(raw_dir, tmp_path / "raw", [f for f in keep if f["path"] != gsdb])
    r = kuril("data", "fetch", "--raw", str(raw), *[f["path"] for f in keep])
    assert r.returncode == 0, r.stderr
    assert f"fetched {gsdb}" in r.stdout
    r = kuril("data", "verify", "--raw", str(raw), *[f["path"] for f in keep])
    assert r.returncode == 0, r.stderr
    r = kuril("data", "build", "--raw", str(raw), "--data", str(tmp_path / "data"))
    assert r.returncode == 0, r.stderr
    assert snapshot(tmp_path / "data") == snapshot(settings.data_dir), "a build from the verified snapshots differs from data/"

def test_the_rebuilding_guide_counts_what_the_manifest_holds():
    "The guide's counts of the files the build reads, of those fetch can restore and of the kinds that cannot be fetched are the committed manifest's."
    import re
    m = S.load_manifest(ROOT / "snapshots.json")
    reads = [f for f in m["files"] if f["build"] == "reads"]
    fetchable = [f for f in reads if f["fetch"]["how"] != "none"]
    kinds = {k: sum(f["kind"] == k for f in reads if f["fetch"]["how"] == "none") for k in ("derived", "compiled-pages")}
    guide = re.sub(r"\s+", " ", (ROOT / "docs" / "guides" / "rebuilding-data.md").read_text(encoding="utf-8"))
    assert f"the build reads {len(reads)} raw files" in guide
    assert f"`fetch` can restore {len(fetchable)} of the {len(reads)} files the build reads" in guide
    assert f"The other {len(reads) - len(fetchable)} cannot be fetched" in guide
    assert f"**Derived files ({kinds['derived']}).**" in guide and f"**Compiled pages ({kinds['compiled-pages']}).**" in guide
    assert f"**{sum(f['origin']['type'] == 'pages' for f in reads)} are compiled from web pages.**" in guide
