"""Replay results: step by step for people (with a diff of what differs), JSON Lines for
machines, JUnit XML for CI systems."""

from __future__ import annotations

import json
from typing import IO, Any

from ..replay import ReplayReport, StepResult

__all__ = ["write_human", "write_json", "write_junit"]


def write_human(report: ReplayReport, out: IO[str]) -> None:
    out.write(f"── {report.recording}\n")
    if report.error:
        out.write(f"   ✗ could not replay: {report.error}\n")
        if report.hint:
            out.write(f"     hint: {report.hint}\n")
        return
    for result in report.results:
        mark = "✓" if result.ok else "✗"
        out.write(f"   {mark} {result.step.number:>3} {result.step.label()}: {result.message}\n")
        if not result.ok:
            if result.expected is not None and result.actual is not None:
                detail = result.diff()
            elif result.expected is not None:
                detail = "expected: " + json.dumps(result.expected, ensure_ascii=False)
            else:
                detail = ""
            out.write("".join(f"         {line}\n" for line in detail.splitlines()))
    for result in report.unexpected:
        out.write(f"   ✗  +  {result.step.label()}: {result.message}\n")
        if result.actual is not None:
            shown = json.dumps(result.actual, ensure_ascii=False)
            out.write(f"         {shown[:300]}\n")
    passed = sum(r.ok for r in report.results)
    verdict = "PASS" if report.ok else "FAIL"
    out.write(
        f"   {verdict}: {passed}/{len(report.results)} steps as recorded"
        + (f", {len(report.unexpected)} unexpected" if report.unexpected else "")
        + f" ({report.duration:.2f} s)\n"
    )


def _record(recording: str, result: StepResult, unexpected: bool = False) -> dict[str, Any]:
    step = result.step
    return {
        "recording": recording,
        "step": None if unexpected else step.number,
        "dir": step.direction.value,
        "kind": step.kind,
        "nsp": step.namespace,
        "event": step.name if step.kind == "event" else None,
        "ok": result.ok,
        "message": result.message,
        "expected": result.expected,
        "actual": result.actual,
    }


def write_json(report: ReplayReport, out: IO[str]) -> None:
    lines = [_record(report.recording, r) for r in report.results]
    lines += [_record(report.recording, r, unexpected=True) for r in report.unexpected]
    lines.append(
        {
            "recording": report.recording,
            "ok": report.ok,
            "error": report.error,
            "hint": report.hint,
            "duration": round(report.duration, 3),
        }
    )
    for line in lines:
        out.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")


def write_junit(reports: list[ReplayReport], path: str) -> None:
    """One testsuite per recording, one testcase per step (JUnit XML, as CI systems read)."""
    from xml.etree import ElementTree as ET

    suites = ET.Element("testsuites", name="siocli replay")
    for report in reports:
        cases = [*report.results, *report.unexpected]
        failures = sum(not r.ok for r in cases) + (report.error is not None)
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=report.recording,
            tests=str(len(cases) or 1),
            failures=str(failures),
            time=f"{report.duration:.3f}",
        )
        if report.error:
            case = ET.SubElement(suite, "testcase", name="connect", classname=report.recording)
            ET.SubElement(case, "failure", message=report.error).text = report.hint or ""
        for result in cases:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=report.recording,
                name=f"{result.step.number} {result.step.label()}",
            )
            if not result.ok:
                ET.SubElement(case, "failure", message=result.message).text = result.diff()
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
