"""The issue's targets, checked from the results table: pyslim against the best hand-written
pattern of the same case, same run.

usage: targets.py TABLE.md      prints a Markdown table, one row per case
"""

import sys

TARGETS = "overhead ≤ 0.25 MB · app-change ≤ 1.0× (1 layer) · +1 requirement ≤ 0.5× · cold ≤ 0.8×"


def rows(path):
    lines = [line for line in open(path) if line.startswith("| ") and "---" not in line]
    header = [cell.strip() for cell in lines[0].strip().strip("|").split("|")]
    for line in lines[1:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        yield dict(zip(header, cells))


def main(path):
    table = {(r["case"], r["pattern"]): r for r in rows(path)}
    cases = list(dict.fromkeys(case for case, _ in table))
    print(f"Targets: {TARGETS}. ✓ met, ✗ missed.")
    print()
    print("| case | overhead MB | app-change | layers changed | +1 requirement | cold | no change (pyslim − best) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for case in cases:
        ours, best = table.get((case, "pyslim")), table.get((case, "best"))
        if not ours or not best:
            continue

        def ratio(column, limit):
            value = float(ours[column]) / float(best[column])
            mark = "✓" if value <= limit else "✗"
            return f"{value:.2f}× {mark} ({ours[column]} vs {best[column]} s)"

        overhead = float(ours["overhead MB"])
        layers = ours["layers changed"]
        no_change = float(ours["no change s"]) - float(best["no change s"])
        print(
            f"| {case} | {overhead:.2f} {'✓' if overhead <= 0.25 else '✗'} (best {best['overhead MB']}) "
            f"| {ratio('app-change s', 1.0)} | {layers} {'✓' if layers == '1' else '✗'} "
            f"| {ratio('+1 requirement s', 0.5)} | {ratio('cold s', 0.8)} | {no_change:+.1f} s |"
        )


if __name__ == "__main__":
    main(sys.argv[1])
