"""Sums JUnit XML reports (bun test, pytest) into one closing line: "N passed, N failed"."""

import sys
import xml.etree.ElementTree as ET

passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as error:
        print(f"unreadable test report {path}: {error}", file=sys.stderr)
        failed += 1
        continue
    for case in root.iter("testcase"):
        outcome = {child.tag for child in case}
        if outcome & {"failure", "error"}:
            failed += 1
        elif "skipped" in outcome:
            skipped += 1
        else:
            passed += 1
suffix = f", {skipped} skipped" if skipped else ""
print(f"{passed} passed, {failed} failed{suffix}")
