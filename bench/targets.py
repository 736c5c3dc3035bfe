"""The targets, checked from the results table: pyslim against the best hand-written pattern of
the same case and run, per measure — the fastest of the patterns that make a slim image (every
one but `single`, which keeps the compile image), so the uv guide's where it wins and the pip
pattern's where that does.

usage: targets.py TABLE.md      prints a Markdown table, one row per case
"""

import sys

TARGETS = (
    "overhead ≤ 0.25 MB · cold ≤ 0.8× · app-change ≤ 0.7× (1 layer) · +1 requirement ≤ 0.5× · "
    "no change ≤ 1.0×"
)
# Patterns that are not a slim image: not what pyslim is measured against.
NOT_SLIM = {"single"}
OURS = ("pyslim", "pyslim-pip")


def rows(path):
    lines = [line for line in open(path) if line.startswith("| ") and "---" not in line]
    header = [cell.strip() for cell in lines[0].strip().strip("|").split("|")]
    for line in lines[1:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        yield dict(zip(header, cells))


def main(path):
    table = {(r["case"], r["pattern"]): r for r in rows(path)}
    cases = list(dict.fromkeys(case for case, _ in table))
    print(f"Targets: {TARGETS}. ✓ met, ✗ missed; each against the fastest hand-written pattern.")
    print()
    print("| case | overhead MB | cold | app-change | layers changed | +1 requirement | no change |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for case in cases:
        ours = table.get((case, "pyslim"))
        theirs = [
            r
            for (c, pattern), r in table.items()
            if c == case and pattern not in OURS and pattern not in NOT_SLIM
        ]
        if not ours or not theirs:
            continue

        def ratio(column, limit):
            best = min(theirs, key=lambda r: float(r[column]))
            value = float(ours[column]) / float(best[column])
            mark = "✓" if value <= limit else "✗"
            return f"{value:.2f}× {mark} ({ours[column]} vs {best[column]} s, {best['pattern']})"

        overhead = float(ours["overhead MB"])
        layers = ours["layers changed"]
        print(
            f"| {case} | {overhead:.2f} {'✓' if overhead <= 0.25 else '✗'} "
            f"| {ratio('cold s', 0.8)} | {ratio('app-change s', 0.7)} "
            f"| {layers} {'✓' if layers == '1' else '✗'} | {ratio('+1 requirement s', 0.5)} "
            f"| {ratio('no change s', 1.0)} |"
        )


if __name__ == "__main__":
    main(sys.argv[1])
