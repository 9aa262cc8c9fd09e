"""OWASP ZAP reports made here, in ZAP's traditional-json and traditional-xml layouts (the
reports add-on's templates): sites, alerts with every field, instances with every field."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

RISK_NAMES = {0: "Informational", 1: "Low", 2: "Medium", 3: "High"}
CONFIDENCE_NAMES = {0: "False Positive", 1: "Low", 2: "Medium", 3: "High", 4: "Confirmed"}


@dataclass
class Inst:
    uri: str
    method: str = "GET"
    param: str = ""
    attack: str = ""
    evidence: str = ""
    otherinfo: str = ""


@dataclass
class Alert:
    pluginid: str
    name: str
    riskcode: int
    instances: list[Inst]
    confidence: int = 2
    cweid: str = "79"
    wascid: str = "8"
    desc: str = "<p>説明</p>"
    solution: str = "<p>対策</p>"
    reference: str = "<p>https://owasp.org/</p>"
    otherinfo: str = ""
    alert_ref: str = ""


@dataclass
class Site:
    name: str
    alerts: list[Alert] = field(default_factory=list)

    @property
    def host(self) -> str:
        return self.name.split("://", 1)[1].split(":")[0].split("/")[0]

    @property
    def ssl(self) -> bool:
        return self.name.startswith("https")

    @property
    def port(self) -> str:
        rest = self.name.split("://", 1)[1]
        return rest.split(":", 1)[1].split("/")[0] if ":" in rest else ("443" if self.ssl else "80")


GENERATED = "Tue, 15 Oct 2024 10:00:00"
CREATED = "2024-10-15T10:00:00.000000Z"


def zap_json(sites: list[Site], *, version: str = "2.15.0", generated: str = GENERATED, created: str = CREATED) -> bytes:
    data = {
        "@programName": "ZAP", "@version": version, "@generated": generated, "created": created,
        "site": [{
            "@name": s.name, "@host": s.host, "@port": s.port, "@ssl": str(s.ssl).lower(),
            "alerts": [{
                "pluginid": a.pluginid, "alertRef": a.alert_ref or a.pluginid, "alert": a.name, "name": a.name,
                "riskcode": str(a.riskcode), "confidence": str(a.confidence),
                "riskdesc": f"{RISK_NAMES[a.riskcode]} ({CONFIDENCE_NAMES[a.confidence]})", "desc": a.desc,
                "instances": [{"id": str(i), "uri": inst.uri, "nodeName": inst.uri, "method": inst.method,
                               "param": inst.param, "attack": inst.attack, "evidence": inst.evidence,
                               "otherinfo": inst.otherinfo} for i, inst in enumerate(a.instances)],
                "count": str(len(a.instances)), "systemic": False, "solution": a.solution, "otherinfo": a.otherinfo,
                "reference": a.reference, "cweid": a.cweid, "wascid": a.wascid, "sourceid": "1",
            } for a in s.alerts],
        } for s in sites],
    }
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


def _el(tag: str, text: str) -> str:
    return f"<{tag}>{escape(text)}</{tag}>"


def zap_xml(sites: list[Site], *, version: str = "2.15.0", generated: str = GENERATED, created: str = CREATED) -> bytes:
    out = ['<?xml version="1.0"?>',
           f'<OWASPZAPReport programName="ZAP" version={quoteattr(version)} generated={quoteattr(generated)} '
           f'created={quoteattr(created)}>']
    for s in sites:
        out.append(f'<site name={quoteattr(s.name)} host={quoteattr(s.host)} port="{s.port}" '
                   f'ssl="{str(s.ssl).lower()}"><alerts>')
        for a in s.alerts:
            out.append("<alertitem>")
            out += [_el("pluginid", a.pluginid), _el("alertRef", a.alert_ref or a.pluginid), _el("alert", a.name),
                    _el("name", a.name), _el("riskcode", str(a.riskcode)), _el("confidence", str(a.confidence)),
                    _el("riskdesc", f"{RISK_NAMES[a.riskcode]} ({CONFIDENCE_NAMES[a.confidence]})"),
                    _el("confidencedesc", CONFIDENCE_NAMES[a.confidence]), _el("desc", a.desc), "<instances>"]
            for inst in a.instances:
                out.append("<instance>" + "".join([
                    _el("uri", inst.uri), _el("nodeName", inst.uri), _el("method", inst.method),
                    _el("param", inst.param), _el("attack", inst.attack), _el("evidence", inst.evidence),
                    _el("otherinfo", inst.otherinfo)]) + "</instance>")
            out += ["</instances>", _el("count", str(len(a.instances))), _el("systemic", "false"),
                    _el("solution", a.solution), _el("otherinfo", a.otherinfo), _el("reference", a.reference),
                    _el("cweid", a.cweid), _el("wascid", a.wascid), _el("sourceid", "1"), "</alertitem>"]
        out.append("</alerts></site>")
    out.append("</OWASPZAPReport>")
    return "\n".join(out).encode("utf-8")


def wapiti_json(target: str, vulns: dict[str, list[dict]], *, anomalies: dict | None = None,
                date: str = "Tue, 15 Oct 2024 10:00:00 +0000") -> bytes:
    classifications = {name: {"desc": f"{name} の説明", "sol": f"{name} の対策",
                              "ref": {"OWASP": "https://owasp.org/"}, "wstg": ["WSTG-INPV-01"]}
                       for name in list(vulns) + list(anomalies or {})}
    def item(v: dict) -> dict:
        return {"method": v.get("method", "GET"), "path": v["path"], "info": v.get("info", ""),
                "level": v.get("level", 1), "parameter": v.get("parameter", ""), "referer": "", "module": "xss",
                "http_request": f"GET {v['path']} HTTP/1.1", "curl_command": f"curl \"{target}{v['path']}\"",
                "wstg": ["WSTG-INPV-01"]}
    data = {
        "classifications": classifications,
        "vulnerabilities": {k: [item(v) for v in vs] for k, vs in vulns.items()},
        "anomalies": {k: [item(v) for v in vs] for k, vs in (anomalies or {}).items()},
        "additionals": {},
        "infos": {"version": "Wapiti 3.2.2", "target": target, "date": date, "scope": "folder",
                  "auth": None, "crawled_pages_nbr": 12, "detailed_report_level": 0},
    }
    return json.dumps(data, ensure_ascii=False).encode("utf-8")
