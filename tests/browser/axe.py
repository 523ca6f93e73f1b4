"""axe-core (vendored: ``tests/browser/vendor/``) run in a Playwright page; serious and critical violations fail."""

from pathlib import Path

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
FAILING_IMPACTS = ("serious", "critical")


def axe_violations(page, *, impacts=FAILING_IMPACTS) -> list[dict]:
    """The violations of ``impacts`` on the page as it is now (WCAG 2.x A and AA rules and axe's best practices).

    The script is evaluated through the DevTools protocol, not a ``<script>`` tag, so the page's own
    Content-Security-Policy does not have to let it in."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)
    result = page.evaluate("async () => (await window.axe.run(document, {resultTypes: ['violations']})).violations")
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "nodes": [
                " ".join(node["target"]) if isinstance(node["target"], list) else node["target"]
                for node in violation["nodes"]
            ][:5],
        }  # fmt: skip
        for violation in result
        if violation["impact"] in impacts
    ]


def assert_no_serious_violations(page) -> None:
    violations = axe_violations(page)
    assert not violations, "axe-core found serious or critical violations:\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} at {v['nodes']}" for v in violations
    )
