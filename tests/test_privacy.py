"""Personal data: redaction of text and audio on calls with planted items, the same score with
redaction on and off, nothing leaking into exports; `callqa redact`."""

from __future__ import annotations

import json
import re
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import PASSWORD, broken_script, run_callqa, site
from fastapi.testclient import TestClient
from sqlalchemy import select

PII = Path(__file__).parent / "fixtures" / "pii"
CALLS = (("pii_order", "Daniel", "won"), ("pii_payment", "Emma", "lost"))
KEPT = {"pii_order": ("Daniel", "Logistics", "express", "49", "200"),
        "pii_payment": ("Emma", "Insurance", "300")}  # fmt: skip


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("It's five five five, two one four, eight nine three six.", [("PHONE", "five five five, two one four, eight nine three six")]),
        ("Call me on seven seven zero, nine double eight, one two three four", [("PHONE", "seven seven zero, nine double eight, one two three four")]),
        ("My number is +1 (555) 214-8936.", [("PHONE", "+1 (555) 214-8936")]),
        ("the card number is 4532 7184 9015 2638", [("CARD", "4532 7184 9015 2638")]),
        ("Account number 40817810099910004312.", [("ACCOUNT", "40817810099910004312")]),
        ("Sure, it's sarah dot connor at gmail dot com.", [("EMAIL", "sarah dot connor at gmail dot com")]),
        ("write to s.connor@gmail.com please", [("EMAIL", "s.connor@gmail.com")]),
        ("Yes, this is Sarah Connor.", [("NAME", "Sarah Connor")]),
        ("Send it to twelve Park Avenue, apartment four.", [("ADDRESS", "twelve Park Avenue, apartment four")]),
        ("Меня зовут Анна Смирнова.", [("NAME", "Анна Смирнова")]),
        ("Мой телефон восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь.",
         [("PHONE", "восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь")]),
        ("Пишите на anna точка smirnova собака yandex точка ru", [("EMAIL", "anna точка smirnova собака yandex точка ru")]),
        ("Адрес: улица Ленина, дом двенадцать, квартира пять.", [("ADDRESS", "улица Ленина, дом двенадцать, квартира пять")]),
        # Numbers that recognition broke up with noise, as tiny.en heard them (issue 15).
        ("770, the I -881234.", [("PHONE", "770, the I -881234")]),
        ("My mobile in 0 .10 and 9 .4, 6 .21, I made 3 .0, thanks.", [("PHONE", "0 .10 and 9 .4, 6 .21, I made 3 .0")]),
        # A spoken address as tiny.en heard "k dot walker at writemail dot com" (issue 15), surnames.
        ("It's K. Not Walker, I'd like to write mail .com.", [("EMAIL", "K. Not Walker, I'd like to write mail .com")]),
        ("My surname is Walker, and my first name is Kate.", [("NAME", "Walker"), ("NAME", "Kate")]),
        ("Фамилия Смирнова, зовут Анна.", [("NAME", "Смирнова"), ("NAME", "Анна")]),
        # What must stay: prices, amounts, dates, times, counts, products and companies, a website.
        ("See the plans on brightnest.com, or meet at ten. Me too.", []),
        ("In 2024 we had 12 vans and 40 drivers; I have 2 kids and 881234 reasons.", []),
        ("Our Express plan costs forty nine dollars a month, or $1,299.99 a year.", []),
        ("About two hundred parcels, 2000 in 2025. Could we meet on Thursday at ten thirty?", []),
        ("Тариф стоит две тысячи девятьсот рублей в месяц, скидка пятнадцать процентов.", []),
        ("I'm calling from Brightline Logistics about the Northwind Insurance policy.", []),
    ],
)  # fmt: skip
def test_personal_data_is_found_as_whisper_writes_it(text: str, found: list[tuple[str, str]]) -> None:
    from analysis.pii import find

    assert [(s.kind, s.text) for s in find(text)] == found


def test_a_broken_up_number_is_a_phone_when_the_call_was_about_one() -> None:
    from analysis.pii import find

    heard = "770. I hate hate. 1, 2, 3, 4."  # "seven seven zero, nine eight eight, one two three four"
    asked = "And a phone number in case the courier needs you?"
    assert [(s.kind, s.text) for s in find(heard, before=asked)] == [("PHONE", "770. I hate hate. 1, 2, 3, 4")]
    assert [(s.kind, s.text) for s in find(f"Call me on {heard}")] == [("PHONE", "770. I hate hate. 1, 2, 3, 4")]
    assert find(heard) == []  # without a word about a phone, seven digits in two short runs stay


def test_what_is_left_of_a_spoken_address_is_one_when_the_call_was_about_one() -> None:
    from analysis.pii import find

    heard = "Kay Walker, right post dot com."  # "k walker at brightpost dot com"
    assert [(s.kind, s.text) for s in find(heard, before="And your e-mail?")] == [("EMAIL", "Kay Walker, right post dot com")]
    assert find(heard) == []  # without a word about mail, a name of no known first name and a website stay


def test_the_managers_own_name_stays_and_the_clients_goes() -> None:
    from analysis.redact import redact
    from transcribe.transcript import Transcript

    said = [("manager", "Good morning, this is Emma from Northwind Insurance."),
            ("client", "Hi Emma, Linda Brown here. Thanks, Emma.")]  # fmt: skip
    transcript = Transcript.from_dict({
        "language": "en", "duration": 9.0, "engine": "x", "model": "x", "role_confidence": 1.0,
        "role_method": "channel",
        "utterances": [{"speaker": who, "channel": i, "start": i * 4.0, "end": i * 4.0 + 3.5, "text": text,
                        "words": []} for i, (who, text) in enumerate(said)],
    })  # fmt: skip
    redacted = redact(transcript).transcript.utterances
    assert redacted[0].text == said[0][1]
    assert redacted[1].text == "Hi Emma, [NAME] here. Thanks, Emma."


@pytest.fixture(scope="module")
def deployments(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> dict[str, Any]:
    """The planted calls processed for real twice: redaction off and on (SQLite each)."""
    made = {}
    for mode in ("off", "on"):
        data = tmp_path_factory.mktemp(f"redact-{mode}")
        app, tokens = site(f"sqlite:///{data / 'callqa.db'}", data, cache_dir,
                           {"CALLQA_REDACT": "1" if mode == "on" else "0"},
                           tuple((PII / f"{name}.wav", manager, outcome) for name, manager, outcome in CALLS))  # fmt: skip
        client = TestClient(app)
        auth = {"Authorization": f"Bearer {tokens['admin']}"}
        calls = {c["file"].removesuffix(".wav"): c["id"] for c in client.get("/api/calls", headers=auth).json()["items"]}
        made[mode] = {"app": app, "client": client, "auth": auth, "calls": calls, "data": data,
                      "detail": {name: client.get(f"/api/calls/{i}", headers=auth).json() for name, i in calls.items()}}  # fmt: skip
    return made


def planted(name: str) -> list[dict[str, Any]]:
    return json.loads((PII / f"{name}.pii.json").read_text())["planted"]  # type: ignore[no-any-return]


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        return pcm.reshape(-1, w.getnchannels()).T  # type: ignore[no-any-return]


def test_planted_personal_data_is_gone_from_text_and_audio(deployments: dict[str, Any]) -> None:
    on = deployments["on"]
    hits = total = false = found = 0
    for name, *_ in CALLS:
        detail = on["detail"][name]
        assert detail["redacted"] is True
        words = [w for u in detail["transcript"]["utterances"] for w in u["words"]]
        audio = read_wav(Path(on["app"].state.context.store.open_path(_audio_key(on, name))))
        for item in planted(name):
            inside = (item["start"] + 0.15, item["end"] - 0.15)
            heard = [w["word"] for w in words if inside[0] <= (w["start"] + w["end"]) / 2 <= inside[1]]
            stretch = audio[:, int(inside[0] * 16000) : int(inside[1] * 16000)]
            silent = float(np.mean(stretch == 0))
            text_ok = all(re.fullmatch(r"\[[A-Z]+\]", w) for w in heard)
            print(f"{name} {item['kind']:8} {item['text']!r}: heard {heard}, {silent:.0%} silent")
            hits += text_ok and silent >= 0.95
            total += 1
        for r in detail["transcript"]["redactions"]:
            found += 1
            false += not any(r["start"] < i["end"] and r["end"] > i["start"] for i in planted(name))
    recall, precision = hits / total, (found - false) / found
    print(f"planted items redacted in text and audio: recall {recall:.2f} ({hits}/{total}), "
          f"precision {precision:.2f} ({found - false}/{found})")  # fmt: skip
    assert recall >= 0.95
    assert precision >= 0.8


def _audio_key(deployment: dict[str, Any], name: str) -> str:
    from storage.models import Call

    with deployment["app"].state.context.sessions() as db:
        return db.get_one(Call, deployment["calls"][name]).audio_key


def test_products_prices_and_the_managers_name_stay(deployments: dict[str, Any]) -> None:
    for name, kept in KEPT.items():
        texts = {mode: " ".join(u["text"] for u in deployments[mode]["detail"][name]["transcript"]["utterances"])
                 for mode in ("off", "on")}  # fmt: skip
        for word in kept:
            assert texts["off"].lower().count(word.lower()) == texts["on"].lower().count(word.lower()), (name, word)


def test_a_call_scores_the_same_with_redaction_on_and_off(deployments: dict[str, Any]) -> None:
    for name, *_ in CALLS:
        off, on = (deployments[m]["detail"][name]["reports"][0] for m in ("off", "on"))
        assert on["score"] == off["score"]
        assert [c["passed"] for c in on["checkpoints"]] == [c["passed"] for c in off["checkpoints"]]
        assert [m["code"] for m in on["mistakes"]] == [m["code"] for m in off["mistakes"]]


def test_no_export_leaks_a_redacted_value(deployments: dict[str, Any]) -> None:
    from analysis.redact import leaks, redact
    from transcribe.transcript import Transcript

    off, on = deployments["off"], deployments["on"]
    findings = [f for name, manager, _ in CALLS
                for f in redact(Transcript.from_dict(off["detail"][name]["transcript"]), [manager]).findings]  # fmt: skip
    assert len(findings) >= 6
    client, auth = on["client"], on["auth"]
    script = client.get("/api/scripts", headers=auth).json()[0]["id"]
    exports = {
        "calls": client.get("/api/calls", headers=auth).json(),
        "details": [client.get(f"/api/calls/{i}", headers=auth).json() for i in on["calls"].values()],
        "leads": client.get("/api/leads/revivable", headers=auth).json(),
        "leads.csv": client.get("/api/leads/revivable", params={"format": "csv"}, headers=auth).text,
        "kpis.csv": client.get("/api/kpis", params={"format": "csv"}, headers=auth).text,
        "draft": client.get(f"/api/scripts/{script}/draft", headers=auth).json(),
        "draft.yaml": client.get(f"/api/scripts/{script}/draft", params={"format": "yaml"}, headers=auth).text,
        "draft.md": client.get(f"/api/scripts/{script}/draft", params={"format": "markdown"}, headers=auth).text,
    }
    client.post("/login", data={"name": "admin-user", "password": PASSWORD, "next": "/calls"})
    exports["pages"] = [client.get(f"/calls/{i}").text for i in on["calls"].values()]
    assert leaks(exports, findings) == []
    for word in ("8936", "Connor", "Avenue", "4532"):  # as Whisper wrote them, found in the search
        assert client.get("/api/calls", params={"q": word}, headers=auth).json()["total"] == 0, word
    assert client.get("/api/calls", params={"q": "express"}, headers=auth).json()["total"] == 1
    stored = sorted(p.name for p in (on["data"] / "audio").rglob("*.*"))
    assert stored and all(name.endswith(".redacted.wav") for name in stored)  # the originals are gone


def test_a_call_whose_analysis_fails_is_redacted_all_the_same(tmp_path: Path, cache_dir: Path) -> None:
    from callqa.settings import Settings
    from pipeline.context import Context
    from pipeline.metadata import CallInfo
    from pipeline.process import accept_recording
    from storage.models import Call, Job

    ctx = Context.from_settings(Settings.from_env(
        {"CALLQA_DATA_DIR": str(tmp_path), "CALLQA_CACHE_DIR": str(cache_dir), "CALLQA_REDACT": "1"}))  # fmt: skip
    script = broken_script(ctx.sessions)
    with pytest.raises(Exception, match="not valid YAML"):
        accept_recording(ctx, PII / "pii_order.wav", "pii_order.wav", CallInfo(manager="Daniel"), script)
    with ctx.sessions() as db:
        job = db.scalars(select(Job)).one()
        call = db.get_one(Call, job.call_id)
        assert job.state == "failed" and "not valid YAML" in (job.error or "")
        assert call.transcript is not None and call.transcript.redacted
        text = json.dumps(call.transcript.data).lower()
        assert "[phone]" in text and "connor" not in text and "gmail" not in text
        assert call.audio_key.endswith(".redacted.wav")
    assert [p.name for p in (tmp_path / "audio").rglob("*.wav")] == [Path(call.audio_key).name]


def test_the_redacted_copy_of_a_telephone_recording_stays_8k_mulaw(tmp_path: Path) -> None:
    from transcribe.audio import decode_audio, probe_audio
    from transcribe.silence import silence

    source, copy = Path(__file__).parent / "fixtures" / "calls" / "won_quick.8k.wav", tmp_path / "copy.wav"
    assert silence(source, copy, [(2.0, 3.0)]) == pytest.approx(1.0)
    info = probe_audio(copy)
    assert (info.codec, info.sample_rate, info.channels) == ("pcm_mulaw", 8000, 2)
    assert copy.stat().st_size <= source.stat().st_size * 1.01  # no bigger than what the PBX wrote
    before, after = decode_audio(source), decode_audio(copy)
    assert abs(before.shape[1] - after.shape[1]) <= 160  # 10 ms
    assert not after[:, 2 * 16000 + 80 : 3 * 16000 - 80].any()  # the span is silent on both sides
    rest = slice(4 * 16000, 12 * 16000)
    assert np.corrcoef(before[:, rest].ravel(), after[:, rest].ravel())[0, 1] > 0.99  # the rest as it was


def test_callqa_analyze_follows_the_redaction_setting(tmp_path: Path, cache_dir: Path) -> None:
    env = {"CALLQA_DATA_DIR": str(tmp_path), "CALLQA_CACHE_DIR": str(cache_dir), "CALLQA_REDACT": "1"}
    args = ("analyze", str(PII / "pii_order.wav"), "--script", "b2b_outbound", "--json")
    redacted, plain = run_callqa(env, *args), run_callqa(env, *args, "--no-redact")
    assert redacted.returncode == 0 and plain.returncode == 0, redacted.stderr + plain.stderr
    for value in ("Connor", "8936"):  # as tiny.en writes the client's name and number
        assert value in plain.stdout and value not in redacted.stdout
    assert "[PHONE]" in redacted.stdout and "[EMAIL]" in redacted.stdout and "Daniel" in redacted.stdout
    assert json.loads(redacted.stdout)["score"] == json.loads(plain.stdout)["score"]


def test_callqa_redact_prints_a_transcript_with_placeholders(tmp_path: Path) -> None:
    said = {"language": "ru", "duration": 9.0, "engine": "x", "model": "x", "role_confidence": 1.0, "role_method": "channel",
            "utterances": [{"speaker": "manager", "channel": 0, "start": 0.0, "end": 3.0, "words": [],
                            "text": "Добрый день, меня зовут Иван, компания Альфа Логистик."},
                           {"speaker": "client", "channel": 1, "start": 3.5, "end": 8.0, "words": [],
                            "text": "Запишите: Анна Смирнова, восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь."}]}  # fmt: skip
    path = tmp_path / "call.json"
    path.write_text(json.dumps(said, ensure_ascii=False))
    out = run_callqa({"CALLQA_DATA_DIR": str(tmp_path)}, "redact", str(path), "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    texts = [u["text"] for u in result["transcript"]["utterances"]]
    assert texts == ["Добрый день, меня зовут Иван, компания Альфа Логистик.", "Запишите: [NAME], [PHONE]."]
    assert [r["kind"] for r in result["redactions"]] == ["NAME", "PHONE"]
    missing = run_callqa({"CALLQA_DATA_DIR": str(tmp_path)}, "redact", str(tmp_path / "nope.wav"))
    assert missing.returncode == 2 and "nope.wav" in missing.stderr and "Traceback" not in missing.stderr
