"""Replay results: step by step for people (with a diff of what differs), JSON Lines for
machines, JUnit XML for CI systems."""

from __future__ import annotations

import json
import os
from typing import IO, Any

from ..script import ReplayReport, Step, StepResult

__all__ = [
    "junit_problem",
    "not_replayed",
    "result_lines",
    "save_junit",
    "step_record",
    "write_human",
    "write_json",
    "write_junit",
    "write_verdict",
]


def write_human(report: ReplayReport, out: IO[str]) -> None:
    out.write(f"── {report.recording}\n")
    if report.error:
        out.write(f"   ✗ could not replay: {report.error}\n")
        if report.hint:
            out.write(f"     hint: {report.hint}\n")
        return
    for result in [*report.results, *report.unexpected]:
        out.write(result_lines(result))
    write_verdict(report, out)


def result_lines(result: StepResult, first: str = "   ") -> str:
    """A step's line (``+`` for what was not in the recording), then what differs."""
    step = result.step
    mark = "~" if result.race else "✓" if result.ok else "✗"
    number = f"{step.number:>3}" if step.number else " + "
    text = f"{first}{mark} {number} {step.label()}: {result.message}\n"
    if result.ok:
        return text
    if not step.number:
        detail = json.dumps(result.actual, ensure_ascii=False)[:300] if result.actual else ""
    elif result.expected is not None and result.actual is not None:
        detail = result.diff()
    elif result.expected is not None:
        detail = "expected: " + json.dumps(result.expected, ensure_ascii=False)
    else:
        detail = ""
    indent = " " * (len(first) + 6)
    return text + "".join(f"{indent}{line}\n" for line in detail.splitlines())


def write_verdict(report: ReplayReport, out: IO[str], first: str = "   ") -> None:
    passed = sum(r.ok for r in report.results)
    verdict = "PASS" if report.ok else "FAIL"
    out.write(
        f"{first}{verdict}: {passed}/{len(report.results)} steps"
        + (" of session 1" if report.not_replayed else "")
        + " as recorded"
        + (f", {len(report.unexpected)} unexpected" if report.unexpected else "")
        + (f", {report.races} race(s) in the recording (~)" if report.races else "")
        + (f"; {not_replayed(report.not_replayed)}" if report.not_replayed else "")
        + f" ({report.duration:.2f} s)\n"
    )


def not_replayed(later: list[list[Step]], verb: str = "replayed") -> str:
    """What a replay does not cover: the sessions after the first (reconnections)."""
    sessions = "session 2" if len(later) == 1 else f"sessions 2-{len(later) + 1}"
    steps = sum(len(steps) for steps in later)
    return f"{sessions} not {verb} ({steps} step{'s' * (steps != 1)})"


def step_record(recording: str, result: StepResult, unexpected: bool = False) -> dict[str, Any]:
    """A step's result as a JSON object (``step`` is null for what was not recorded)."""
    step = result.step
    return {
        "recording": recording,
        "step": None if unexpected else step.number,
        "dir": step.direction.value,
        "kind": step.kind,
        "nsp": step.namespace,
        "event": step.name if step.kind == "event" else None,
        "ok": result.ok,
        "race": result.race,
        "message": result.message,
        "expected": result.expected,
        "actual": result.actual,
    }


def write_json(report: ReplayReport, out: IO[str]) -> None:
    lines = [step_record(report.recording, r) for r in report.results]
    lines += [step_record(report.recording, r, unexpected=True) for r in report.unexpected]
    lines.append(
        {
            "recording": report.recording,
            "ok": report.ok,
            "error": report.error,
            "hint": report.hint,
            "duration": round(report.duration, 3),
            # the steps of the sessions after the first, which were not replayed
            "not_replayed": sum(len(steps) for steps in report.not_replayed),
        }
    )
    for line in lines:
        out.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")


def junit_problem(path: str) -> str | None:
    """Why a JUnit report cannot be written at ``path`` (None if it can), asked before the
    run rather than found after it: its missing directories are made, as pytest's
    --junitxml makes them, and the file is opened for writing (and left as it was)."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        if isinstance(exc, (FileExistsError, NotADirectoryError)):
            return f"cannot write {path}: a file stands where its directory would be"
        return f"cannot write {path}: cannot make {directory}: {exc.strerror}"
    existed = os.path.exists(path)
    try:
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        return f"cannot write {path}: {exc.strerror}"
    if not existed:
        os.remove(path)  # an interrupted run leaves no empty report for CI to misread
    return None


def save_junit(reports: list[ReplayReport], path: str, err: IO[str]) -> bool:
    """Write the JUnit report; if that fails after all (checked before the run, the disk
    may change since), say so on ``err`` and return False: the run's verdict, already
    shown, stands."""
    try:
        write_junit(reports, path)
    except OSError as exc:
        err.write(f"siocli: cannot write {path}: {exc.strerror}\n")
        return False
    return True


def write_junit(reports: list[ReplayReport], path: str) -> None:
    """One testsuite per recording, one testcase per step (JUnit XML, as CI systems read)."""
    from xml.etree import ElementTree as ET

    suites = ET.Element("testsuites", name="siocli replay")
    for report in reports:
        cases = [*report.results, *report.unexpected]
        failures = sum(not r.ok for r in cases) + (report.error is not None)
        # a later session is a skipped case per step, or one for the session if it has none
        skipped: list[tuple[int, Step | None]] = []
        for session, steps in enumerate(report.not_replayed, 2):
            skipped += [(session, step) for step in steps] or [(session, None)]
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=report.recording,
            tests=str(len(cases) + len(skipped) or 1),
            failures=str(failures),
            skipped=str(len(skipped)),
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
        for session, step in skipped:
            name = f"{step.number} {step.label()}" if step else f"session {session}"
            case = ET.SubElement(suite, "testcase", classname=report.recording, name=name)
            message = f"session {session} (a reconnection): replay plays the first session only"
            ET.SubElement(case, "skipped", message=message)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
