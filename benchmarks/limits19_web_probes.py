"""Web probes of issue 19 against the app of whichever tree is on PYTHONPATH (TestClient, probe store)."""
import resource, sys, time
from starlette.testclient import TestClient
from nlpkit.store import Store
from nlpkit.ui.app import create_app

label = sys.argv[1]
app = create_app(Store(sys.argv[2]), warm=False)  # usage: limits19_web_probes.py LABEL STORE
c = TestClient(app, base_url="http://127.0.0.1:8501", raise_server_exceptions=False)
evil = TestClient(app, base_url="http://attacker.example:8501", raise_server_exceptions=False)
def row(name, r, t0):
    print(f"{label} | {name} | {r.status_code} | {len(r.content):,} B back | {time.perf_counter()-t0:.2f} s | {r.text.splitlines()[0][:90] if r.text else ''}")
t0 = time.perf_counter(); row("Host: attacker.example, /sql/download", evil.get("/sql/download", params={"format": "csv", "q": "SELECT * FROM runs"}), t0)
body = "q=" + "A" * (20 << 20)
r0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter(); r = c.post("/sql", content=body, headers={"content-type": "application/x-www-form-urlencoded", "origin": "http://attacker.example"}); row("20 MB cross-origin POST /sql", r, t0)
print(f"{label} | (server-side peak RSS grew by {(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - r0) // 1024} MB during the POST)")
t0 = time.perf_counter(); row("small cross-origin POST /sql", c.post("/sql", data={"q": "SELECT * FROM runs"}, headers={"origin": "http://attacker.example"}), t0)
t0 = time.perf_counter(); row("/trends?days=999999999", c.get("/trends", params={"days": "999999999"}), t0)
q = "SELECT CASE WHEN i < 50000 THEN i ELSE error('boom at ' || i) END AS i FROM range(100000) t(i)"
t0 = time.perf_counter()
try:
    row("download failing mid-stream", c.get("/sql/download", params={"format": "csv", "q": q}), t0)
except Exception as e:
    print(f"{label} | download failing mid-stream | exception in client: {type(e).__name__}: {str(e)[:80]}")
