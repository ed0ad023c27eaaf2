"""`generec instruct` and `generec evaluate instructor` as a user runs them."""

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from helpers import generec, snapshot

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tiny_bench, tmp_path_factory):
    root = tmp_path_factory.mktemp("instruct") / "ws"
    shutil.copytree(tiny_bench[0], root)
    run = generec("train", "--model", "ease", "-w", root)
    assert run.returncode == 0, run.stderr
    return root


def test_instruct_prints_guidance_and_a_changed_feed(trained):
    plain = json.loads(generec("recommend", "--user", "u00001", "-k", "5", "--json", "-w", trained).stdout)
    run = generec("instruct", "--user", "u00001", "no more food or animals please", "--apply", "-k", "5", "--json", "-w", trained)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert set(out["guidance"]["exclude"]) >= {"food", "animal"}
    ids = [e["item_id"] for e in out["feed"]["items"]]
    assert len(ids) == 5 and ids != [s["item_id"] for s in plain["items"]]
    # the turn was stored, redacted
    run = generec("instruct", "--user", "u00001", "mail me at jo@example.com, more space", "--session", "s2", "--json", "-w", trained)
    assert run.returncode == 0 and "jo@example.com" not in run.stdout
    import sqlite3

    texts = [r[0] for r in sqlite3.connect(trained / "generec.db").execute("SELECT text FROM instructions")]
    assert texts and not any("jo@example.com" in t for t in texts)


def test_instruct_batch(trained, tmp_path):
    batch = tmp_path / "in.jsonl"
    batch.write_text('{"text": "cartoons under 10 seconds", "user": "u00002"}\n{"text": "   ", "user": "u00002"}\n{"text": "more plants"}\n')
    run = generec("instruct", "--batch", batch, "--user", "u00003", "-w", trained)
    assert run.returncode == 1  # one line refused
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert lines[0]["guidance"]["style"] == "cartoon" and lines[0]["guidance"]["max_duration_s"] == 10
    assert "error" in lines[1] and lines[2]["user"] == "u00003"


def test_instruct_bad_input_stores_nothing(trained):
    before = snapshot(trained)
    for args in (["--user", "ghost", "more cats"], ["--user", "u00001", ""], ["--user", "u00001", "x" * 5000]):
        run = generec("instruct", *args, "-w", trained)
        assert run.returncode == 1 and "error" in run.stderr
    assert snapshot(trained) == before


def test_evaluate_instructor(trained):
    run = generec("evaluate", "instructor", "--users", "3", "--json", "-w", trained)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    p = out["parser"]
    assert p["n"] >= 150 and p["mode_accuracy"] >= 0.9 and p["include_f1"] >= 0.85 and p["exclude_f1"] >= 0.85 and p["duration_accuracy"] >= 0.95
    assert set(out["activation"]["overall"]) >= {"retrieval", "instructor"}


@pytest.fixture
def chat_server():
    """A real chat-completions endpoint on 127.0.0.1 that always proposes {"include": ["space"]}."""
    models: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            models.append(request["model"])
            content = json.dumps({"mode": "retrieve", "include": ["space"]})
            body = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", models
    httpd.shutdown()
    httpd.server_close()


def test_evaluate_instructor_with_the_llm_parser(chat_server, tmp_path):
    url, models = chat_server
    evalset = tmp_path / "set.jsonl"
    evalset.write_text('{"text": "space please", "expected": {"include": ["space"]}}\n{"text": "no cats", "expected": {"exclude": ["animal"]}}\n')
    run = generec("evaluate", "instructor", "--evalset", evalset, "--no-study", "--parser", "llm", "--llm-url", url, "--llm-model", "tiny", "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)["parser"]
    assert report["n"] == 2 and report["include_f1"] < 1.0 and report["exclude_f1"] == 0.0  # the endpoint's answers were scored
    assert models and set(models) == {"tiny"}
    # the same from a config file
    config = tmp_path / "generec.toml"
    config.write_text(f'[parser]\nbackend = "llm"\n[parser.llm]\nurl = "{url}"\nmodel = "from-file"\n')
    run = generec("evaluate", "instructor", "--evalset", evalset, "--no-study", "--config", config, "--json")
    assert run.returncode == 0, run.stderr
    assert models[-1] == "from-file"
    run = generec("evaluate", "instructor", "--evalset", evalset, "--no-study", "--llm-url", url)
    assert run.returncode == 1 and "--parser llm" in run.stderr


def test_instruct_with_the_llm_parser(trained, chat_server):
    url, models = chat_server
    run = generec("instruct", "--user", "u00001", "anything at all", "--parser", "llm", "--llm-url", url, "--llm-model", "tiny", "--json", "-w", trained)
    assert run.returncode == 0, run.stderr
    g = json.loads(run.stdout)["guidance"]
    assert g["source"] == "llm:tiny" and g["include"] == ["space"] and models == ["tiny"]



def test_instruct_output_shows_brackets_as_written(trained, tmp_path):
    root = tmp_path / "my[x]ws"
    shutil.copytree(trained, root)
    run = generec("instruct", "--user", "u00001", "show me [cats] [b]now", "--apply", "-k", "3", "-w", root)
    assert run.returncode == 0, run.stderr
    assert "show me [cats] [b]now" in run.stdout, run.stdout
